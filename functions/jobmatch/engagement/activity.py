"""What users do with jobs: the step bodies of the application, view and feedback
functions. A frozen input in, one unit of work, a small typed output out, safe to
run twice.

- An application is inserted once per (user, job); only the first insert moves
  the preference signals, so a repeated `job/applied` changes nothing.
- Views come in batches (the function batches events): the significant ones are
  summed per (user, job) and written in one upsert; the run's progress record is
  the receipt that keeps a retried batch from counting twice.
- Feedback replaces the user's earlier feedback on the job; the signals move by
  the difference, so sending the same feedback twice moves nothing.

Applications and dislikes put the job in `user_excluded_jobs`: the engine stops
recommending it to that user and the match reads stop showing it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import inngest

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.engagement import signals, store
from jobmatch.runs.progress import RunRef, advance
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body


class RunStep(StepInput):
    """A step that records its run's progress."""

    ref: RunRef


class Application(RunStep):
    """`job/applied`, as the step records it."""

    user_id: int
    job_id: int
    company_id: int | None
    applied_at: datetime


class ApplicationRecorded(StepOutput):
    """The application's id, and whether this step inserted it."""

    application_id: int | None
    new: bool


class View(StepInput):
    """One `job/viewed`: who, which job, how long, when (event time, ms)."""

    user_id: int
    job_id: int
    seconds: float
    at_ms: int


class Views(RunStep):
    """A batch of views; those of `min_seconds` or less do not count."""

    views: tuple[View, ...]
    min_seconds: float


class ViewsRecorded(StepOutput):
    """Views counted and left out; the users whose signals moved."""

    recorded: int
    ignored: int
    users: list[int]
    repeat: bool = False


class Feedback(RunStep):
    """`job/feedback`: like or dislike."""

    user_id: int
    job_id: int
    feedback: str


class FeedbackRecorded(StepOutput):
    """The feedback now and before, and whether the signals moved."""

    feedback: str
    previous: str | None
    changed: bool


def require_user_and_job(uow: UnitOfWork, user_id: int, job_id: int) -> None:
    """Both exist, or the event is final: no retry makes an unknown id known."""
    if not store.user_exists(uow, user_id):
        raise inngest.NonRetriableError(f"user {user_id} not found")
    if not store.job_exists(uow, job_id):
        raise inngest.NonRetriableError(f"job {job_id} not found")


@step_body
def record_application(deps: StepDeps, inp: Application) -> ApplicationRecorded:
    """Record the application once; the first time, strengthen the user's signals."""
    with deps.unit_of_work() as uow:
        require_user_and_job(uow, inp.user_id, inp.job_id)
        new_id = store.add_application(uow, inp.user_id, inp.job_id, inp.company_id, inp.applied_at)
        if new_id is not None:
            signals.adjust(uow, {(inp.user_id, inp.job_id): signals.APPLY})
        advance(uow, inp.ref, 1, done=True, detail={"new": new_id is not None})
    return ApplicationRecorded(application_id=new_id, new=new_id is not None)


@step_body
def record_views(deps: StepDeps, inp: Views) -> ViewsRecorded:
    """Add a batch of views to the aggregates: only those longer than `min_seconds`,
    of known users and jobs, summed per (user, job), one upsert."""
    significant: dict[tuple[int, int], list[float]] = defaultdict(list)
    last_ms: dict[tuple[int, int], int] = {}
    for view in inp.views:
        if view.seconds > inp.min_seconds:
            pair = (view.user_id, view.job_id)
            significant[pair].append(view.seconds)
            last_ms[pair] = max(last_ms.get(pair, 0), view.at_ms)
    with deps.unit_of_work() as uow:
        if not advance(uow, inp.ref, 1, done=True, detail={"views": len(inp.views)}):
            return ViewsRecorded(recorded=0, ignored=0, users=[], repeat=True)
        known = sorted(store.known_pairs(uow, list(significant)))
        store.add_views(
            uow,
            [
                store.ViewTotal(
                    user_id=u,
                    job_id=j,
                    count=len(significant[(u, j)]),
                    seconds=sum(significant[(u, j)]),
                    last_viewed_at=datetime.fromtimestamp(last_ms[(u, j)] / 1000, UTC),
                )
                for u, j in known
            ],
        )
        if known:
            signals.adjust(uow, {pair: signals.VIEW * len(significant[pair]) for pair in known})
    recorded = sum(len(significant[p]) for p in known)
    return ViewsRecorded(
        recorded=recorded,
        ignored=len(inp.views) - recorded,
        users=sorted({u for u, _ in known}),
    )


@step_body
def record_feedback(deps: StepDeps, inp: Feedback) -> FeedbackRecorded:
    """Replace the user's feedback on the job; move the signals by the difference."""
    with deps.unit_of_work() as uow:
        require_user_and_job(uow, inp.user_id, inp.job_id)
        before = store.replace_feedback(uow, inp.user_id, inp.job_id, inp.feedback)
        delta = signals.FEEDBACK_WEIGHT[inp.feedback] - signals.FEEDBACK_WEIGHT[before]
        if delta:
            signals.adjust(uow, {(inp.user_id, inp.job_id): delta})
        advance(uow, inp.ref, 1, done=True, detail={"feedback": inp.feedback})
    return FeedbackRecorded(feedback=inp.feedback, previous=before, changed=bool(delta))
