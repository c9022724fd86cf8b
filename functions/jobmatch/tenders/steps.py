"""The bodies of the tender functions' steps: typed input in, small typed output out.

Each opens its own unit of work and closes it before returning, so no
connection is held between steps, and each is safe to run twice (see
`store` and `runs.job_log_store`). Outputs are counts, cursors and ids only:
Inngest sends every memoized output back with each later step call.

Where pages go: straight into `tenders`. Each fetch-page step compiles its page
and upserts it (newest release wins, field by field), so the page step *is* the
batch save, and no staging table has to be written, read back and cleaned.
Because the upsert is idempotent and order-independent, a page replayed after a
retry, or a range fetched again after a failed run, changes nothing; the cursor
is advanced only after the last page is saved, so a failed run leaves no gap.

Steps reach what they use (the settings, the LLM, the mailer) through the
`deps` they are given. Each is a `step_body`: a publisher that refuses the
request (`PublisherRejectedError`: a 4xx, an answer that is not a release
package) ends the run at once; its failure handler marks the job log FAILED, and
the cursor, unmoved, has the next run ask for the same range again.

Counts come from the job log, not from step outputs: a page step retried after a
gateway timeout, whose first try did commit, saves nothing the second time, and
its memoized output says so. Each page records itself on the log in the
transaction that saved it (`job_log_store.record_page`), and `commit_sync` reports the
log's totals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field

from jobmatch.deadline import Deadline
from jobmatch.observability import metrics
from jobmatch.runs import job_log_store
from jobmatch.runs.job_logs import JobLogOf
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body
from jobmatch.tenders import alerts, store
from jobmatch.tenders.alerts import AlertBatch
from jobmatch.tenders.compile import compile_page
from jobmatch.tenders.ocds_client import OCDSClient, PageRef


class Window(StepOutput):
    """The range of release dates one sync asks for."""

    date_from: datetime
    date_to: datetime


class DateRange(JobLogOf):
    """A sync's range, as of `now` (None: the clock's now)."""

    now: datetime | None = None


class FetchPage(JobLogOf):
    """Page number `page` of a sync's window, at `ref` (None: the first page)."""

    date_from: datetime
    date_to: datetime
    ref: PageRef | None
    page: int


class PageCounts(StepOutput):
    """One page's counts as the job log has them, and where the next page is."""

    fetched: int
    skipped_malformed: int
    malformed_pages: int
    saved: int
    new: int
    invalid_fields: dict[str, int]
    next: PageRef | None
    total_pages: int | None


class EnrichmentLimit(StepInput):
    """What the trigger asked for (None: the default)."""

    max_enrichment: int | None


class Strategy(StepOutput):
    """AI (LLM refinement, one event per tender) or rules only, and how many at most."""

    mode: Literal["ai", "rules"]
    limit: int
    batch_size: int


class EnrichmentBatch(StepInput):
    """The next at most `limit` tenders after `after_ocid` missing a category whose
    `column` lies in [date_from, date_to]."""

    column: Literal["release_date", "published_at"]
    date_from: datetime
    date_to: datetime
    after_ocid: str
    limit: int


class Uncategorised(StepOutput):
    """A tender missing a category."""

    ocid: str
    published_at: datetime | None


class CommitSync(JobLogOf):
    """Move the cursor to `date_to` and close the log with `counts`."""

    date_to: datetime
    counts: dict[str, int]


class SyncTotals(StepOutput):
    """A closed sync's totals (as its job log holds them) and the cursor."""

    fetched: int = 0
    skipped_malformed: int = 0
    malformed_pages: int = 0
    saved: int = 0
    new: int = 0
    invalid_fields: dict[str, int] = Field(default_factory=dict)
    pages: int = 0
    enrichment_queued: int = 0
    cursor: datetime


class AlertsAfter(JobLogOf):
    """The next batch of alert subscribers after id `after_id`."""

    after_id: int


@step_body
def determine_date_range(deps: StepDeps, inp: DateRange) -> Window:
    """[cursor - overlap, now] (first run: [now - lookback, now]); the end is at most
    max-window past the cursor, so a long backlog is caught up over several runs."""
    settings = deps.settings
    end = inp.now or datetime.now(UTC)
    lookback = timedelta(days=settings.tender_sync_lookback_days)
    with deps.unit_of_work() as uow:
        cursor = store.get_cursor(uow)
        base = cursor if cursor is not None else end - lookback
        start = base - timedelta(minutes=settings.tender_sync_overlap_minutes) if cursor else base
        end = min(end, base + timedelta(days=settings.tender_sync_max_window_days))
        meta = {"dateFrom": start.isoformat(), "dateTo": end.isoformat()}
        job_log_store.merge_meta(uow, inp.job_log_id, meta)
    return Window(date_from=start, date_to=end)


