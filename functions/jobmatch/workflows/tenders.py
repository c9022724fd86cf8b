"""Tender functions, thin wiring over the step bodies in `tenders.steps` and
`runs.job_logs` (each run's job log).

- `tender-sync` (event `tender/sync.requested` or every 30 minutes): create-job-log
  -> determine-date-range -> fetch-page-1..N (each page compiled into `tenders`)
  -> configure-enrichment-strategy -> fan out `tender/enrich.requested` in batches
  -> commit-sync (cursor + job log SUCCESS, one transaction) -> request alerts.
  A singleton (mode "skip"): a trigger that arrives while a sync runs is dropped,
  since the running sync covers it; two syncs never overlap and runs never pile up
  behind a slow publisher. On final failure the job log is marked FAILED.
- `enrich-tender`: one tender's category; concurrency and throttle keep Bedrock
  calls bounded (throttle queues, a rate limit would drop enrichments).
- `enrich-today`, `backfill-tender-enrichment`: fan out tenders missing a category.
- `process-tender-alerts`: digests of a sync's new tenders, once per subscriber.
- `cleanup-stuck-jobs`: daily, job logs stuck in RUNNING -> FAILED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.tenders import (
    TenderAlertsRequested,
    TenderBackfillRequested,
    TenderEnrichRequested,
    TenderEnrichTodayRequested,
    TenderSyncRequested,
)
from jobmatch.runs import job_logs
from jobmatch.tenders import enrichment, steps
from jobmatch.workflows.flow import chained, event_time, request_of, select_and_send
from jobmatch.workflows.run_records import job_log_failure

SYNC_JOB = "tender-sync"
ENRICH_TODAY_JOB = "enrich-today"
BACKFILL_JOB = "backfill-enrichment"


def fan_out_enrichment(
    ctx: inngest.ContextSync,
    deps: Dependencies,
    column: Literal["release_date", "published_at"],
    window: tuple[datetime, datetime],
    limit: int,
) -> int:
    """Send `tender/enrich.requested` for up to `limit` tenders missing a category, one
    select step and one send step per batch, so every output stays a few KB."""

    def missing(step_id: str, after: str, n: int) -> list[steps.Uncategorised]:
        batch = steps.EnrichmentBatch(
            column=column, date_from=window[0], date_to=window[1], after_ocid=after, limit=n
        )
        return steps.select_enrichment_batch.run(ctx, step_id, deps, batch)

    def enrich(rows: Sequence[steps.Uncategorised]) -> list[inngest.Event]:
        return [
            TenderEnrichRequested(ocid=r.ocid, published_at=r.published_at).to_event() for r in rows
        ]

    return select_and_send(
        ctx,
        ("select-enrichment-batch", "enqueue-enrichment"),
        missing,
        lambda r: r.ocid,
        "",
        enrich,
        size=deps.settings.tender_fanout_batch_size,
        limit=limit,
    )


def _fan_out_job(
    ctx: inngest.ContextSync,
    deps: Dependencies,
    job_type: str,
    triggered_by: str,
    window: tuple[datetime, datetime],
    max_enrichment: int | None,
) -> dict[str, Any]:
    """Job log + fan-out over tenders published in `window` missing a category."""
    default = deps.settings.tender_enrichment_default_max
    limit = default if max_enrichment is None else max_enrichment
    meta = {"dateFrom": window[0].isoformat(), "dateTo": window[1].isoformat(), "limit": limit}
    job = job_logs.create_job_log.run(
        ctx,
        "create-job-log",
        deps,
        job_logs.NewJobLog(
            job_type=job_type, run_id=ctx.run_id, triggered_by=triggered_by, meta=meta
        ),
    )
    queued = fan_out_enrichment(ctx, deps, "published_at", window, limit)
    counts = {"enrichment_queued": queued}
    job_logs.finish_job.run(
        ctx, "close-job-log", deps, job_logs.FinishJob(job_log_id=job, counts=counts)
    )
    return {"jobLogId": job, **counts}


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The tender functions, closing over `deps` (flow limits from its settings)."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="tender-sync",
        name="Tender sync (OCDS)",
        trigger=[TenderSyncRequested.trigger(), inngest.TriggerCron(cron="*/30 * * * *")],
        singleton=inngest.Singleton(mode="skip"),
        retries=3,
        on_failure=job_log_failure(deps, SYNC_JOB),
    )
    def tender_sync(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Fetch releases since the cursor page by page, enrich, advance the cursor."""
        request = request_of(
            ctx,
            TenderSyncRequested.parse,
            lambda: TenderSyncRequested.model_validate({"triggeredBy": "cron"}),
        )
        job = job_logs.create_job_log.run(
            ctx,
            "create-job-log",
            deps,
            job_logs.NewJobLog(
                job_type=SYNC_JOB,
                run_id=ctx.run_id,
                triggered_by=request.triggered_by,
                meta={"maxEnrichment": request.max_enrichment},
            ),
        )
        window = steps.determine_date_range.run(
            ctx, "determine-date-range", deps, steps.DateRange(job_log_id=job)
        )
        first = steps.FetchPage(
            job_log_id=job, date_from=window.date_from, date_to=window.date_to, ref=None, page=1
        )
        pages, more = chained(
            ctx,
            "fetch-page",
            deps,
            steps.fetch_page,
            first,
            lambda inp, out: (
                None
                if out.next is None
                else inp.model_copy(update={"ref": out.next, "page": inp.page + 1})
            ),
            max_steps=settings.tender_sync_max_pages,
        )
        if more is not None:
            raise inngest.NonRetriableError(
                f"more than {settings.tender_sync_max_pages} pages in one run: "
                "lower tender_sync_max_window_days"
            )
        strategy = steps.configure_enrichment.run(
            ctx,
            "configure-enrichment-strategy",
            deps,
            steps.EnrichmentLimit(max_enrichment=request.max_enrichment),
        )
        queued = fan_out_enrichment(
            ctx, deps, "release_date", (window.date_from, window.date_to), strategy.limit
        )
        counts = {"pages": len(pages), "enrichment_queued": queued}
        # The counts come back from the job log, where each page recorded itself in
        # the transaction that saved it, however often its step ran.
        done = steps.commit_sync.run(
            ctx,
            "commit-sync",
            deps,
            steps.CommitSync(job_log_id=job, date_to=window.date_to, counts=counts),
        )
        if done.new:
            ctx.step.send_event(
                "request-alerts", [TenderAlertsRequested(job_log_id=job).to_event()]
            )
        return {"jobLogId": job, **steps.commit_sync.to_json(done)}

    @deps.inngest.create_function(
        fn_id="enrich-tender",
        name="Enrich one tender",
        trigger=TenderEnrichRequested.trigger(),
        concurrency=[inngest.Concurrency(limit=settings.tender_enrich_concurrency)],
        throttle=inngest.Throttle(
            limit=settings.tender_enrich_per_minute, period=timedelta(minutes=1), burst=5
        ),
        retries=2,
    )
    def enrich_tender(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Categorise one tender: LLM when AI is on, rules otherwise or on any LLM failure."""
        event = TenderEnrichRequested.parse(ctx.event.data)
        out = enrichment.enrich_tender.run(
            ctx, "categorise", deps, enrichment.TenderRef(ocid=event.ocid)
        )
        return out.model_dump()

    @deps.inngest.create_function(
        fn_id="enrich-today",
        name="Enrich today's tenders",
        trigger=TenderEnrichTodayRequested.trigger(),
        retries=3,
        on_failure=job_log_failure(deps, ENRICH_TODAY_JOB),
    )
    def enrich_today(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Today's (UTC) tenders still missing a detailed category."""
        event = TenderEnrichTodayRequested.parse(ctx.event.data)
        start = datetime.combine(event_time(ctx).date(), time.min, UTC)
        triggered_by = f"admin:{event.admin_user_id}" if event.admin_user_id else "admin"
        return _fan_out_job(
            ctx,
            deps,
            ENRICH_TODAY_JOB,
            triggered_by,
            (start, start + timedelta(days=1)),
            event.max_enrichment,
        )

    @deps.inngest.create_function(
        fn_id="backfill-tender-enrichment",
        name="Backfill tender enrichment",
        trigger=TenderBackfillRequested.trigger(),
        retries=3,
        on_failure=job_log_failure(deps, BACKFILL_JOB),
    )
    def backfill_tender_enrichment(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Tenders published between dateFrom and dateTo still missing a category."""
        event = TenderBackfillRequested.parse(ctx.event.data)
        return _fan_out_job(
            ctx,
            deps,
            BACKFILL_JOB,
            event.triggered_by,
            (event.date_from, event.date_to),
            event.max_enrichment,
        )

    @deps.inngest.create_function(
        fn_id="process-tender-alerts",
        name="Tender alerts",
        trigger=TenderAlertsRequested.trigger(),
        retries=3,
    )
    def process_tender_alerts(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One step per batch of subscribers; each digest keyed (subscription, sync)."""
        event = TenderAlertsRequested.parse(ctx.event.data)
        job, size = event.job_log_id, settings.tender_alert_batch_size
        batches, _ = chained(
            ctx,
            "alert-batch",
            deps,
            steps.alert_batch,
            steps.AlertsAfter(job_log_id=job, after_id=0),
            lambda inp, out: (
                None
                if out.last_id is None or out.checked < size
                else inp.model_copy(update={"after_id": out.last_id})
            ),
            max_steps=None,
        )
        total = steps.record_alerts.run(
            ctx, "record-alert-count", deps, job_logs.JobLogOf(job_log_id=job)
        )
        return {"jobLogId": job, "sent": sum(b.sent for b in batches), "alerts": total}

    @deps.inngest.create_function(
        fn_id="cleanup-stuck-jobs",
        name="Cleanup stuck jobs",
        trigger=inngest.TriggerCron(cron="15 3 * * *"),
        retries=3,
    )
    def cleanup_stuck_jobs(ctx: inngest.ContextSync) -> dict[str, int]:
        """Daily: a job log RUNNING for hours belongs to a run that died without a word."""
        stuck = job_logs.StuckFor(older_than_hours=settings.tender_stuck_job_hours)
        failed = job_logs.fail_stuck_job_logs.run(ctx, "fail-stuck-job-logs", deps, stuck)
        return {"failed": failed}

    return [
        tender_sync,
        enrich_tender,
        enrich_today,
        backfill_tender_enrichment,
        process_tender_alerts,
        cleanup_stuck_jobs,
    ]
