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
    DigestChunk,
    DigestRunRequested,
    JobsNewBatch,
    NewJobsChunk,
    NotificationEmail,
    UserDigest,
)
from jobmatch.runs import progress
from jobmatch.workflows.engagement import USER_KEY, record_failure, run_ref
from jobmatch.workflows.flow import EVENTS_PER_SEND, numbered, slices
from jobmatch.workflows.matching import PREMIUM_PRIORITY

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
        on_failure=record_failure("send-notification-email"),
    )
    def send_notification_email(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Render and send one email by type (welcome, new_jobs, digest, match_ready)."""
        event = NotificationEmail.parse(ctx.event.data)
        key = f"notification:{event.type}:{event.user_id}:{ctx.event.id or ctx.run_id}"
        return ctx.step.run(
            "send",
            emails.send_notification,
            run_ref(ctx, "send-notification-email"),
            event.user_id,
            event.email,
            event.type,
            event.data.job_ids,
            event.data.matches_saved,
            key,
            deps.mailer,
        )

    @deps.inngest.create_function(
        fn_id="alert-new-jobs",
        name="Alert Users to New Jobs",
        trigger=JobsNewBatch.trigger(),
        retries=3,
        on_failure=record_failure("alert-new-jobs"),
    )
    def alert_new_jobs(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Find who fits the batch (one statement), then fan the sending out in chunks."""
        event = JobsNewBatch.parse(ctx.event.data)
        batch, ref = event.batch_id, run_ref(ctx, "alert-new-jobs")
        found = ctx.step.run(
            "find-recipients",
            new_jobs.find_recipients,
            ref,
            batch,
            event.job_ids,
            settings.alert_max_jobs,
        )
        chunks = ctx.step.run(
            "plan-chunks", new_jobs.plan_chunks, batch, settings.alert_users_per_chunk
        )
        groups = slices(chunks, EVENTS_PER_SEND)
        for i, group in enumerate(groups):
            ctx.step.send_event(
                numbered("fan-out", i, len(groups)),
                [
                    NewJobsChunk(batch_id=batch, after=a, upto=b).to_event(
                        id=f"new-batch:{batch}:chunk:{a}"
                    )
                    for a, b in group
                ],
            )
        summary = {"batch_id": batch, "source": event.source, "chunks": len(chunks)} | found
        ctx.step.run("record-progress", progress.finish, ref, 2, summary)
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
        a further step goes on where one ran out of time."""
        event = NewJobsChunk.parse(ctx.event.data)
        totals, after = {"users": 0, "sent": 0, "steps": 0}, event.after
        for i in range(MAX_SEND_STEPS):
            part = ctx.step.run(
                "send-alerts" if i == 0 else f"send-alerts-{i + 1}",
                new_jobs.send_alert_chunk,
                event.batch_id,
                after,
                event.upto,
                deps.mailer,
                settings.step_budget_seconds,
            )
            totals = {
                "users": totals["users"] + part["users"],
                "sent": totals["sent"] + part["sent"],
                "steps": i + 1,
            }
            if part["resume_after"] is None:
                break
            after = part["resume_after"]
        return totals

    @deps.inngest.create_function(
        fn_id="daily-digest",
        name="Daily Digest",
        trigger=[DigestRunRequested.trigger(), inngest.TriggerCron(cron=DIGEST_CRON)],
        retries=3,
        on_failure=record_failure("daily-digest"),
    )
    def daily_digest(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Each hour: the users for whom it is now the digest hour, fanned out in chunks."""
        requested = (
            DigestRunRequested.parse(ctx.event.data).as_of
            if ctx.event.name == DigestRunRequested.NAME
            else None
        )
        as_of = ctx.step.run("as-of", digest.moment, requested.isoformat() if requested else None)
        ref = run_ref(ctx, "daily-digest")
        plan = ctx.step.run(
            "plan",
            digest.plan_digest,
            ref,
            as_of,
            settings.digest_hour,
            settings.digest_users_per_chunk,
        )
        groups = slices(plan["chunks"], EVENTS_PER_SEND)
        for i, group in enumerate(groups):
            ctx.step.send_event(
                numbered("fan-out", i, len(groups)),
                [
                    DigestChunk.model_validate({"asOf": as_of, "after": a, "upto": b}).to_event(
                        id=f"digest-chunk:{as_of}:{a}"
                    )
                    for a, b in group
                ],
            )
        summary = {"as_of": as_of, "due": plan["due"], "chunks": len(plan["chunks"])}
        ctx.step.run("record-progress", progress.finish, ref, 2, summary)
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
        as_of = event.as_of.isoformat()
        users = ctx.step.run(
            "select-users",
            digest.due_users,
            as_of,
            settings.digest_hour,
            event.after,
            event.upto,
        )
        for i, group in enumerate(slices(users, EVENTS_PER_SEND)):
            ctx.step.send_event(
                f"fan-out-{i + 1}",
                [
                    UserDigest.model_validate(
                        {"userId": u, "digestDate": day, "premium": premium}
                    ).to_event(id=digest.digest_key(u, day))
                    for u, premium, day in group
                ],
            )
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
        return ctx.step.run(
            "send-digest",
            digest.send_user_digest,
            event.user_id,
            event.digest_date.isoformat(),
            settings.digest_max_jobs,
            deps.mailer,
        )

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
            "progress": ctx.step.run("prune-progress", progress.prune, keep),
            "alerts": ctx.step.run("prune-alerts", new_jobs.prune_alerts, keep),
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
