"""Emails to users, by type: composing them and the `notification/email` step.

Every user email (welcome, new jobs, digest, match ready) is composed here from
`mail.templates` and goes out through the one mail path, `Mailer.send`, which
keys it in the outbox, holds it back from suppressed addresses and unsubscribed
users, and adds the unsubscribe link of its category. Jobs shown are active and
not among those the user applied to or disliked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import inngest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.db.models import Job, User
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.templates import CATEGORIES, JobLine, render
from jobmatch.matching.read_store import StoredMatch, user_matches
from jobmatch.matching.store import excluded_jobs
from jobmatch.runs.progress import RunRef, advance

MATCHES_IN_EMAIL = 5


def job_lines(session: Session, user_id: int, job_ids: Sequence[int]) -> list[JobLine]:
    """The jobs as an email lists them, in the given order: active ones the user
    has not applied to or disliked (one query)."""
    rows = session.execute(
        select(Job.id, Job.title, Job.company, Job.location, Job.external_url).where(
            Job.id.in_(list(job_ids)),
            Job.status == "active",
            Job.id.not_in(excluded_jobs(user_id)),
        )
    ).all()
    by_id = {r.id: JobLine(r.title, r.company, r.location, r.external_url) for r in rows}
    return [by_id[j] for j in dict.fromkeys(job_ids) if j in by_id]


def match_lines(matches: Sequence[StoredMatch]) -> list[JobLine]:
    """Stored matches as an email lists them, with their scores."""
    return [JobLine(m.title, m.company, m.location, score=m.score) for m in matches]


def compose(user: User, kind: str, jobs: Sequence[JobLine], key: str, **data: Any) -> EmailMessage:
    """The email of `kind` to `user`, keyed `key` in the outbox."""
    rendered = render(kind, name=user.name, jobs=jobs, **data)
    return EmailMessage(
        idempotency_key=key,
        to_address=user.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        kind=kind,
        meta={"jobs": len(jobs), **{k: str(v) for k, v in data.items()}},
        user_id=user.id,
        category=CATEGORIES[kind],
    )


@legacy_step_body
def send_notification(
    ref: dict[str, Any],
    user_id: int,
    email: str,
    kind: str,
    job_ids: list[int],
    matches_saved: int | None,
    key: str,
    mailer: Mailer,
) -> dict[str, Any]:
    """Render and send one email of `kind` to the user. The address must be the
    user's: an event cannot direct our mail to a stranger."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise inngest.NonRetriableError(f"user {user_id} not found")
        if user.email != email:
            raise inngest.NonRetriableError(f"email does not belong to user {user_id}")
        if kind == "match_ready":
            jobs = match_lines(user_matches(session, user.email, limit=MATCHES_IN_EMAIL))
        else:
            jobs = job_lines(session, user_id, job_ids)
        data: dict[str, Any] = {"matches_saved": matches_saved} if matches_saved else {}
        sent = False
        if jobs or kind in ("welcome", "match_ready"):
            sent = mailer.send(session, compose(user, kind, jobs, key, **data))
        advance(session, RunRef.from_dict(ref), 1, done=True, detail={"sent": sent})
    return {"sent": sent, "jobs": len(jobs)}
