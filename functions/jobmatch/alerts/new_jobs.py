"""`jobs/new-batch`: tell each user whose preferences fit the new jobs, once.

Who fits is one set-based statement per batch, not a query per user: the batch's
jobs, their roles' names and aliases, the users whose preferred roles name one of
them (GIN index on `user_preferences.roles`), minus jobs the user applied to or
disliked, minus suppressed addresses and users who opted out of new-job emails,
aggregated to one row per user and written into `new_job_alerts` (batch, user).
The sending then fans out in chunks of users by id range; each alert's outbox key
is `new-batch:<batch>:<user>`, so a repeated batch, a re-sent chunk or a retried
step alerts nobody twice.

Fit is by role, as the engine's candidate generation does it; location and salary
are not filtered here (the jobs are new: the user sees them and judges).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobmatch.alerts import store
from jobmatch.alerts.emails import compose
from jobmatch.alerts.store import IdRange
from jobmatch.deadline import Deadline
from jobmatch.runs.progress import RunRef, advance
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

SEND_MARGIN_SECONDS = 3.0  # left of a step's budget for the last send and the commit


class Batch(StepInput):
    """A `jobs/new-batch`, as the alert steps know it."""

    batch_id: str


class NewJobs(Batch):
    """The batch's jobs; at most `max_jobs` of them in one alert."""

    ref: RunRef
    job_ids: tuple[int, ...]
    max_jobs: int


class Recipients(StepOutput):
    """How many users are alerted about the batch."""

    recipients: int


class Chunking(Batch):
    """Recipients in chunks of `users_per_chunk`."""

    users_per_chunk: int


class AlertChunk(Batch):
    """The recipients `after < user_id <= upto`, within `budget_seconds`."""

    after: int
    upto: int | None
    budget_seconds: float


class ChunkSent(StepOutput):
    """Users done and emails sent; `resume_after`: the last user done when the time
    ran out (None: the chunk is done)."""

    users: int
    sent: int
    resume_after: int | None


class Retention(StepInput):
    """Records older than `keep_days` go."""

    keep_days: int


def alert_key(batch_id: str, user_id: int) -> str:
    """The outbox key of one user's alert for one batch."""
    return f"new-batch:{batch_id}:{user_id}"


@step_body
def find_recipients(deps: StepDeps, inp: NewJobs) -> Recipients:
    """Record who is alerted about which of the jobs (one statement); how many users."""
    with deps.unit_of_work() as uow:
        total = store.record_recipients(uow, inp.batch_id, inp.job_ids, inp.max_jobs)
        advance(uow, inp.ref, 1, detail={"recipients": total})
    return Recipients(recipients=total)


@step_body
def plan_chunks(deps: StepDeps, inp: Chunking) -> list[IdRange]:
    """Id ranges of the batch's recipients, `users_per_chunk` each."""
    with deps.unit_of_work() as uow:
        return store.alert_ranges(uow, inp.batch_id, inp.users_per_chunk)


@step_body
def send_alert_chunk(deps: StepDeps, inp: AlertChunk) -> ChunkSent:
    """Send the alerts of the recipients `after < user_id <= upto` (jobs read once).
    A slow mail service cannot push the step past its budget: when the time is up,
    what was sent is committed (and keyed in the outbox) and `resume_after` names the
    last user done, for the next step to go on from."""
    deadline = Deadline.after(inp.budget_seconds).part(keep=SEND_MARGIN_SECONDS)
    with deps.unit_of_work() as uow:
        alerts = store.alerts_in(uow, inp.batch_id, inp.after, inp.upto)
        jobs = store.active_job_lines(uow, sorted({j for _, ids in alerts for j in ids}))
        sent, done, resume_after = 0, 0, None
        for to, job_ids in alerts:
            if done and deadline.expired:  # at least one per step: always progress
                resume_after = alerts[done - 1][0].user_id
                break
            lines = [jobs[j] for j in job_ids if j in jobs]
            if lines:
                message = compose(to, "new_jobs", lines, alert_key(inp.batch_id, to.user_id))
                sent += deps.mailer.send(uow, message)
            done += 1
    return ChunkSent(users=done, sent=sent, resume_after=resume_after)


@step_body
def prune_alerts(deps: StepDeps, inp: Retention) -> int:
    """Forget who was alerted about batches older than `keep_days`; how many rows."""
    with deps.unit_of_work() as uow:
        return store.prune_alerts(uow, datetime.now(UTC) - timedelta(days=inp.keep_days))