@step_body
def fetch_page(deps: StepDeps, inp: FetchPage) -> PageCounts:
    """Fetch page number `page`, compile it into `tenders`, record it on the job log;
    the page's counts (as the log has them) and where the next page is. The fetch,
    retries included, ends by the step's deadline, leaving the rest for the save."""
    deadline = Deadline.after(deps.settings.step_budget_seconds)
    with OCDSClient(deps.settings) as client:  # the HTTP work happens before any connection
        got = client.fetch_page(inp.date_from, inp.date_to, inp.ref, deadline)
    if got.malformed_page:
        # Releases of the window that this sync does not read: an alarm watches it.
        metrics.add_metric(name="TenderPagesMalformed", unit="Count", value=1)
    rows = compile_page(got.releases)
    seen = {
        "fetched": got.fetched,
        "skipped_malformed": got.skipped,
        "malformed_pages": int(got.malformed_page),
        job_log_store.INVALID_FIELDS: got.invalid_fields,
    }
    with deps.unit_of_work() as uow:
        inserted, updated = store.upsert_tenders(uow, rows, inp.job_log_id)
        written = {"saved": inserted + updated, "new": inserted}
        recorded = job_log_store.record_page(uow, inp.job_log_id, inp.page, seen, written)
    return PageCounts.model_validate(
        {**(recorded or {**seen, **written}), "next": got.next_ref, "total_pages": got.total_pages}
    )


@step_body
def configure_enrichment(deps: StepDeps, inp: EnrichmentLimit) -> Strategy:
    """AI (LLM refinement, one event per tender) or rules only, and how many at most."""
    settings = deps.settings
    default = settings.tender_enrichment_default_max
    return Strategy(
        mode="ai" if deps.llm is not None else "rules",
        limit=default if inp.max_enrichment is None else inp.max_enrichment,
        batch_size=settings.tender_fanout_batch_size,
    )


@step_body
def select_enrichment_batch(deps: StepDeps, inp: EnrichmentBatch) -> list[Uncategorised]:
    """The next tenders missing a category (<= 100 rows: ~10 KB)."""
    with deps.unit_of_work() as uow:
        rows = store.missing_category_batch(
            uow,
            column=inp.column,
            date_from=inp.date_from,
            date_to=inp.date_to,
            after_ocid=inp.after_ocid,
            limit=inp.limit,
        )
    return [Uncategorised(ocid=ocid, published_at=published) for ocid, published in rows]


@step_body
def commit_sync(deps: StepDeps, inp: CommitSync) -> SyncTotals:
    """Advance the cursor and close the job log SUCCESS in one transaction: the cursor
    has moved exactly when the log says the sync succeeded. Returns the cursor and
    the log's final counts (page totals, plus `counts`, plus the new tenders
    counted in the database)."""
    with deps.unit_of_work() as uow:
        new = store.new_tenders(uow, inp.job_log_id)
        cursor = store.advance_cursor(uow, inp.date_to)
        final = job_log_store.finish_job_log(uow, inp.job_log_id, {**inp.counts, "new": new})
    kept = {k: v for k, v in final.items() if k in SyncTotals.model_fields}
    return SyncTotals.model_validate({**kept, "cursor": cursor})


@step_body
def alert_batch(deps: StepDeps, inp: AlertsAfter) -> AlertBatch:
    """Email the next batch of subscribers their digest of this sync's new tenders."""
    settings = deps.settings
    with deps.unit_of_work() as uow:
        return alerts.process_alert_batch(
            uow,
            inp.job_log_id,
            inp.after_id,
            settings.tender_alert_batch_size,
            settings.tender_alert_max_items,
            deps.mailer,
        )


@step_body
def record_alerts(deps: StepDeps, inp: JobLogOf) -> int:
    """Write the sync's alert total onto its job log."""
    with deps.unit_of_work() as uow:
        return alerts.record_alert_count(uow, inp.job_log_id)
