"""What the benchmarks report about runs the driver played: one row per call that
executed a step (its seconds, output size, the request that carried it)."""

from __future__ import annotations

import json
from typing import Any

STEP_BUDGET_S = 20.0
OUTPUT_BUDGET_B = 64 * 1024
REQUEST_LIMIT_B = 6 * 1024 * 1024


def step_table(runs: list[Any]) -> list[dict[str, Any]]:
    """One row per call that executed a step: its seconds, output and request bytes."""
    rows = []
    for run in runs:
        steps = {s.hashed_id: s for s in run.steps}
        for ex in run.exchanges:
            executed = [steps[h] for op, h in ex.ops if op in ("StepRun", "Step") and h in steps]
            for step in executed or [None]:
                rows.append(
                    {
                        "function": run.function_id.removeprefix("jobmatch-"),
                        "step": step.id if step else f"(function body, {ex.status})",
                        "seconds": ex.seconds,
                        "output_bytes": len(json.dumps(step.output).encode()) if step else 0,
                        "request_bytes": ex.request_bytes,
                    }
                )
    return rows


def budget_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The slowest step call and the largest step output against their budgets."""
    slowest = max(rows, key=lambda r: r["seconds"])
    largest = max(rows, key=lambda r: r["output_bytes"])
    return [
        f"slowest step call: {slowest['function']}/{slowest['step']} {slowest['seconds']:.2f} s "
        f"(budget {STEP_BUDGET_S:.0f} s: {'OK' if slowest['seconds'] < STEP_BUDGET_S else 'OVER'})",
        f"largest step output: {largest['function']}/{largest['step']} "
        f"{largest['output_bytes']:,} B (budget {OUTPUT_BUDGET_B:,} B: "
        f"{'OK' if largest['output_bytes'] < OUTPUT_BUDGET_B else 'OVER'})",
    ]
