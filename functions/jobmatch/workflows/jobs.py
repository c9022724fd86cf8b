"""Job pipeline functions: board ingestion, the scraper queue's schedules, expiry
and cleanup. Thin wiring over the step bodies in `ingestion.steps`,
`scraping.steps` and `retention.steps`.

- `hourly-job-ingestion` (cron hourly): one `jobs/ingest-company` per active
  company, ids per company and hour, so a re-sent fan-out starts nothing twice.
- `ingest-company`: fetch and store one board, then announce its new jobs
  (`jobs/imported` for candidate matching, `jobs/new-batch` for user alerts).
  Polite to the providers: at most `ingest_concurrency_per_provider` boards of a
  provider at once and `ingest_per_minute_per_provider` started a minute (a
  throttle: queued, never dropped), and one fetch of a board per
  `ingest_min_minutes_between_fetches` (a rate limit keyed by company: a second
  request for the same board in the window is dropped, the first one's postings
  being as fresh as the board's own cache).
- `cleanup-stale-sessions` (every 15 min), `reset-completed-roles` (midnight).
- `expire-old-jobs` (3 AM), `daily-cleanup` (4 AM): bounded chunks, then a new run
  by a self-sent event when there is more than one run's worth.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TypeVar

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.jobs import CleanupRequested, ExpireJobsRequested, IngestCompany
from jobmatch.events.matching import MAX_JOB_IDS
from jobmatch.ingestion import steps as ingestion
from jobmatch.ingestion.store import CompanyRef
from jobmatch.jobs.importing import announcement_events
from jobmatch.retention import steps as retention
from jobmatch.scraping import steps as scraping
from jobmatch.step_contract import StepBody
from jobmatch.workflows.flow import (
    chained,
    continue_as_new,
    hour_of,
    numbered,
    paged,
    request_of,
    select_and_send,
    slices,
)

MAX_QUEUE_STEPS = 20
B = TypeVar("B", bound=scraping.Batch)


def announce(
    ctx: inngest.ContextSync, deps: Dependencies, job_ids: list[int], source: str, batch_id: str
) -> int:
    """`jobs/imported` and `jobs/new-batch` for new jobs (`announcement_events`: a
    replayed step sends the same ids, which Inngest drops), then the mark."""
    parts = slices(job_ids, MAX_JOB_IDS)
    for i, part in enumerate(parts):
        ctx.step.send_event(
            numbered("announce", i, len(parts)), announcement_events(part, source, batch_id)
        )
        ingestion.record_announced.run(
            ctx, numbered("mark-announced", i, len(parts)), deps, ingestion.Announced(job_ids=part)
        )
    return len(job_ids)


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The job pipeline's ingestion, queue and retention functions."""
    settings = deps.settings

    def queue_upkeep(
        ctx: inngest.ContextSync, name: str, body: StepBody[B, int], batch: B
    ) -> tuple[int, int]:
        """`body` paged over the queue, then the roles never queued added: how many
        rows `body` handled, and how many roles were added."""
        size = settings.scraper_reset_batch
        done, _ = paged(ctx, name, deps, body, batch, size=size, max_steps=MAX_QUEUE_STEPS)
        return done, scraping.enqueue_new_roles.run(ctx, "enqueue-new-roles", deps)

    @deps.inngest.create_function(
        fn_id="hourly-job-ingestion",
        name="Hourly job ingestion",
        trigger=inngest.TriggerCron(cron="0 * * * *"),
        retries=3,
    )
    def hourly_job_ingestion(ctx: inngest.ContextSync) -> dict[str, int]:
        """Fan out one `jobs/ingest-company` per active company, 500 per step."""
        hour = hour_of(ctx)

        def companies(step_id: str, after: int, limit: int) -> list[CompanyRef]:
            page = ingestion.CompanyPage(after_id=after, limit=limit)
            return ingestion.active_companies.run(ctx, step_id, deps, page)

        def ingest_events(rows: Sequence[CompanyRef]) -> list[inngest.Event]:
            return [
                IngestCompany(company_id=r.id, provider=r.provider).to_event(
                    id=f"ingest-{r.id}-{hour}"
                )
                for r in rows
            ]

        queued = select_and_send(
            ctx,
            ("list-companies", "fan-out"),
            companies,
            lambda r: r.id,
            0,
            ingest_events,
            size=settings.ingest_fanout_batch_size,
        )
        return {"companies": queued}

    @deps.inngest.create_function(
        fn_id="ingest-company",
        name="Ingest one company's job board",
        trigger=IngestCompany.trigger(),
        concurrency=[
            inngest.Concurrency(
                limit=settings.ingest_concurrency_per_provider, key="event.data.provider"
            )
        ],
        throttle=inngest.Throttle(
            limit=settings.ingest_per_minute_per_provider,
            period=timedelta(minutes=1),
            key="event.data.provider",
        ),
        rate_limit=inngest.RateLimit(
            limit=1,
            period=timedelta(minutes=settings.ingest_min_minutes_between_fetches),
            key="event.data.companyId",
        ),
        retries=3,
    )
    def ingest_company(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Fetch and store one board; announce its new jobs."""
        event = IngestCompany.parse(ctx.event.data)
        out = ingestion.ingest_board.run(
            ctx, "fetch-and-store", deps, ingestion.CompanyBoard(company_id=event.company_id)
        )
        batch_id = f"{event.provider}-{event.company_id}-{hour_of(ctx)}"
        ids = out.announce
        announced = announce(ctx, deps, ids, event.provider, batch_id) if ids else 0
        return {
            "companyId": out.company_id,
            **out.model_dump(exclude={"company_id", "announce"}),
            "announced": announced,
        }

    @deps.inngest.create_function(
        fn_id="cleanup-stale-sessions",
        name="Cleanup stale scraper sessions",
        trigger=inngest.TriggerCron(cron="*/15 * * * *"),
        retries=3,
    )
    def cleanup_stale_sessions(ctx: inngest.ContextSync) -> dict[str, int]:
        """Sessions without a heartbeat for too long: stale, their roles re-queued;
        roles added since the last run queued."""
        stale = scraping.StaleBatch(
            limit=settings.scraper_reset_batch,
            max_age_minutes=settings.scraper_stale_after_minutes,
        )
        reset, added = queue_upkeep(ctx, "reset-stale", scraping.reset_stale_sessions, stale)
        return {"reset": reset, "enqueued": added}

    @deps.inngest.create_function(
        fn_id="reset-completed-roles",
        name="Re-queue completed roles",
        trigger=inngest.TriggerCron(cron="0 0 * * *"),
        retries=3,
    )
    def reset_completed_roles(ctx: inngest.ContextSync) -> dict[str, int]:
        """Every completed role back in the queue for a fresh scrape; new roles queued."""
        batch = scraping.Batch(limit=settings.scraper_reset_batch)
        requeued, added = queue_upkeep(ctx, "requeue", scraping.requeue_completed_roles, batch)
        return {"requeued": requeued, "enqueued": added}

    @deps.inngest.create_function(
        fn_id="expire-old-jobs",
        name="Expire old jobs",
        trigger=[inngest.TriggerCron(cron="0 3 * * *"), ExpireJobsRequested.trigger()],
        retries=3,
    )
    def expire_old_jobs(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Live jobs past the age limit: expired and their matches removed, a chunk
        per step; more than a run's chunks continue in a new run."""
        request = request_of(ctx, ExpireJobsRequested.parse, ExpireJobsRequested)
        days = request.older_than_days or settings.job_expire_after_days
        size = settings.job_expire_batch
        chunks, more = chained(
            ctx,
            "expire",
            deps,
            retention.expire_chunk,
            retention.ExpireChunk(older_than_days=days, limit=size),
            lambda inp, out: inp if out.expired >= size else None,
            max_steps=settings.job_expire_max_steps,
        )
        if more is not None:
            continue_as_new(
                ctx,
                ExpireJobsRequested(older_than_days=days).to_event(id=f"expire-next-{ctx.run_id}"),
            )
        return {
            "expired": sum(c.expired for c in chunks),
            "matchesRemoved": sum(c.matches_removed for c in chunks),
            "continued": more is not None,
        }

    @deps.inngest.create_function(
        fn_id="daily-cleanup",
        name="Daily cleanup",
        trigger=[inngest.TriggerCron(cron="0 4 * * *"), CleanupRequested.trigger()],
        retries=3,
    )
    def daily_cleanup(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Expired jobs past retention deleted, then unused user matches, chunk by
        chunk (see `retention.store` for how this differs from expiry)."""
        request = request_of(ctx, CleanupRequested.parse, CleanupRequested)
        days, size = settings.job_retention_days, settings.job_cleanup_batch
        budget = settings.job_expire_max_steps
        jobs, _ = chained(
            ctx,
            "delete-expired",
            deps,
            retention.delete_expired_chunk,
            retention.DeleteExpiredChunk(retention_days=days, limit=size),
            lambda inp, n: inp if n >= size else None,
            max_steps=budget,
        )
        matches, more = chained(
            ctx,
            "delete-unused-matches",
            deps,
            retention.delete_unused_matches_chunk,
            retention.UnusedMatchesChunk(
                retention_days=days, after_id=request.after_match_id, limit=size
            ),
            lambda inp, out: (
                inp.model_copy(update={"after_id": out.after}) if out.scanned == size else None
            ),
            max_steps=budget - len(jobs),
            start=len(jobs) + 1,
        )
        if more is not None:
            continue_as_new(
                ctx,
                CleanupRequested(after_match_id=more.after_id).to_event(
                    id=f"cleanup-next-{ctx.run_id}"
                ),
            )
        return {
            "jobsDeleted": sum(jobs),
            "matchesDeleted": sum(m.deleted for m in matches),
            "continued": more is not None,
        }

    return [
        hourly_job_ingestion,
        ingest_company,
        cleanup_stale_sessions,
        reset_completed_roles,
        expire_old_jobs,
        daily_cleanup,
    ]
