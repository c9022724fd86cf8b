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

from jobmatch.alerts import store
from jobmatch.alerts.store import Recipient
from jobmatch.events.engagement import EmailType
from jobmatch.mail import EmailMessage
from jobmatch.mail.templates import CATEGORIES, JobLine, render
from jobmatch.matching.read_store import StoredMatch, user_matches
from jobmatch.runs.progress import RunRef, advance
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

MATCHES_IN_EMAIL = 5


class Notification(StepInput):
    """`notification/email`, as the step sends it: `key` keys it in the outbox."""

    ref: RunRef
    user_id: int
    email: str
    kind: EmailType
    job_ids: tuple[int, ...]
    matches_saved: int | None
    key: str


class Sent(StepOutput):
    """Whether an email went out now, and how many jobs it listed."""

    sent: bool
    jobs: int


def match_lines(matches: Sequence[StoredMatch]) -> list[JobLine]:
    """Stored matches as an email lists them, with their scores."""
    return [JobLine(m.title, m.company, m.location, score=m.score) for m in matches]


def compose(
    to: Recipient, kind: str, jobs: Sequence[JobLine], key: str, **data: Any
) -> EmailMessage:
    """The email of `kind` to `to`, keyed `key` in the outbox."""
    rendered = render(kind, name=to.name, jobs=jobs, **data)
    return EmailMessage(
        idempotency_key=key,
        to_address=to.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        kind=kind,
        meta={"jobs": len(jobs), **{k: str(v) for k, v in data.items()}},
        user_id=to.user_id,
        category=CATEGORIES[kind],
    )


@step_body
def send_notification(deps: StepDeps, inp: Notification) -> Sent:
    """Render and send one email of `kind` to the user. The address must be the
    user's: an event cannot direct our mail to a stranger."""
    with deps.unit_of_work() as uow:
        to = store.recipient(uow, inp.user_id)
        if to is None:
            raise inngest.NonRetriableError(f"user {inp.user_id} not found")
        if to.email != inp.email:
            raise inngest.NonRetriableError(f"email does not belong to user {inp.user_id}")
        if inp.kind == "match_ready":
            jobs = match_lines(user_matches(uow, to.email, limit=MATCHES_IN_EMAIL))
        else:
            jobs = store.job_lines(uow, inp.user_id, inp.job_ids)
        data: dict[str, Any] = {"matches_saved": inp.matches_saved} if inp.matches_saved else {}
        sent = False
        if jobs or inp.kind in ("welcome", "match_ready"):
            sent = deps.mailer.send(uow, compose(to, inp.kind, jobs, inp.key, **data))
        advance(uow, inp.ref, 1, done=True, detail={"sent": sent})
    return Sent(sent=sent, jobs=len(jobs))
