"""The notice that an async signup's matches are ready: the step bodies of
`notify-matching-complete`.

Both deliveries are keyed by `completion_key` (one per signup request), so a
retried step, a re-run, or a second `matching/completed` for the same request
delivers nothing twice: the email through the outbox's idempotency key, the
webhook through the `Idempotency-Key` header the receiver de-duplicates on.
"""

from __future__ import annotations

from jobmatch.mail import EmailMessage
from jobmatch.mail.templates import JobLine, render
from jobmatch.matching.read_store import top_matches
from jobmatch.notifications.webhook import post_webhook
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body
from jobmatch.users import store as users

TOP_MATCHES_IN_MESSAGE = 5
KIND = "matching-complete"


def completion_key(user_id: int, request_id: str | None, run_id: str) -> str:
    """One notification per signup request (the run id when there is no request id)."""
    return f"{KIND}:{user_id}:{request_id or run_id}"


class TopMatch(StepOutput):
    """One of the best saved matches, as the notice shows it."""

    title: str
    company: str
    location: str
    score: float


class Summary(StepOutput):
    """Recipient, webhook and the best few saved matches (small: fits a step output)."""

    email: str
    name: str | None
    webhook_url: str | None
    top: list[TopMatch]


class UserToNotify(StepInput):
    """The user whose matching completed."""

    user_id: int


@step_body
def load_summary(deps: StepDeps, inp: UserToNotify) -> Summary | None:
    """Recipient, webhook and the best few saved matches; None when the user no
    longer exists."""
    with deps.unit_of_work() as uow:
        user = users.contact_of(uow, inp.user_id)
        if user is None:
            return None
        top = top_matches(uow, user.email, TOP_MATCHES_IN_MESSAGE)
    return Summary(
        email=user.email,
        name=user.name,
        webhook_url=user.webhook_url,
        top=[
            TopMatch(title=m.title, company=m.company, location=m.location, score=m.score)
            for m in top
        ],
    )


class Notice(StepInput):
    """What one completion notice says, and the key that sends it once."""

    summary: Summary
    key: str
    request_id: str | None
    matches_saved: int


def email_body(summary: Summary, matches_saved: int) -> str:
    """The plain-text completion email: the `match_ready` email users get."""
    top = [JobLine(m.title, m.company, m.location, score=m.score) for m in summary.top]
    name = summary.name or summary.email
    return render("match_ready", name=name, jobs=top, matches_saved=matches_saved).text


@step_body
def send_completion_email(deps: StepDeps, inp: Notice) -> bool:
    """Record and send the email once per key; False when it was already sent."""
    with deps.unit_of_work() as uow:
        return deps.mailer.send(
            uow,
            EmailMessage(
                idempotency_key=inp.key,
                to_address=inp.summary.email,
                subject="Your job matches are ready",
                body_text=email_body(inp.summary, inp.matches_saved),
                kind=KIND,
                meta={"matches_saved": inp.matches_saved},
            ),
        )


@step_body
def post_completion_webhook(deps: StepDeps, inp: Notice) -> int:
    """Call the user's webhook with the best matches; its status code."""
    summary = inp.summary
    payload = {
        "event": "matching.completed",
        "user_email": summary.email,
        "request_id": inp.request_id,
        "matches_saved": inp.matches_saved,
        "top_matches": [m.model_dump() for m in summary.top],
    }
    secret = deps.settings.webhook_signing_secret
    reveal = secret.get_secret_value() if secret is not None else None
    url = str(summary.webhook_url)
    return post_webhook(deps.http, url, payload, inp.key, reveal, resolver=deps.resolver)
