"""Job logs: what admins see of background runs (RUNNING, SUCCESS, FAILED).

A log is keyed by (job_type, Inngest run id). Every write is idempotent: creating
twice returns the first row, counts are written as totals (never incremented), and
closing a log that is already closed changes nothing, so a SUCCESS is never
overwritten by a late failure handler or a stuck-job sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from jobmatch.db.models import JobLog

MAX_ERROR_CHARS = 4000


def create_job_log(
    session: Session, job_type: str, run_id: str, triggered_by: str | None, meta: dict[str, Any]
) -> int:
    """The log of this run, created RUNNING on first call; its id."""
    session.execute(
        insert(JobLog)
        .values(job_type=job_type, run_id=run_id, triggered_by=triggered_by, meta=meta)
        .on_conflict_do_nothing(constraint="uq_job_logs_job_type_run_id")
    )
    return session.scalars(
        select(JobLog.id).where(JobLog.job_type == job_type, JobLog.run_id == run_id)
    ).one()


def set_counts(session: Session, job_log_id: int, counts: dict[str, Any]) -> None:
    """Merge totals into the log's counts (a replay writes the same totals)."""
    session.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id)
        .values(counts=JobLog.counts.op("||")(literal(counts, JSONB)))
    )


def merge_meta(session: Session, job_log_id: int, meta: dict[str, Any]) -> None:
    """Add facts about the run (its date range, its trigger's parameters)."""
    session.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id)
        .values(meta=JobLog.meta.op("||")(literal(meta, JSONB)))
    )


def finish_job_log(session: Session, job_log_id: int, counts: dict[str, Any]) -> None:
    """RUNNING -> SUCCESS with the final counts."""
    set_counts(session, job_log_id, counts)
    session.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id, JobLog.status == "RUNNING")
        .values(status="SUCCESS", finished_at=func.now(), error=None)
    )


def fail_job_log(
    session: Session, job_type: str, run_id: str, error: str, triggered_by: str | None = None
) -> int:
    """Mark a run's log FAILED, creating it if the run died before writing it."""
    create_job_log(session, job_type, run_id, triggered_by, {})
    session.execute(
        update(JobLog)
        .where(JobLog.job_type == job_type, JobLog.run_id == run_id, JobLog.status == "RUNNING")
        .values(status="FAILED", finished_at=func.now(), error=error[:MAX_ERROR_CHARS])
    )
    return session.scalars(
        select(JobLog.id).where(JobLog.job_type == job_type, JobLog.run_id == run_id)
    ).one()


def fail_stuck_jobs(session: Session, older_than_hours: int, now: datetime | None = None) -> int:
    """RUNNING for longer than any real run takes -> FAILED, with the reason."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=older_than_hours)
    result = session.execute(
        update(JobLog)
        .where(JobLog.status == "RUNNING", JobLog.started_at < cutoff)
        .values(
            status="FAILED",
            finished_at=func.now(),
            error=f"stuck in RUNNING for more than {older_than_hours} h; closed by cleanup",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
