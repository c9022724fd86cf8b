"""Job logs in PostgreSQL: what admins see of background runs (RUNNING, SUCCESS,
FAILED), the tender functions' run records (`runs.progress` is the other reader's).

A log is keyed by (job_type, Inngest run id). Every write is idempotent: creating
twice returns the first row, counts are written as totals, and closing a log that
is already closed changes nothing. Counts are written only while the log is
RUNNING, so a closed log is never rewritten: not by a late failure handler or a
stuck-job sweep, and not by the slow first try of a step that Inngest retried
after a gateway timeout and that finishes after the run has committed.

A sync records its pages one entry per page number (`record_page`), so its
counts say what the sync did however often a page step ran; the totals are sums
over the entries, and the entries are dropped when the log closes (the admin
list returns counts, and a long sync has hundreds of pages).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from jobmatch.db.models import JobLog

MAX_ERROR_CHARS = 4000
BY_PAGE = "by_page"
# What a page held: the latest try's view replaces an earlier one.
PAGE_SEEN = ("fetched", "skipped_malformed", "malformed_pages")
# What a page wrote: each try adds the rows it changed (a replay changes none).
PAGE_WRITTEN = ("saved", "new")
INVALID_FIELDS = "invalid_fields"


def _running(job_log_id: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return JobLog.id == job_log_id, JobLog.status == "RUNNING"


def _without_pages() -> ColumnElement[Any]:
    """The counts without the per-page entries (for a log being closed)."""
    return JobLog.counts.op("-")(literal(BY_PAGE, Text))


def create_job_log(
    uow: Session, job_type: str, run_id: str, triggered_by: str | None, meta: dict[str, Any]
) -> int:
    """The log of this run, created RUNNING on first call; its id."""
    uow.execute(
        insert(JobLog)
        .values(job_type=job_type, run_id=run_id, triggered_by=triggered_by, meta=meta)
        .on_conflict_do_nothing(constraint="uq_job_logs_job_type_run_id")
    )
    return uow.scalars(
        select(JobLog.id).where(JobLog.job_type == job_type, JobLog.run_id == run_id)
    ).one()


def set_counts(uow: Session, job_log_id: int, counts: dict[str, Any]) -> None:
    """Merge totals into the counts of a RUNNING log (a replay writes the same totals)."""
    uow.execute(
        update(JobLog)
        .where(*_running(job_log_id))
        .values(counts=JobLog.counts.op("||")(literal(counts, JSONB)))
    )


def page_totals(pages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The sync's totals: every count summed over the page entries."""
    entries = list(pages)
    totals: dict[str, Any] = {
        key: sum(int(entry.get(key, 0)) for entry in entries) for key in PAGE_SEEN + PAGE_WRITTEN
    }
    fields: Counter[str] = Counter()
    for entry in entries:
        fields.update(entry.get(INVALID_FIELDS, {}))
    totals[INVALID_FIELDS] = dict(sorted(fields.items()))
    return totals


def record_page(
    uow: Session,
    job_log_id: int,
    page: int,
    seen: Mapping[str, Any],
    written: Mapping[str, int],
) -> dict[str, Any] | None:
    """Record page `page` of a RUNNING sync and recompute its totals; the page's entry,
    or None when the log is closed (a late try: the log stays as it was closed).

    Call it in the transaction that wrote the page, so an entry exists exactly when
    the page's rows were committed; the row lock orders two tries of one page."""
    counts = uow.scalar(select(JobLog.counts).where(*_running(job_log_id)).with_for_update())
    if counts is None:
        return None
    pages = dict(counts.get(BY_PAGE) or {})
    before = pages.get(str(page), {})
    entry = {key: value for key, value in seen.items() if value}
    entry |= {key: int(before.get(key, 0)) + int(written.get(key, 0)) for key in PAGE_WRITTEN}
    pages[str(page)] = entry
    uow.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id)
        .values(counts={**counts, **page_totals(pages.values()), BY_PAGE: pages})
    )
    return {key: entry.get(key, 0) for key in PAGE_SEEN + PAGE_WRITTEN} | {
        INVALID_FIELDS: entry.get(INVALID_FIELDS, {})
    }


