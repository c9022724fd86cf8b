"""Tender functions, thin wiring over the step bodies in `tenders.sync_steps`.

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

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events import CRON_EVENT
from jobmatch.events.tenders import (
    TenderAlertsRequested,
    TenderBackfillRequested,
    TenderEnrichRequested,
    TenderEnrichTodayRequested,
    TenderSyncRequested,
)
from jobmatch.settings import Settings
from jobmatch.tenders import sync_steps as steps
from jobmatch.tenders.enrichment import enrich_tender as categorise

SYNC_JOB = "tender-sync"
ENRICH_TODAY_JOB = "enrich-today"
BACKFILL_JOB = "backfill-enrichment"


def _mark_failed(job_type: str) -> Callable[[inngest.ContextSync], None]:
    """An on_failure handler: the failed run's job log says FAILED and why."""

    def on_failure(ctx: inngest.ContextSync) -> None:
        data = ctx.event.data
        error = data.get("error")
        error = error if isinstance(error, dict) else {}
        message = f"{error.get('name', 'Error')}: {error.get('message', 'unknown error')}"
        ctx.step.run("mark-job-log-failed", steps.fail_job, job_type, str(data["run_id"]), message)

    return on_failure


def fan_out_enrichment(
    ctx: inngest.ContextSync,
    settings: Settings,
    column: str,
    date_from: str,
    date_to: str,
    limit: int,
) -> int:
    """Send `tender/enrich.requested` for up to `limit` tenders missing a category, one
    select step and one send step per batch, so every output stays a few KB."""
    queued, after, batch = 0, "", 1
    size = settings.tender_fanout_batch_size
    while queued < limit:
        rows = ctx.step.run(
            f"select-enrichment-batch-{batch}",
            steps.select_enrichment_batch,
            column,
            date_from,
            date_to,
            after,
            min(size, limit - queued),
        )
        if not rows:
            break
        ctx.step.send_event(
            f"enqueue-enrichment-{batch}",
            [TenderEnrichRequested.model_validate(row).to_event() for row in rows],
        )
        queued += len(rows)
        after = rows[-1]["ocid"]
        batch += 1
        if len(rows) < size:
            break
    return queued


