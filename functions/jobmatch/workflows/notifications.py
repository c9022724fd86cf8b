"""`notify-matching-complete`: tell an async signup that its matches are ready.

Triggered by `matching/completed`, which `perform-ai-matching` sends after it has
saved a user's matches. Only runs whose `context.notify` is true (the async
signup mode) notify. Two independent steps, each safe to run twice:
- the email goes through the outbox under a key per signup request, so a retried
  step or a second `matching/completed` for the same request sends nothing more;
- the webhook POST carries the same key in `Idempotency-Key`, and an HMAC of
  timestamp + body in `X-Jobmatch-Signature` when a signing secret is configured,
  so the receiver can both verify and de-duplicate.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import inngest
from pydantic import Field
from sqlalchemy import select

from jobmatch.db.models import Job, User, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.mail import EmailMessage, send_email
from jobmatch.observability import logger
from jobmatch.settings import get_settings
from jobmatch.workflows.client import inngest_client
from jobmatch.workflows.events import EventData, parse_event

TOP_MATCHES_IN_MESSAGE = 5
WEBHOOK_TIMEOUT_SECONDS = 5.0
RETRYABLE_STATUSES = (408, 429)


class CompletionContext(EventData):
    """The `context` that `matching/perform` carried, passed on unchanged."""

    source: str | None = None
    request_id: str | None = Field(default=None, alias="requestId")
    notify: bool = False


class MatchingCompleted(EventData):
    """`matching/completed`: a user's matching run saved its matches."""

    user_id: str = Field(alias="userId", min_length=1, max_length=40)
    matches_saved: int = Field(default=0, alias="matchesSaved", ge=0)
    method: str | None = None
    context: CompletionContext = CompletionContext()


@functools.cache
def _http() -> httpx.Client:
    """One client per container; no redirects (a redirect could leave https)."""
    return httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False)


def completion_key(event: MatchingCompleted, run_id: str) -> str:
    """One notification per signup request (the run id when there is no request id)."""
    return f"matching-complete:{event.user_id}:{event.context.request_id or run_id}"


def load_summary(user_id: int) -> dict[str, Any] | None:
    """Recipient, webhook and the best few saved matches (small: fits a step output)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        rows = session.execute(
            select(Job.title, Job.company, Job.location, UserMatch.score)
            .join(Job, Job.job_hash == UserMatch.job_hash)
            .where(UserMatch.user_email == user.email, Job.status == "active")
            .order_by(UserMatch.score.desc(), Job.id)
            .limit(TOP_MATCHES_IN_MESSAGE)
        ).all()
        return {
            "email": user.email,
            "name": user.name,
            "webhook_url": user.webhook_url,
            "top": [
                {"title": r.title, "company": r.company, "location": r.location, "score": r.score}
                for r in rows
            ],
        }


def email_body(summary: dict[str, Any], matches_saved: int) -> str:
    """The plain-text completion email."""
    lines = [
        f"Hello {summary['name'] or summary['email']},",
        "",
        f"Your job matches are ready: {matches_saved} jobs matched your profile.",
    ]
    if summary["top"]:
        lines += ["", "Your best matches:"]
        lines += [
            f"- {m['title']} at {m['company']} ({m['location']}): {m['score']:.0f}/100"
            for m in summary["top"]
        ]
    return "\n".join(lines)


def send_completion_email(summary: dict[str, Any], key: str, matches_saved: int) -> bool:
    """Record and send the email once per key; False when it was already sent."""
    with session_scope() as session:
        return send_email(
            session,
            EmailMessage(
                idempotency_key=key,
                to_address=summary["email"],
                subject="Your job matches are ready",
                body_text=email_body(summary, matches_saved),
                kind="matching-complete",
                meta={"matches_saved": matches_saved},
            ),
        )


def webhook_headers(body: bytes, key: str, secret: str | None, now: int) -> dict[str, str]:
    """Headers of a callback: idempotency key, and `t=<unix>,v1=<hmac>` over
    `<t>.<body>` when signed (the timestamp lets the receiver refuse replays)."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    if secret:
        mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Jobmatch-Signature"] = f"t={now},v1={mac}"
    return headers


def post_webhook(url: str, payload: dict[str, Any], key: str) -> int:
    """POST the callback. 5xx, 408, 429 and network errors raise (the step
    retries); another non-2xx is the receiver refusing it, which a retry cannot
    change."""
    secret = get_settings().webhook_signing_secret
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = webhook_headers(
        body, key, secret.get_secret_value() if secret else None, int(time.time())
    )
    response = _http().post(url, content=body, headers=headers)
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
        response.raise_for_status()
    if not 200 <= response.status_code < 300:
        raise inngest.NonRetriableError(f"webhook refused the callback: {response.status_code}")
    return response.status_code


@inngest_client.create_function(
    fn_id="notify-matching-complete",
    name="Notify Matching Complete",
    trigger=inngest.TriggerEvent(event="matching/completed"),
    retries=3,
)
def notify_matching_complete(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Email the user and call their webhook when an async signup's matching is done."""
    event = parse_event(MatchingCompleted, ctx.event.data)
    if not event.context.notify:
        return {"notified": False, "reason": "notification not requested"}
    if not event.user_id.isdigit():
        raise inngest.NonRetriableError(f"userId must be a numeric id, got {event.user_id!r}")
    summary = ctx.step.run("load-summary", load_summary, int(event.user_id))
    if summary is None:
        return {"notified": False, "reason": "user no longer exists"}
    key = completion_key(event, ctx.run_id)
    emailed = ctx.step.run("send-email", send_completion_email, summary, key, event.matches_saved)
    webhook_status = None
    if summary["webhook_url"]:
        payload = {
            "event": "matching.completed",
            "user_email": summary["email"],
            "request_id": event.context.request_id,
            "matches_saved": event.matches_saved,
            "top_matches": summary["top"],
        }
        webhook_status = ctx.step.run(
            "post-webhook", post_webhook, summary["webhook_url"], payload, key
        )
    logger.info("matching completion notified", extra={"emailed": emailed})
    return {"notified": True, "emailed": emailed, "webhook_status": webhook_status}


FUNCTIONS: list[inngest.Function[Any]] = [notify_matching_complete]
