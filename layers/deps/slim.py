"""Cut what nothing reads at run time from a freshly installed layer folder.

    python slim.py <layer>/python

- Distributions the python3.12 runtime already holds (runtime-provided.txt), which
  pip installed as dependencies (aws-xray-sdk needs botocore): removed file by file
  from their RECORD, so nothing of another distribution goes with them.
- Byte-code caches, test suites (`<package>/tests`, `<package>/testing`: only a
  package's own test harness; a deeper `tests` may be a real module), type stubs
  and markers (`*.pyi`, `py.typed`, `*-stubs`), C/Cython sources, loose docs
  (`*.md`, `*.rst` outside the metadata, which keeps the licences), console
  scripts (`bin/`: not on PATH), the install RECORDs (pip's uninstall list).
- Powertools' Swagger UI assets (1.7 MB of JavaScript and CSS, served only by its
  own event handler, which the app does not use: FastAPI serves /docs).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_SUFFIXES = (".pyi", ".pyx", ".pxd", ".c", ".h")
DOC_SUFFIXES = (".md", ".rst")
TEST_DIRS = ("tests", "testing")
SWAGGER_UI = "aws_lambda_powertools/event_handler/openapi/swagger_ui"


def canonical(name: str) -> str:
    """PEP 503 name: `python_dateutil` and `Python-Dateutil` are `python-dateutil`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_provided() -> set[str]:
    """Canonical names listed in runtime-provided.txt."""
    lines = (line.split("#", 1)[0].strip() for line in (HERE / "runtime-provided.txt").open())
    return {canonical(line) for line in lines if line}


def remove_distribution(target: Path, dist_info: Path) -> None:
    """Every file the distribution's RECORD lists, then its now-empty folders."""
    folders: set[Path] = set()
    for line in (dist_info / "RECORD").read_text().splitlines():
        relative = line.rsplit(",", 2)[0]
        path = (target / relative).resolve()
        if target.resolve() in path.parents and path.is_file():
            path.unlink()
            folders.update(p for p in path.parents if target.resolve() in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        for cache in folder.glob("__pycache__"):
            shutil.rmtree(cache)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(dist_info, ignore_errors=True)


def slim(target: Path) -> None:
    """Apply every cut above to the folder pip installed into."""
    provided = runtime_provided()
    for dist_info in target.glob("*.dist-info"):
        if canonical(dist_info.name.split("-", 1)[0]) in provided:
            remove_distribution(target, dist_info)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    for name in TEST_DIRS:
        for folder in target.glob(f"*/{name}"):
            shutil.rmtree(folder)
    for stubs in target.glob("*-stubs"):
        shutil.rmtree(stubs)
    shutil.rmtree(target / "bin", ignore_errors=True)
    for asset in (target / SWAGGER_UI).glob("*.*"):
        if asset.suffix in (".js", ".css"):
            asset.unlink()
    for path in list(target.rglob("*")):
        in_metadata = any(p.name.endswith(".dist-info") for p in path.parents)
        if not path.is_file():
            continue
        if (
            path.suffix in SOURCE_SUFFIXES
            or path.name == "py.typed"
            or (path.suffix in DOC_SUFFIXES and not in_metadata)
            or (in_metadata and path.name == "RECORD")
        ):
            path.unlink()


if __name__ == "__main__":
    slim(Path(sys.argv[1]))