def merge_meta(uow: Session, job_log_id: int, meta: dict[str, Any]) -> None:
    """Add facts about the run (its date range, its trigger's parameters)."""
    uow.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id)
        .values(meta=JobLog.meta.op("||")(literal(meta, JSONB)))
    )


def finish_job_log(uow: Session, job_log_id: int, counts: dict[str, Any]) -> dict[str, Any]:
    """RUNNING -> SUCCESS with the final counts merged in; returns the log's counts
    (a replay finds the log closed, changes nothing and returns the same)."""
    uow.execute(
        update(JobLog)
        .where(*_running(job_log_id))
        .values(
            status="SUCCESS",
            finished_at=func.now(),
            error=None,
            counts=_without_pages().op("||")(literal(counts, JSONB)),
        )
    )
    return dict(uow.scalars(select(JobLog.counts).where(JobLog.id == job_log_id)).one())


def fail_job_log(
    uow: Session, job_type: str, run_id: str, error: str, triggered_by: str | None = None
) -> int:
    """Mark a run's log FAILED, creating it if the run died before writing it."""
    create_job_log(uow, job_type, run_id, triggered_by, {})
    uow.execute(
        update(JobLog)
        .where(JobLog.job_type == job_type, JobLog.run_id == run_id, JobLog.status == "RUNNING")
        .values(
            status="FAILED",
            finished_at=func.now(),
            error=error[:MAX_ERROR_CHARS],
            counts=_without_pages(),
        )
    )
    return uow.scalars(
        select(JobLog.id).where(JobLog.job_type == job_type, JobLog.run_id == run_id)
    ).one()


def fail_stuck_jobs(uow: Session, older_than_hours: int, now: datetime | None = None) -> int:
    """RUNNING for longer than any real run takes -> FAILED, with the reason."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=older_than_hours)
    result = uow.execute(
        update(JobLog)
        .where(JobLog.status == "RUNNING", JobLog.started_at < cutoff)
        .values(
            status="FAILED",
            finished_at=func.now(),
            error=f"stuck in RUNNING for more than {older_than_hours} h; closed by cleanup",
            counts=_without_pages(),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_alerts(uow: Session, job_log_id: int, total: int) -> None:
    """Write a sync's alert total onto its log (closed by then: the alerts of a sync
    are sent after it succeeded, so this is the one write to a closed log)."""
    uow.execute(
        update(JobLog)
        .where(JobLog.id == job_log_id)
        .values(counts=JobLog.counts.op("||")(literal({"alerts": total}, JSONB)))
    )


@dataclass(frozen=True)
class JobLogRow:
    """One job log as admins see it."""

    id: int
    job_type: str
    run_id: str
    status: str
    triggered_by: str | None
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    meta: dict[str, Any]
    error: str | None


def page(
    uow: Session,
    *,
    job_type: str | None,
    status: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[JobLogRow], int]:
    """Job logs newest first, filtered by type, status and start time: one page of
    them, and how many match in all."""
    filters: list[ColumnElement[bool]] = []
    if job_type:
        filters.append(JobLog.job_type == job_type)
    if status:
        filters.append(JobLog.status == status)
    if since:
        filters.append(JobLog.started_at >= since)
    total = uow.scalar(select(func.count()).select_from(JobLog).where(*filters)) or 0
    rows = uow.scalars(
        select(JobLog).where(*filters).order_by(JobLog.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        JobLogRow(
            r.id,
            r.job_type,
            r.run_id,
            r.status,
            r.triggered_by,
            r.started_at,
            r.finished_at,
            dict(r.counts),
            dict(r.meta),
            r.error,
        )
        for r in rows
    ], int(total)
