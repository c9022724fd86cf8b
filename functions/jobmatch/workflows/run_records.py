"""The failure handlers of the two records of a run (`runs.progress` for clients,
`runs.job_logs` for admins): both are `flow.on_failure`, which reads what Inngest
reported with `flow.failure_of` and runs one recording step."""

from __future__ import annotations

from jobmatch.runs import job_logs, progress
from jobmatch.runs.ref import RunRef
from jobmatch.step_contract import StepDeps
from jobmatch.workflows.flow import OnFailure, on_failure


def progress_failure(deps: StepDeps, function_id: str) -> OnFailure:
    """The failed run's progress says failed, and why (found by its run id, or by the
    id of the event that started it)."""
    return on_failure(
        deps,
        "record-failure",
        progress.record_failed,
        lambda failed: progress.RunFailed(
            ref=RunRef(failed.run_id, function_id, (failed.event_id,) if failed.event_id else ()),
            message=failed.message,
        ),
    )


def job_log_failure(deps: StepDeps, job_type: str) -> OnFailure:
    """The failed run's job log says FAILED, and why (created if the run died first)."""
    return on_failure(
        deps,
        "mark-job-log-failed",
        job_logs.fail_job,
        lambda failed: job_logs.FailJob(
            job_type=job_type, run_id=failed.run_id, message=failed.message
        ),
    )
