"""Run progress: how far a long run has come, for a client following it.

Steps record their progress in the same transaction as their work
(`advance`), so the record never runs ahead of what is committed. Each step of a
run has an ordinal; `advance` moves `steps_done` forward only, which makes it a
receipt too: a step that finds its ordinal already recorded knows its work was
committed by an earlier try (a retry after a gateway timeout) and must not be
repeated. The step that aggregates view counts relies on exactly that.

A run is found by its Inngest run id or by the id of an event that started it
(`POST /api/events` answers with those ids). Failure is recorded by the
function's on-failure handler (`record_failed`, run by the one handler
`workflows.flow.on_failure`). Old records are pruned (`prune_old`).

Progress and job logs (`runs.job_log_store`) are one concept, the record of a
background run, kept in two tables for two readers: a client following its own
request here, admins reading the tender jobs' counts there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobmatch.runs import progress_store
from jobmatch.runs.progress_store import MAX_MESSAGE, advance, find
from jobmatch.runs.ref import RunRef
from jobmatch.step_contract import StepDeps, StepInput, step_body

__all__ = [
    "MAX_MESSAGE",
    "Finished",
    "Prune",
    "RunFailed",
    "RunRef",
    "advance",
    "find",
    "finish_run",
    "prune_old",
    "record_failed",
]


class Finished(StepInput):
    """The run's last step, `step`, and what it did."""

    ref: RunRef
    step: int
    detail: dict[str, Any]


class RunFailed(StepInput):
    """A run that failed for good, and why."""

    ref: RunRef
    message: str


class Prune(StepInput):
    """Records not updated for `keep_days` go."""

    keep_days: int


@step_body
def finish_run(deps: StepDeps, inp: Finished) -> bool:
    """Mark the run completed at its last step (False: recorded before)."""
    with deps.unit_of_work() as uow:
        return advance(uow, inp.ref, inp.step, done=True, detail=inp.detail)


@step_body
def record_failed(deps: StepDeps, inp: RunFailed) -> None:
    """A run failed for good (its on-failure handler): say so, and why."""
    with deps.unit_of_work() as uow:
        progress_store.mark_failed(uow, inp.ref, inp.message)


@step_body
def prune_old(deps: StepDeps, inp: Prune) -> int:
    """Forget records not updated for `keep_days`; how many."""
    with deps.unit_of_work() as uow:
        return progress_store.prune(uow, datetime.now(UTC) - timedelta(days=inp.keep_days))
