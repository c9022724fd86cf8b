"""Step bodies of the scraper queue's scheduled functions: one unit of work each,
counts out (the pattern every step body follows: `(deps, inp) -> typed output`)."""

from __future__ import annotations

from jobmatch.scraping import store as queue_store
from jobmatch.step_contract import StepDeps, StepInput, step_body


class Batch(StepInput):
    """At most `limit` rows in one step."""

    limit: int


class StaleBatch(Batch):
    """Sessions silent for more than `max_age_minutes`, at most `limit` of them."""

    max_age_minutes: int


@step_body
def reset_stale_sessions(deps: StepDeps, inp: StaleBatch) -> int:
    """Reset up to `limit` stale sessions, re-queueing their roles; how many."""
    with deps.unit_of_work() as uow:
        return queue_store.reset_stale(uow, inp.max_age_minutes, inp.limit)


@step_body
def requeue_completed_roles(deps: StepDeps, inp: Batch) -> int:
    """Queue up to `limit` completed roles again; how many."""
    with deps.unit_of_work() as uow:
        return queue_store.requeue_completed(uow, inp.limit)


@step_body
def enqueue_new_roles(deps: StepDeps) -> int:
    """Queue roles that were never queued; how many."""
    with deps.unit_of_work() as uow:
        return queue_store.enqueue_missing_roles(uow)
