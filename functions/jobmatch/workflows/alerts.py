"""Email functions: typed notifications, new-job alerts and the daily digest.

- `send-notification-email` (`notification/email`): one email of a type to a user.
  Throttled per user (at most `email_throttle_per_user` start per
  `email_throttle_seconds`, the rest wait) and rate-limited per user (beyond
  `email_rate_limit_per_user` a day the rest are dropped: a runaway sender cannot
  flood a mailbox).
- `alert-new-jobs` (`jobs/new-batch`): who fits the batch, in one statement, then
  `alerts/new-jobs.chunk` events (id ranges of users, ids `new-batch:<batch>:...`);
  `send-new-job-alerts` sends one chunk, at most `alert_send_concurrency` chunks at
  once, which bounds the SES send rate.
- `daily-digest` (hourly cron, or `digest/run.requested`): 9 AM in each user's time
  zone (see `alerts.digest`): plan chunks of due users, fan out
  `digest/chunk.requested`; `send-digest-chunk` fans out one
  `digest/user.requested` per user; `send-user-digest` sends it, premium users
  first (priority), one user at a time per user (concurrency keyed by user).
- `prune-engagement-records` (daily): old run progress and alert records.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import inngest

from jobmatch.alerts import digest, emails, new_jobs
from jobmatch.dependencies import Dependencies
from jobmatch.events.engagement import (
    DailyDigestRequested,
    DigestChunk,
    DigestRunRequested,
    JobsNewBatch,
    NewJobsChunk,
    NotificationEmail,
    UserDigest,
)
from jobmatch.runs import progress
from jobmatch.workflows.engagement import USER_KEY, run_ref
from jobmatch.workflows.flow import EVENTS_PER_SEND, fan_out, request_of, slices
from jobmatch.workflows.matching import PREMIUM_PRIORITY
from jobmatch.workflows.run_records import progress_failure

DIGEST_CRON = "0 * * * *"  # hourly: each hour is 9 AM somewhere (see alerts.digest)
PRUNE_CRON = "45 4 * * *"
MAX_SEND_STEPS = 20  # per alert chunk: far more than a chunk of 100 emails needs


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The email functions, closing over `deps`."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="send-notification-email",
        name="Send Notification Email",
        trigger=NotificationEmail.trigger(),
        throttle=inngest.Throttle(
            key=USER_KEY,
            limit=settings.email_throttle_per_user,
            period=timedelta(seconds=settings.email_throttle_seconds),
            burst=0,
        ),
        rate_limit=inngest.RateLimit(
            key=USER_KEY,
            limit=settings.email_rate_limit_per_user,
            period=timedelta(seconds=settings.email_rate_limit_seconds),
        ),
        retries=3,
        on_failure=progress_failure(deps, "send-notification-email"),
    )
    def send_notification_email(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Render and send one email by type (welcome, new_jobs, digest, match_ready)."""
        event = NotificationEmail.parse(ctx.event.data)
        notification = emails.Notification(
            ref=run_ref(ctx, "send-notification-email"),
            user_id=event.user_id,
            email=event.email,
            kind=event.type,
            job_ids=tuple(event.data.job_ids),
            matches_saved=event.data.matches_saved,
            key=f"notification:{event.type}:{event.user_id}:{ctx.event.id or ctx.run_id}",
        )
        return emails.send_notification.run(ctx, "send", deps, notification).model_dump()

    @deps.inngest.create_function(
        fn_id="alert-new-jobs",
        name="Alert Users to New Jobs",
        trigger=JobsNewBatch.trigger(),
        retries=3,
        on_failure=progress_failure(deps, "alert-new-jobs"),
    )
    def alert_new_jobs(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Find who fits the batch (one statement), then fan the sending out in chunks."""
        event = JobsNewBatch.parse(ctx.event.data)
        batch, ref = event.batch_id, run_ref(ctx, "alert-new-jobs")
        found = new_jobs.find_recipients.run(
            ctx,
            "find-recipients",
            deps,
            new_jobs.NewJobs(
                ref=ref,
                batch_id=batch,
                job_ids=tuple(event.job_ids),
                max_jobs=settings.alert_max_jobs,
            ),
        )
        chunks = new_jobs.plan_chunks.run(
            ctx,
            "plan-chunks",
            deps,
            new_jobs.Chunking(batch_id=batch, users_per_chunk=settings.alert_users_per_chunk),
        )
        fan_out(
            ctx,
            "fan-out",
            [
                NewJobsChunk(batch_id=batch, after=a, upto=b).to_event(
                    id=f"new-batch:{batch}:chunk:{a}"
                )
                for a, b in chunks
            ],
        )
        summary = {"batch_id": batch, "source": event.source, "chunks": len(chunks)}
        summary |= found.model_dump()
        progress.finish_run.run(
            ctx, "record-progress", deps, progress.Finished(ref=ref, step=2, detail=summary)
        )
        return summary

    @deps.inngest.create_function(
        fn_id="send-new-job-alerts",
        name="Send New Job Alerts",
        trigger=NewJobsChunk.trigger(),
        concurrency=[inngest.Concurrency(limit=settings.alert_send_concurrency)],
        retries=3,
    )
    def send_new_job_alerts(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One chunk of a batch's alerts, one email per user, keyed per (batch, user);
        a further step goes on from the last user done where one ran out of time."""
        event = NewJobsChunk.parse(ctx.event.data)
        users, sent, after = 0, 0, event.after
        for i in range(MAX_SEND_STEPS):
            part = new_jobs.send_alert_chunk.run(
                ctx,
                "send-alerts" if i == 0 else f"send-alerts-{i + 1}",
                deps,
                new_jobs.AlertChunk(
                    batch_id=event.batch_id,
                    after=after,
                    upto=event.upto,
                    budget_seconds=settings.step_budget_seconds,
                ),
            )
            users, sent = users + part.users, sent + part.sent
            if part.resume_after is None:
                break
            after = part.resume_after
        return {"users": users, "sent": sent, "steps": i + 1}

    @deps.inngest.create_function(
        fn_id="daily-digest",
        name="Daily Digest",
        trigger=[
            DigestRunRequested.trigger(),
            DailyDigestRequested.trigger(),
            inngest.TriggerCron(cron=DIGEST_CRON),
        ],
        retries=3,
        on_failure=progress_failure(deps, "daily-digest"),
    )
    def daily_digest(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Each hour: the users for whom it is now the digest hour, fanned out in chunks."""
        requested = request_of(ctx, lambda data: DigestRunRequested.parse(data).as_of, lambda: None)
        as_of = digest.moment.run(ctx, "as-of", deps, digest.Requested(at=requested))
        ref = run_ref(ctx, "daily-digest")
        plan = digest.plan_digest.run(
            ctx,
            "plan",
            deps,
            digest.Plan(
                ref=ref,
                as_of=as_of,
                hour=settings.digest_hour,
                users_per_chunk=settings.digest_users_per_chunk,
            ),
        )
        at = as_of.isoformat()
        fan_out(
            ctx,
            "fan-out",
            [
                DigestChunk.model_validate({"asOf": as_of, "after": a, "upto": b}).to_event(
                    id=f"digest-chunk:{at}:{a}"
                )
                for a, b in plan.chunks
            ],
        )
        summary = {"as_of": at, "due": plan.due, "chunks": len(plan.chunks)}
        progress.finish_run.run(
            ctx, "record-progress", deps, progress.Finished(ref=ref, step=2, detail=summary)
        )
        return summary

    @deps.inngest.create_function(
        fn_id="send-digest-chunk",
        name="Send Digest Chunk",
        trigger=DigestChunk.trigger(),
        retries=3,
    )
    def send_digest_chunk(ctx: inngest.ContextSync) -> dict[str, Any]:
        """The chunk's users still due, one `digest/user.requested` each."""
        event = DigestChunk.parse(ctx.event.data)
        due = digest.due_users.run(
            ctx,
            "select-users",
            deps,
            digest.Chunk(
                as_of=event.as_of, hour=settings.digest_hour, after=event.after, upto=event.upto
            ),
        )
        users = sorted((u, on.local_date, u in on.premium_ids) for on in due for u in on.user_ids)
        events = [
            UserDigest.model_validate(
                {"userId": u, "digestDate": day, "premium": premium}
            ).to_event(id=digest.digest_key(u, day))
            for u, day, premium in users
        ]
        # Not `fan_out`: these steps were named `fan-out-1`, ... even when there is
        # one (Inngest memoizes by step id, so the names stay).
        for i, group in enumerate(slices(events, EVENTS_PER_SEND)):
            ctx.step.send_event(f"fan-out-{i + 1}", group)
        return {"users": len(users)}

    @deps.inngest.create_function(
        fn_id="send-user-digest",
        name="Send User Digest",
        trigger=UserDigest.trigger(),
        priority=PREMIUM_PRIORITY,
        concurrency=[inngest.Concurrency(limit=settings.user_concurrency, key=USER_KEY)],
        retries=3,
    )
    def send_user_digest(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One user's digest for their local date: at most one, only if there is news."""
        event = UserDigest.parse(ctx.event.data)
        for_user = digest.DigestFor(
            user_id=event.user_id,
            digest_date=event.digest_date,
            max_jobs=settings.digest_max_jobs,
        )
        sent = digest.send_user_digest.run(ctx, "send-digest", deps, for_user)
        return sent.model_dump(exclude_none=True)

    @deps.inngest.create_function(
        fn_id="prune-engagement-records",
        name="Prune Engagement Records",
        trigger=inngest.TriggerCron(cron=PRUNE_CRON),
        retries=2,
    )
    def prune_engagement_records(ctx: inngest.ContextSync) -> dict[str, int]:
        """Run progress and new-job alert records older than the retention."""
        keep = settings.progress_retention_days
        return {
            "progress": progress.prune_old.run(
                ctx, "prune-progress", deps, progress.Prune(keep_days=keep)
            ),
            "alerts": new_jobs.prune_alerts.run(
                ctx, "prune-alerts", deps, new_jobs.Retention(keep_days=keep)
            ),
        }

    return [
        send_notification_email,
        alert_new_jobs,
        send_new_job_alerts,
        daily_digest,
        send_digest_chunk,
        send_user_digest,
        prune_engagement_records,
    ]
