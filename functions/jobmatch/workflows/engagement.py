"""Engagement functions: what users do, recorded, learnt from, and re-ranked.

- `register-user` (`user/registered`): create or complete the user, welcome email,
  then the user's first matching run (`matching/perform`).
- `record-job-application` (`job/applied`), `record-job-feedback` (`job/feedback`):
  record once / replace, move the preference signals, request a re-rank.
- `record-job-views` (`job/viewed`): batched (up to `view_batch_size` events or
  `view_batch_seconds`), so a burst of views is one upsert, not a write per view.
- `apply-preference-update` (`preference/updated`): apply the one field at once.
- `rerank-user-matches` (`engagement/rerank.requested`): debounced per user, so ten
  quick edits (or a burst of signals) cause one re-rank; it reads the current
  preferences from the database and runs the one matching function for the user.

Flow control, from settings: the functions that write one user's signals run at
most `user_concurrency` at once per user (concurrency keyed by `userId`), so two
updates of one user's weights never interleave; the re-rank is debounced per user.
Steps record run progress (`runs.progress`); an on-failure handler records failure
(`flow.failure_of`). Every step is a typed body run as `body.run(ctx, id, deps, inp)`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.engagement import activity, preferences, registration
from jobmatch.events.engagement import (
    JobApplied,
    JobFeedback,
    JobViewed,
    PreferenceUpdated,
    RerankRequested,
    UserRegistered,
)
from jobmatch.events.matching import MatchingContext, PerformMatching
from jobmatch.runs.progress import RunRef
from jobmatch.workflows.flow import event_time, fan_out
from jobmatch.workflows.run_records import progress_failure

USER_KEY = "event.data.userId"


def run_ref(ctx: inngest.ContextSync, function_id: str) -> RunRef:
    """This run, as the step bodies record its progress (every event id of a batch)."""
    events = ctx.events or [ctx.event]
    return RunRef(ctx.run_id, function_id, tuple(e.id for e in events if e.id))


def request_rerank(ctx: inngest.ContextSync, user_ids: list[int], reason: str) -> None:
    """Ask for the users' re-rank (debounced there, so asking often costs nothing)."""
    fan_out(
        ctx,
        "request-rerank",
        [
            RerankRequested(user_id=u, reason=reason).to_event(id=f"rerank-{ctx.run_id}-{u}")
            for u in user_ids
        ],
    )


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The engagement functions, closing over `deps`."""
    settings = deps.settings
    per_user = [inngest.Concurrency(limit=settings.user_concurrency, key=USER_KEY)]

    @deps.inngest.create_function(
        fn_id="register-user",
        name="Register User",
        trigger=UserRegistered.trigger(),
        concurrency=per_user,
        retries=3,
        on_failure=progress_failure(deps, "register-user"),
    )
    def register_user(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Create or complete the user, welcome them, start their first matching."""
        event = UserRegistered.parse(ctx.event.data)
        ref = run_ref(ctx, "register-user")
        user = registration.register_user.run(
            ctx,
            "register",
            deps,
            registration.Registration(
                ref=ref, user_id=event.user_id, email=event.email, name=event.name
            ),
        )
        welcomed = registration.send_welcome.run(
            ctx, "send-welcome", deps, registration.Welcome(ref=ref, user_id=user.user_id)
        )
        first_run = PerformMatching(
            user_id=user.user_id,
            premium=user.premium,
            context=MatchingContext(source=UserRegistered.NAME),
        )
        ctx.step.send_event("start-matching", first_run.to_event(id=f"registered-{user.user_id}"))
        return user.model_dump() | {"welcomed": welcomed}

    @deps.inngest.create_function(
        fn_id="record-job-application",
        name="Record Job Application",
        trigger=JobApplied.trigger(),
        concurrency=per_user,
        retries=3,
        on_failure=progress_failure(deps, "record-job-application"),
    )
    def record_job_application(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Record the application once, strengthen the signals, stop recommending it."""
        event = JobApplied.parse(ctx.event.data)
        result = activity.record_application.run(
            ctx,
            "record-application",
            deps,
            activity.Application(
                ref=run_ref(ctx, "record-job-application"),
                user_id=event.user_id,
                job_id=event.job_id,
                company_id=event.company_id,
                applied_at=event.timestamp or event_time(ctx),
            ),
        )
        if result.new:
            request_rerank(ctx, [event.user_id], "application")
        return result.model_dump()

    @deps.inngest.create_function(
        fn_id="record-job-views",
        name="Record Job Views",
        trigger=JobViewed.trigger(),
        batch_events=inngest.Batch(
            max_size=settings.view_batch_size,
            timeout=timedelta(seconds=settings.view_batch_seconds),
        ),
        retries=3,
    )
    def record_job_views(ctx: inngest.ContextSync) -> dict[str, Any]:
        """A batch of views: the significant ones aggregated in one write. One bad
        event does not fail the batch; it is counted and left out."""
        views: list[activity.View] = []
        for raw in ctx.events or [ctx.event]:
            try:
                view = JobViewed.parse(raw.data)
            except inngest.NonRetriableError:
                continue
            views.append(
                activity.View(
                    user_id=view.user_id, job_id=view.job_id, seconds=view.duration, at_ms=raw.ts
                )
            )
        result = activity.record_views.run(
            ctx,
            "aggregate-views",
            deps,
            activity.Views(
                ref=run_ref(ctx, "record-job-views"),
                views=tuple(views),
                min_seconds=settings.view_min_seconds,
            ),
        )
        if result.users:
            request_rerank(ctx, result.users, "views")
        return result.model_dump() | {"events": len(ctx.events or [ctx.event]), "valid": len(views)}

    @deps.inngest.create_function(
        fn_id="record-job-feedback",
        name="Record Job Feedback",
        trigger=JobFeedback.trigger(),
        concurrency=per_user,
        retries=3,
        on_failure=progress_failure(deps, "record-job-feedback"),
    )
    def record_job_feedback(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Like or dislike: replace the feedback, move the signals by the difference."""
        event = JobFeedback.parse(ctx.event.data)
        result = activity.record_feedback.run(
            ctx,
            "record-feedback",
            deps,
            activity.Feedback(
                ref=run_ref(ctx, "record-job-feedback"),
                user_id=event.user_id,
                job_id=event.job_id,
                feedback=event.feedback,
            ),
        )
        if result.changed:
            request_rerank(ctx, [event.user_id], "feedback")
        return result.model_dump()

    @deps.inngest.create_function(
        fn_id="apply-preference-update",
        name="Apply Preference Update",
        trigger=PreferenceUpdated.trigger(),
        concurrency=per_user,
        retries=3,
        on_failure=progress_failure(deps, "apply-preference-update"),
    )
    def apply_preference_update(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Apply the one field now; the re-rank it requests is debounced per user.
        The edit's version is its event's time in ms, exactly as Inngest gives it."""
        event = PreferenceUpdated.parse(ctx.event.data)
        result = preferences.apply_preference.run(
            ctx,
            "apply-change",
            deps,
            preferences.PreferenceEdit(
                ref=run_ref(ctx, "apply-preference-update"),
                user_id=event.user_id,
                column=event.column,
                value=event.value,
                version_ms=ctx.event.ts,
            ),
        )
        if result.applied:
            request_rerank(ctx, [event.user_id], "preferences")
        return result.model_dump()

    @deps.inngest.create_function(
        fn_id="rerank-user-matches",
        name="Re-rank User Matches",
        trigger=RerankRequested.trigger(),
        debounce=inngest.Debounce(
            key=USER_KEY,
            period=timedelta(seconds=settings.rerank_debounce_seconds),
            timeout=timedelta(seconds=settings.rerank_debounce_timeout_seconds),
        ),
        retries=3,
    )
    def rerank_user_matches(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One re-rank after a quiet period: the one matching function, on the
        user's current preferences and signals (premium users' runs go first)."""
        event = RerankRequested.parse(ctx.event.data)
        target = preferences.rerank_target.run(
            ctx, "load-user", deps, preferences.RerankUser(user_id=event.user_id)
        )
        if target is None:
            return {"reranked": False, "reason": "user no longer exists"}
        run = PerformMatching(
            user_id=event.user_id,
            premium=target.premium,
            context=MatchingContext(source=f"rerank/{event.reason}"),
        )
        ctx.step.send_event("rerank", run.to_event(id=f"rerank-{ctx.run_id}"))
        return {"reranked": True, "user_id": event.user_id}

    return [
        register_user,
        record_job_application,
        record_job_views,
        record_job_feedback,
        apply_preference_update,
        rerank_user_matches,
    ]
