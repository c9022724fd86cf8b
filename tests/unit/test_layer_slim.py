"""layers/deps/slim.py cuts exactly what nothing reads at run time.

The layer build runs it on pip's output; here it runs on a small folder laid out
the way pip lays one out, so each cut (and each thing it must keep) is checked
without a download.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_slim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slim", ROOT / "layers" / "deps" / "slim.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(target: Path, dist: str, files: dict[str, str]) -> None:
    """Files as pip writes them, plus the dist-info whose RECORD lists them."""
    info = target / f"{dist}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: {dist.split('-')[0]}\n")
    (info / "licenses").mkdir()
    (info / "licenses" / "LICENSE.md").write_text("licence text")
    records = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (info / "RECORD").write_text("".join(f"{r},sha256=x,1\n" for r in records))


def test_runtime_provided_distributions_go_file_by_file(tmp_path: Path) -> None:
    target = tmp_path / "python"
    outside = tmp_path / "outside.py"
    outside.write_text("not ours")
    install(target, "botocore-1.44.5", {"botocore/__init__.py": "", "botocore/data/e.json": "{}"})
    install(
        target,
        "python_dateutil-2.9.0.post0",
        {"dateutil/__init__.py": "", "../outside.py": "not ours"},
    )
    install(target, "six-1.17.0", {"six.py": ""})
    # A package that shares nothing with them but sits next to them stays whole.
    install(target, "pydantic-2.14.3", {"pydantic/__init__.py": "", "pydantic/v1/main.py": ""})

    load_slim().slim(target)

    left = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert left == [
        "pydantic-2.14.3.dist-info/METADATA",
        "pydantic-2.14.3.dist-info/licenses/LICENSE.md",
        "pydantic/__init__.py",
        "pydantic/v1/main.py",
    ]
    assert not (target / "botocore").exists()
    assert outside.read_text() == "not ours", "a RECORD path outside the layer is never touched"


def test_tests_stubs_sources_docs_and_caches_go_code_stays(tmp_path: Path) -> None:
    target = tmp_path / "python"
    swagger = "aws_lambda_powertools/event_handler/openapi/swagger_ui"
    install(
        target,
        "pkg-1.0",
        {
            "pkg/__init__.py": "",
            "pkg/core.pyi": "",
            "pkg/py.typed": "",
            "pkg/_speedups.c": "",
            "pkg/_speedups.cpython-312-aarch64-linux-gnu.so": "",
            "pkg/_cy.pxd": "",
            "pkg/README.md": "",
            "pkg/tests/test_core.py": "",
            "pkg/testing/fixtures.py": "",
            "pkg/sub/tests/__init__.py": "",  # deeper: may be a real module
            "pkg/__pycache__/core.cpython-312.pyc": "",
            "pkg-stubs/__init__.pyi": "",
            "bin/pkg-cli": "",
            f"{swagger}/__init__.py": "",
            f"{swagger}/html.py": "",
            f"{swagger}/swagger-ui-bundle.min.js": "",
            f"{swagger}/swagger-ui.min.css": "",
        },
    )

    load_slim().slim(target)

    left = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert left == [
        f"{swagger}/__init__.py",
        f"{swagger}/html.py",
        "pkg-1.0.dist-info/METADATA",
        "pkg-1.0.dist-info/licenses/LICENSE.md",
        "pkg/__init__.py",
        "pkg/_speedups.cpython-312-aarch64-linux-gnu.so",
        "pkg/sub/tests/__init__.py",
    ]


def test_the_runtime_provided_list_is_read_from_its_file() -> None:
    provided = load_slim().runtime_provided()
    assert {"boto3", "botocore", "python-dateutil", "snapshot-restore-py"} <= provided
