"""The matching benchmark on two revisions, alternating, on this machine and load.

    .venv/bin/python bench/matching_compare.py [--baseline cbf0cbf] [--rounds 2]

A change is held to "the matching benchmark's figures (speed, slowest step, largest
output) do not get worse by more than 20 %". Figures of runs hours apart on a shared
machine differ by more than that, so this script checks the baseline revision out
into a temporary git worktree and runs `bench/matching_bench.py` of each revision
in turn (baseline, current, baseline, ...) on the same embedded server, then prints
each figure's median next to the baseline's and the change in per cent. The
default baseline is `main` before roles by meaning (#9) were merged.

The baseline runs with this checkout's virtualenv (its dependencies are a subset),
its own code on PYTHONPATH, and reads its own `bench/matching_bench.py`; only the
lines both versions print are compared.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_PER_CENT = 20.0

# Figure name -> pattern on the bench's output; the first group is the number.
FIGURES = {
    "engine seconds (a)": r"\(a\) engine: ([\d.,]+) s",
    "stored matches (a)": r"-> ([\d,]+) stored",
    "slowest step seconds (c)": r"\(c\) slowest step: \S+ ([\d.,]+) s",
    "largest step output bytes (d)": r"\(d\) largest step output: \S+ ([\d,]+) bytes",
    "match-with-fallback bytes (d)": r"match-with-fallback \(top \d+\) ([\d,]+) bytes",
}
HELD_TO_LIMIT = {
    "engine seconds (a)",
    "slowest step seconds (c)",
    "largest step output bytes (d)",
}

NOT_HELD = {
    "stored matches (a)": " (a count, not a cost)",
    "match-with-fallback bytes (d)": " (grows with the results found, at most top 50)",
}


def run_bench(checkout: Path, args: list[str]) -> dict[str, float]:
    """One run of `checkout`'s matching bench; its figures by name."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            str(checkout / part) for part in ("functions", "devkit", "bench")
        ),
    )
    env.setdefault("DATA_DIR", str(ROOT / ".data"))
    out = subprocess.run(  # noqa: S603 - this interpreter and a checkout's bench
        [sys.executable, str(checkout / "bench" / "matching_bench.py"), *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    for name, pattern in FIGURES.items():
        found = re.search(pattern, out)
        if found:
            figures[name] = float(found.group(1).replace(",", ""))
    return figures


def git(*args: str) -> None:
    """Run git in this checkout (the worktree of the baseline is its only use)."""
    subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True)  # noqa: S603,S607


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="cbf0cbf", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    args = parser.parse_args()
    bench_args = ["--candidates", str(args.candidates), "--jobs", str(args.jobs)]

    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory(prefix="jobmatch-baseline-") as tmp:
        baseline = Path(tmp) / "checkout"
        git("worktree", "add", "--detach", str(baseline), args.baseline)
        try:
            for k in range(args.rounds):
                for label, checkout in (("baseline", baseline), ("current", ROOT)):
                    runs[label].append(run_bench(checkout, bench_args))
                    print(f"round {k + 1}: {label} {runs[label][-1]}", flush=True)
        finally:
            git("worktree", "remove", "--force", str(baseline))

    print(f"\nmedians of {args.rounds} alternating runs; baseline {args.baseline}, current HEAD")
    print(f"{'figure':34} {'baseline':>12} {'current':>12} {'change':>9}")
    worst = 0.0
    for name in FIGURES:
        base = [r[name] for r in runs["baseline"] if name in r]
        cur = [r[name] for r in runs["current"] if name in r]
        if not base or not cur:
            continue
        b, c = statistics.median(base), statistics.median(cur)
        change = (c - b) / b * 100 if b else 0.0
        if name in HELD_TO_LIMIT:
            worst = max(worst, change)
        mark = " (held to +20 %)" if name in HELD_TO_LIMIT else NOT_HELD.get(name, "")
        print(f"{name:34} {b:>12,.2f} {c:>12,.2f} {change:>+8.1f}%{mark}")
    verdict = "within" if worst <= LIMIT_PER_CENT else "OVER"
    print(f"worst change of the figures held to the limit: {worst:+.1f} % ({verdict} +20 %)")


if __name__ == "__main__":
    sys.exit(main())
