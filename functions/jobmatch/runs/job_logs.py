"""Job logs: what admins see of the tender functions' runs (RUNNING, SUCCESS,
FAILED, with counts and errors), the step bodies that write them.

A job log is the admins' record of a background run, as `runs.progress` is the
client's; both are written in the transaction of the work they report, and a
failed run's handler (`workflows.run_records`) closes either. How a log stays
true under retries and late steps is `runs.job_log_store`'s docstring.
"""

from __future__ import annotations

from typing import Any

from jobmatch.runs import job_log_store
from jobmatch.step_contract import StepDeps, StepInput, step_body


class NewJobLog(StepInput):
    """The job log of one run of a job type: who started it, with what."""

    job_type: str
    run_id: str
    triggered_by: str
    meta: dict[str, Any]


class JobLogOf(StepInput):
    """One job log."""

    job_log_id: int


class FinishJob(JobLogOf):
    """Close a job log SUCCESS with `counts`."""

    counts: dict[str, int]


class FailJob(StepInput):
    """A run's job log goes FAILED, with why."""

    job_type: str
    run_id: str
    message: str


class StuckFor(StepInput):
    """Job logs RUNNING for longer than `older_than_hours`."""

    older_than_hours: int


@step_body
def create_job_log(deps: StepDeps, inp: NewJobLog) -> int:
    """The run's job log id (created RUNNING the first time)."""
    with deps.unit_of_work() as uow:
        return job_log_store.create_job_log(
            uow, inp.job_type, inp.run_id, inp.triggered_by, inp.meta
        )


@step_body
def finish_job(deps: StepDeps, inp: FinishJob) -> None:
    """Close a job log SUCCESS with its counts."""
    with deps.unit_of_work() as uow:
        job_log_store.finish_job_log(uow, inp.job_log_id, inp.counts)


@step_body
def fail_job(deps: StepDeps, inp: FailJob) -> int:
    """Mark a run's job log FAILED (the failure handler's one step)."""
    with deps.unit_of_work() as uow:
        return job_log_store.fail_job_log(uow, inp.job_type, inp.run_id, inp.message)


@step_body
def fail_stuck_job_logs(deps: StepDeps, inp: StuckFor) -> int:
    """Job logs RUNNING for longer than `older_than_hours` -> FAILED."""
    with deps.unit_of_work() as uow:
        return job_log_store.fail_stuck_jobs(uow, inp.older_than_hours)