def _fan_out_job(
    ctx: inngest.ContextSync,
    settings: Settings,
    job_type: str,
    triggered_by: str,
    window: tuple[datetime, datetime],
    max_enrichment: int | None,
) -> dict[str, Any]:
    """Job log + fan-out over tenders published in `window` missing a category."""
    default = settings.tender_enrichment_default_max
    limit = default if max_enrichment is None else max_enrichment
    date_from, date_to = window[0].isoformat(), window[1].isoformat()
    meta = {"dateFrom": date_from, "dateTo": date_to, "limit": limit}
    job = ctx.step.run(
        "create-job-log", steps.create_job_log, job_type, ctx.run_id, triggered_by, meta
    )
    queued = fan_out_enrichment(ctx, settings, "published_at", date_from, date_to, limit)
    ctx.step.run("close-job-log", steps.finish_job, job, {"enrichment_queued": queued})
    return {"jobLogId": job, "enrichment_queued": queued}


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The tender functions, closing over `deps` (flow limits from its settings)."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="tender-sync",
        name="Tender sync (OCDS)",
        trigger=[TenderSyncRequested.trigger(), inngest.TriggerCron(cron="*/30 * * * *")],
        singleton=inngest.Singleton(mode="skip"),
        retries=3,
        on_failure=_mark_failed(SYNC_JOB),
    )
    def tender_sync(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Fetch releases since the cursor page by page, enrich, advance the cursor."""
        request = (
            TenderSyncRequested.model_validate({"triggeredBy": "cron"})
            if ctx.event.name == CRON_EVENT
            else TenderSyncRequested.parse(ctx.event.data)
        )
        job = ctx.step.run(
            "create-job-log",
            steps.create_job_log,
            SYNC_JOB,
            ctx.run_id,
            request.triggered_by,
            {"maxEnrichment": request.max_enrichment},
        )
        window = ctx.step.run("determine-date-range", steps.determine_date_range, job, settings)
        ref: int | str | None = None
        page = 1
        while True:
            if page > settings.tender_sync_max_pages:
                raise inngest.NonRetriableError(
                    f"more than {settings.tender_sync_max_pages} pages in one run: "
                    "lower tender_sync_max_window_days"
                )
            out = ctx.step.run(
                f"fetch-page-{page}",
                steps.fetch_page,
                job,
                window["dateFrom"],
                window["dateTo"],
                ref,
                page,
                settings,
            )
            ref = out["next"]
            if ref is None:
                break
            page += 1
        strategy = ctx.step.run(
            "configure-enrichment-strategy",
            steps.configure_enrichment,
            request.max_enrichment,
            settings,
            deps.llm,
        )
        queued = fan_out_enrichment(
            ctx, settings, "release_date", window["dateFrom"], window["dateTo"], strategy["limit"]
        )
        counts = {"pages": page, "enrichment_queued": queued}
        # The counts come back from the job log, where each page recorded itself in
        # the transaction that saved it, however often its step ran.
        done = ctx.step.run("commit-sync", steps.commit_sync, job, window["dateTo"], counts)
        if done["new"]:
            ctx.step.send_event(
                "request-alerts", [TenderAlertsRequested(job_log_id=job).to_event()]
            )
        return {"jobLogId": job, **done}

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
        return ctx.step.run(
            "categorise", categorise, event.ocid, deps.llm, settings.step_budget_seconds
        )

    @deps.inngest.create_function(
        fn_id="enrich-today",
        name="Enrich today's tenders",
        trigger=TenderEnrichTodayRequested.trigger(),
        retries=3,
        on_failure=_mark_failed(ENRICH_TODAY_JOB),
    )
    def enrich_today(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Today's (UTC) tenders still missing a detailed category."""
        event = TenderEnrichTodayRequested.parse(ctx.event.data)
        ts = ctx.event.ts
        day = datetime.fromtimestamp(ts / 1000, UTC) if ts else datetime.now(UTC)
        start = datetime.combine(day.date(), time.min, UTC)
        triggered_by = f"admin:{event.admin_user_id}" if event.admin_user_id else "admin"
        return _fan_out_job(
            ctx,
            settings,
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
        on_failure=_mark_failed(BACKFILL_JOB),
    )
    def backfill_tender_enrichment(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Tenders published between dateFrom and dateTo still missing a category."""
        event = TenderBackfillRequested.parse(ctx.event.data)
        return _fan_out_job(
            ctx,
            settings,
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
        after, batch, sent = 0, 1, 0
        while True:
            out = ctx.step.run(
                f"alert-batch-{batch}",
                steps.alert_batch,
                event.job_log_id,
                after,
                settings,
                deps.mailer,
            )
            sent += out["sent"]
            if out["last_id"] is None or out["checked"] < settings.tender_alert_batch_size:
                break
            after, batch = out["last_id"], batch + 1
        total = ctx.step.run("record-alert-count", steps.record_alerts, event.job_log_id)
        return {"jobLogId": event.job_log_id, "sent": sent, "alerts": total}

    @deps.inngest.create_function(
        fn_id="cleanup-stuck-jobs",
        name="Cleanup stuck jobs",
        trigger=inngest.TriggerCron(cron="15 3 * * *"),
        retries=3,
    )
    def cleanup_stuck_jobs(ctx: inngest.ContextSync) -> dict[str, int]:
        """Daily: a job log RUNNING for hours belongs to a run that died without a word."""
        failed = ctx.step.run(
            "fail-stuck-job-logs", steps.fail_stuck_job_logs, settings.tender_stuck_job_hours
        )
        return {"failed": failed}

    return [
        tender_sync,
        enrich_tender,
        enrich_today,
        backfill_tender_enrichment,
        process_tender_alerts,
        cleanup_stuck_jobs,
    ]
