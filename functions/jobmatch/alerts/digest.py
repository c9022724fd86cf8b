"""The daily digest at 9 AM in each user's own time zone, from one hourly cron.

One cron cannot fire at 9 AM in every zone, so it fires every hour and asks which
users it is the digest hour for right now: the zones where the local time at
`as_of` is 9:xx (from PostgreSQL's time zone database, so the same rules decide
the hour and the local date), and the users in those zones. A user is due when
they have no digest for their local date yet, have not opted out of digests, are
not on the suppression list, and have matches stored since their last digest.

The run plans chunks of due users (id ranges), fans them out, each chunk fans out
one event per user (`digest:<user>:<local date>` ids: Inngest drops a repeat), and
each user's step writes the digest log row and sends in one transaction. The log
is unique per (user, local date) and the email is keyed the same way in the
outbox, so nobody gets two digests for a day, however often the run is retried,
restarted or triggered by hand; a user with nothing new gets none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from jobmatch.alerts import store
from jobmatch.alerts.emails import compose, match_lines
from jobmatch.alerts.store import DueUser, IdRange
from jobmatch.matching.read_store import user_matches
from jobmatch.runs.progress import RunRef, advance
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body


class Requested(StepInput):
    """The moment a run was asked to decide at (None: now)."""

    at: datetime | None


class DueAt(StepInput):
    """Who is due when the local time is `hour`:xx at `as_of`."""

    as_of: datetime
    hour: int


class Plan(DueAt):
    """A digest run's plan: chunks of `users_per_chunk`."""

    ref: RunRef
    users_per_chunk: int


class DigestPlan(StepOutput):
    """How many users are due, in chunks of users by id range."""

    due: int
    chunks: list[IdRange]


class Chunk(DueAt):
    """The users `after < id <= upto` of a digest run."""

    after: int
    upto: int | None


class DueOn(StepOutput):
    """The users of a chunk due a digest for one local date, by id; `premium_ids`
    the premium ones among them (ids, not a record per user: a chunk of 500 users
    stays a few KB of step output)."""

    local_date: date
    user_ids: list[int]
    premium_ids: list[int]


class DigestFor(StepInput):
    """One user's digest for a local date, at most `max_jobs` jobs."""

    user_id: int
    digest_date: date
    max_jobs: int


class DigestSent(StepOutput):
    """Whether the digest went out now (how many jobs), or why not."""

    sent: bool
    jobs: int = 0
    reason: str | None = None


@step_body
def moment(deps: StepDeps, inp: Requested) -> datetime:
    """The moment a digest run decides who is due at: the one requested, else now
    (a step, so that a retried or resumed run decides at the same moment)."""
    return (inp.at or datetime.now(UTC)).astimezone(UTC)


@step_body
def plan_digest(deps: StepDeps, inp: Plan) -> DigestPlan:
    """How many users are due, and the id ranges of chunks of them."""
    with deps.unit_of_work() as uow:
        due, chunks = store.digest_ranges(uow, inp.as_of, inp.hour, inp.users_per_chunk)
        advance(uow, inp.ref, 1, detail={"as_of": inp.as_of.isoformat(), "due": due})
    return DigestPlan(due=due, chunks=chunks)


@step_body
def due_users(deps: StepDeps, inp: Chunk) -> list[DueOn]:
    """The users of one chunk still due, by local date."""
    with deps.unit_of_work() as uow:
        due = store.due_users(uow, inp.as_of, inp.hour, inp.after, inp.upto)
    by_date: dict[date, list[DueUser]] = {}
    for user in due:
        by_date.setdefault(user.local_date, []).append(user)
    return [
        DueOn(
            local_date=day,
            user_ids=[u.user_id for u in users],
            premium_ids=[u.user_id for u in users if u.premium],
        )
        for day, users in sorted(by_date.items())
    ]


def digest_key(user_id: int, digest_date: date) -> str:
    """The outbox key (and event id) of one user's digest for one local date."""
    return f"digest:{user_id}:{digest_date.isoformat()}"


@step_body
def send_user_digest(deps: StepDeps, inp: DigestFor) -> DigestSent:
    """One user's digest: the best matches stored since the last digest, logged and
    sent in one transaction; nothing when there is nothing new or it went already."""
    day = inp.digest_date
    with deps.unit_of_work() as uow:
        to = store.recipient(uow, inp.user_id)
        if to is None:
            return DigestSent(sent=False, reason="user no longer exists")
        if store.digest_logged(uow, inp.user_id, day):
            return DigestSent(sent=False, reason="already sent")
        last = store.last_digest_at(uow, inp.user_id)
        matches = user_matches(uow, to.email, limit=inp.max_jobs, created_after=last)
        if not matches:
            return DigestSent(sent=False, reason="nothing new")
        if not store.log_digest(uow, inp.user_id, day, len(matches)):
            return DigestSent(sent=False, reason="already sent")  # a concurrent try
        message = compose(
            to,
            "digest",
            match_lines(matches),
            digest_key(inp.user_id, day),
            digest_date=day.isoformat(),
        )
        sent = deps.mailer.send(uow, message)
    return DigestSent(sent=sent, jobs=len(matches))
