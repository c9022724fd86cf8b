"""The bodies of the tender functions' steps: plain functions, JSON in, small JSON out.

Each opens its own database session and closes it before returning, so no
connection is held between steps, and each is safe to run twice (see
`repository` and `job_logs`). Outputs are counts, cursors and ids only: Inngest
sends every memoized output back with each later step call.

Where pages go: straight into `tenders`. Each fetch-page step compiles its page
and upserts it (newest release wins, field by field), so the page step *is* the
batch save, and no staging table has to be written, read back and cleaned.
Because the upsert is idempotent and order-independent, a page replayed after a
retry, or a range fetched again after a failed run, changes nothing; the cursor
is advanced only after the last page is saved, so a failed run leaves no gap.

Besides their JSON arguments, steps take what they use (the settings, the LLM,
the mailer): the workflow hands them over from its `Dependencies`. Each is a
`legacy_step_body`: a publisher that refuses the request (`PublisherRejectedError`: a 4xx,
an answer that is not a release package) ends the run at once; its failure
handler marks the job log FAILED, and the cursor, unmoved, has the next run ask
for the same range again.

Counts come from the job log, not from step outputs: a page step retried after a
gateway timeout, whose first try did commit, saves nothing the second time, and
its memoized output says so. Each page records itself on the log in the
transaction that saved it (`job_logs.record_page`), and `commit_sync` reports the
log's totals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from jobmatch.ai.llm import LLM
from jobmatch.db.models import Tender
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.mail import Mailer
from jobmatch.observability import metrics
from jobmatch.settings import Settings
from jobmatch.tenders import alerts, job_logs, repository
from jobmatch.tenders.compile import compile_page
from jobmatch.tenders.ocds_client import OCDSClient, PageRef


@legacy_step_body
def create_job_log(job_type: str, run_id: str, triggered_by: str, meta: dict[str, Any]) -> int:
    """The run's job log id (created RUNNING the first time)."""
    with session_scope() as session:
        return job_logs.create_job_log(session, job_type, run_id, triggered_by, meta)


@legacy_step_body
def determine_date_range(
    job_log_id: int, settings: Settings, now: str | None = None
) -> dict[str, str]:
    """[cursor - overlap, now] (first run: [now - lookback, now]); the end is at most
    max-window past the cursor, so a long backlog is caught up over several runs."""
    end = datetime.fromisoformat(now) if now else datetime.now(UTC)
    lookback = timedelta(days=settings.tender_sync_lookback_days)
    with session_scope() as session:
        cursor = repository.get_cursor(session)
        base = cursor if cursor is not None else end - lookback
        start = base - timedelta(minutes=settings.tender_sync_overlap_minutes) if cursor else base
        end = min(end, base + timedelta(days=settings.tender_sync_max_window_days))
        window = {"dateFrom": start.isoformat(), "dateTo": end.isoformat()}
        job_logs.merge_meta(session, job_log_id, window)
    return window


@legacy_step_body
def fetch_page(
    job_log_id: int,
    date_from: str,
    date_to: str,
    ref: PageRef | None,
    page: int,
    settings: Settings,
) -> dict[str, Any]:
    """Fetch page number `page`, compile it into `tenders`, record it on the job log;
    the page's counts (as the log has them) and where the next page is. The fetch,
    retries included, ends by the step's deadline, leaving the rest for the save."""
    deadline = Deadline.after(settings.step_budget_seconds)
    with OCDSClient(settings) as client:  # the HTTP work happens before any connection is taken
        got = client.fetch_page(
            datetime.fromisoformat(date_from), datetime.fromisoformat(date_to), ref, deadline
        )
    if got.malformed_page:
        # Releases of the window that this sync does not read: an alarm watches it.
        metrics.add_metric(name="TenderPagesMalformed", unit="Count", value=1)
    rows = compile_page(got.releases)
    seen = {
        "fetched": got.fetched,
        "skipped_malformed": got.skipped,
        "malformed_pages": int(got.malformed_page),
        job_logs.INVALID_FIELDS: got.invalid_fields,
    }
    with session_scope() as session:
        inserted, updated = repository.upsert_tenders(session, rows, job_log_id)
        written = {"saved": inserted + updated, "new": inserted}
        recorded = job_logs.record_page(session, job_log_id, page, seen, written)
    return {
        **(recorded or {**seen, **written}),
        "next": got.next_ref,
        "totalPages": got.total_pages,
    }


@legacy_step_body
def configure_enrichment(
    max_enrichment: int | None, settings: Settings, llm: LLM | None
) -> dict[str, Any]:
    """AI (LLM refinement, one event per tender) or rules only, and how many at most."""
    default = settings.tender_enrichment_default_max
    return {
        "mode": "ai" if llm is not None else "rules",
        "limit": default if max_enrichment is None else max_enrichment,
        "batchSize": settings.tender_fanout_batch_size,
    }


@legacy_step_body
def select_enrichment_batch(
    column: str, date_from: str, date_to: str, after_ocid: str, limit: int
) -> list[dict[str, str]]:
    """The next tenders missing a category: [{ocid, publishedAt}] (<= 100 rows: ~10 KB)."""
    with session_scope() as session:
        rows = repository.missing_category_batch(
            session,
            column=column,
            date_from=datetime.fromisoformat(date_from),
            date_to=datetime.fromisoformat(date_to),
            after_ocid=after_ocid,
            limit=limit,
        )
    return [{"ocid": ocid, "publishedAt": published.isoformat()} for ocid, published in rows]


@legacy_step_body
def commit_sync(job_log_id: int, date_to: str, counts: dict[str, int]) -> dict[str, Any]:
    """Advance the cursor and close the job log SUCCESS in one transaction: the cursor
    has moved exactly when the log says the sync succeeded. Returns the cursor and
    the log's final counts (page totals, plus `counts`, plus the new tenders
    counted in the database)."""
    with session_scope() as session:
        new = session.scalar(
            select(func.count()).select_from(Tender).where(Tender.first_job_log_id == job_log_id)
        )
        cursor = repository.advance_cursor(session, datetime.fromisoformat(date_to))
        final = job_logs.finish_job_log(session, job_log_id, {**counts, "new": new or 0})
    return {**final, "cursor": cursor.isoformat()}


@legacy_step_body
def finish_job(job_log_id: int, counts: dict[str, Any]) -> None:
    """Close a job log SUCCESS with its counts."""
    with session_scope() as session:
        job_logs.finish_job_log(session, job_log_id, counts)


@legacy_step_body
def fail_job(job_type: str, run_id: str, error: str) -> int:
    """Mark a run's job log FAILED (the failure handler's one step)."""
    with session_scope() as session:
        return job_logs.fail_job_log(session, job_type, run_id, error)


@legacy_step_body
def alert_batch(
    job_log_id: int, after_id: int, settings: Settings, mailer: Mailer
) -> dict[str, Any]:
    """Email the next batch of subscribers their digest of this sync's new tenders."""
    with session_scope() as session:
        return alerts.process_alert_batch(
            session,
            job_log_id,
            after_id,
            settings.tender_alert_batch_size,
            settings.tender_alert_max_items,
            mailer,
        )


@legacy_step_body
def record_alerts(job_log_id: int) -> int:
    """Write the sync's alert total onto its job log."""
    with session_scope() as session:
        return alerts.record_alert_count(session, job_log_id)


@legacy_step_body
def fail_stuck_job_logs(older_than_hours: int) -> int:
    """Job logs RUNNING for longer than `older_than_hours` -> FAILED."""
    with session_scope() as session:
        return job_logs.fail_stuck_jobs(session, older_than_hours)
