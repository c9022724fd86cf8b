"""What the deployed package weighs, unzipped, per top-level package.

Lambda counts the function code and all its layers unzipped against 250 MB; our
goal is 60 MB, without an embedding model (none ships: Titan v2 runs in Bedrock
and the offline provider is code). By default the layer is built the way
`sam build` builds it (`make build-DepsLayer`, arm64 cp312 wheels) into a temp
folder, and measured twice in the same run: pip's output as installed (the
baseline) and what ships after layers/deps/slim.py. The function code is built
with functions/Makefile. With `--from-build .aws-sam/build` the artifacts of a
`sam build` are measured instead (CI does this after its sam build).

    python bench/layer_size.py [--from-build .aws-sam/build]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 60.0
LAMBDA_LIMIT_MB = 250.0
MB = 1_000_000


def make(folder: str, target: str, artifacts: Path, **variables: str) -> None:
    """One makefile build, as `sam build` runs it (ARTIFACTS_DIR set)."""
    extra = [f"{k}={v}" for k, v in variables.items()]
    subprocess.run(  # noqa: S603 - fixed make targets
        ["make", "-s", "--no-print-directory", "-C", str(ROOT / folder), target,  # noqa: S607
         f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}", *extra],
        check=True,
    )  # fmt: skip


def package_of(entry: Path) -> str:
    """The package a top-level entry of the layer belongs to."""
    name = entry.name
    if name.endswith(".dist-info"):
        return "(metadata: *.dist-info)"
    for suffix in (".libs", ".py"):
        name = name.removesuffix(suffix)
    return name.split(".cpython")[0]


def sizes(folder: Path) -> dict[str, int]:
    """Bytes per package of the top-level entries of `folder`."""
    totals: dict[str, int] = defaultdict(int)
    for entry in folder.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        totals[package_of(entry)] += sum(p.stat().st_size for p in files)
    return totals


def zipped(folder: Path, scratch: Path) -> int:
    """Bytes of `folder` as the deployment zip."""
    archive = shutil.make_archive(str(scratch / folder.name), "zip", folder)
    size = Path(archive).stat().st_size
    Path(archive).unlink()
    return size


def report(layer: Path, function: Path, raw: Path | None, scratch: Path) -> None:
    shipped = sizes(layer / "python")
    baseline = sizes(raw / "python") if raw else {}
    names = sorted(
        set(shipped) | set(baseline), key=lambda n: -max(shipped.get(n, 0), baseline.get(n, 0))
    )
    print("deps layer, unzipped, per top-level package (MB = 10^6 bytes):")
    header = f"  {'package':<28}" + (f"{'pip install':>12}" if raw else "") + f"{'shipped':>10}"
    print(header)
    for name in names:
        row = f"  {name:<28}"
        if raw:
            row += f"{baseline.get(name, 0) / MB:12.2f}"
        print(row + (f"{shipped[name] / MB:10.2f}" if name in shipped else f"{'cut':>10}"))
    layer_total, function_total = sum(shipped.values()), sum(sizes(function).values())
    total_row = f"  {'layer total':<28}" + (f"{sum(baseline.values()) / MB:12.2f}" if raw else "")
    print(total_row + f"{layer_total / MB:10.2f}")
    pad = " " * (12 if raw else 0)
    print(f"  {'layer zipped':<28}{pad}{zipped(layer, scratch) / MB:10.2f}")
    print(f"function code (Api), unzipped: {function_total / MB:.2f} MB")
    both = (layer_total + function_total) / MB
    verdict = "OK" if both <= GOAL_MB else "OVER"
    print(
        f"layer + function: {both:.1f} MB unzipped (goal <= {GOAL_MB:.0f} MB: {verdict}; "
        f"{both / LAMBDA_LIMIT_MB:.0%} of Lambda's {LAMBDA_LIMIT_MB:.0f} MB limit)"
    )
    print("embedding model: none ships (Titan v2 runs in Bedrock, the offline provider is code)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-build", type=Path, help="a `sam build` output folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.from_build:
            report(args.from_build / "DepsLayer", args.from_build / "Api", None, scratch)
            return
        raw, layer, function = scratch / "raw", scratch / "DepsLayer", scratch / "Api"
        make("layers/deps", "build-DepsLayer", raw, SLIM="true")
        shutil.copytree(raw, layer)
        subprocess.run(  # noqa: S603 - the layer build's own slimming step
            [sys.executable, str(ROOT / "layers" / "deps" / "slim.py"), str(layer / "python")],
            check=True,
        )
        make("functions", "build-Api", function)
        report(layer, function, raw, scratch)


if __name__ == "__main__":
    main()
