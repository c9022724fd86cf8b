"""The notice that an async signup's matches are ready: the step bodies of
`notify-matching-complete`.

Both deliveries are keyed by `completion_key` (one per signup request), so a
retried step, a re-run, or a second `matching/completed` for the same request
delivers nothing twice: the email through the outbox's idempotency key, the
webhook through the `Idempotency-Key` header the receiver de-duplicates on.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from jobmatch.db.models import Job, User, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.templates import JobLine, render
from jobmatch.notifications.webhook import post_webhook
from jobmatch.security.addresses import Resolver

TOP_MATCHES_IN_MESSAGE = 5
KIND = "matching-complete"


def completion_key(user_id: str, request_id: str | None, run_id: str) -> str:
    """One notification per signup request (the run id when there is no request id)."""
    return f"{KIND}:{user_id}:{request_id or run_id}"


@legacy_step_body
def load_summary(user_id: int) -> dict[str, Any] | None:
    """Recipient, webhook and the best few saved matches (small: fits a step output);
    None when the user no longer exists."""
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
    """The plain-text completion email: the `match_ready` email users get."""
    top = [
        JobLine(m["title"], m["company"], m["location"], score=m["score"]) for m in summary["top"]
    ]
    name = summary["name"] or summary["email"]
    return render("match_ready", name=name, jobs=top, matches_saved=matches_saved).text


@legacy_step_body
def send_completion_email(
    summary: dict[str, Any], key: str, matches_saved: int, mailer: Mailer
) -> bool:
    """Record and send the email once per key; False when it was already sent."""
    with session_scope() as session:
        return mailer.send(
            session,
            EmailMessage(
                idempotency_key=key,
                to_address=summary["email"],
                subject="Your job matches are ready",
                body_text=email_body(summary, matches_saved),
                kind=KIND,
                meta={"matches_saved": matches_saved},
            ),
        )


@legacy_step_body
def post_completion_webhook(
    summary: dict[str, Any],
    key: str,
    request_id: str | None,
    matches_saved: int,
    http: httpx.Client,
    secret: SecretStr | None,
    resolver: Resolver,
) -> int:
    """Call the user's webhook with the best matches; its status code."""
    payload = {
        "event": "matching.completed",
        "user_email": summary["email"],
        "request_id": request_id,
        "matches_saved": matches_saved,
        "top_matches": summary["top"],
    }
    reveal = secret.get_secret_value() if secret is not None else None
    return post_webhook(http, summary["webhook_url"], payload, key, reveal, resolver=resolver)
