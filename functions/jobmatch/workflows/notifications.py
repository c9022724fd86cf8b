"""`notify-matching-complete`: tell an async signup that its matches are ready.

Triggered by `matching/completed`, which `perform-ai-matching` sends after it has
saved a user's matches. Only runs whose `context.notify` is true (the async
signup mode) notify. Two independent steps, each safe to run twice (see
`notifications.steps`): the email, and the signed webhook callback.
"""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.matching import MatchingCompleted
from jobmatch.notifications import steps as completion
from jobmatch.observability import logger


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The notification functions, closing over `deps`."""

    @deps.inngest.create_function(
        fn_id="notify-matching-complete",
        name="Notify Matching Complete",
        trigger=MatchingCompleted.trigger(),
        retries=3,
    )
    def notify_matching_complete(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Email the user and call their webhook when an async signup's matching is done."""
        event = MatchingCompleted.parse(ctx.event.data)
        if not event.context.notify:
            return {"notified": False, "reason": "notification not requested"}
        user = completion.UserToNotify(user_id=event.user_id)
        summary = completion.load_summary.run(ctx, "load-summary", deps, user)
        if summary is None:
            return {"notified": False, "reason": "user no longer exists"}
        notice = completion.Notice(
            summary=summary,
            key=completion.completion_key(event.user_id, event.context.request_id, ctx.run_id),
            request_id=event.context.request_id,
            matches_saved=event.matches_saved,
        )
        emailed = completion.send_completion_email.run(ctx, "send-email", deps, notice)
        webhook_status = None
        if summary.webhook_url:
            webhook_status = completion.post_completion_webhook.run(
                ctx, "post-webhook", deps, notice
            )
        logger.info("matching completion notified", extra={"emailed": emailed})
        return {"notified": True, "emailed": emailed, "webhook_status": webhook_status}

    return [notify_matching_complete]
