"""Step bodies of expiry and cleanup: one bounded chunk each, one unit of work,
counts out. A chunk run twice finds nothing left to do in what the first finished."""

from __future__ import annotations

from jobmatch.retention import store
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body


class ExpireChunk(StepInput):
    """Live jobs older than `older_than_days`, at most `limit` of them."""

    older_than_days: int
    limit: int


class Expired(StepOutput):
    """What one chunk of expiry did."""

    expired: int
    matches_removed: int


class DeleteExpiredChunk(StepInput):
    """Jobs expired more than `retention_days` ago, at most `limit` of them."""

    retention_days: int
    limit: int


class UnusedMatchesChunk(StepInput):
    """The next `limit` user matches after id `after_id`, unused past `retention_days`."""

    retention_days: int
    after_id: int
    limit: int


class Scanned(StepOutput):
    """One chunk of user matches: where the next starts (-1 once the table is done),
    how many were looked at, how many deleted."""

    after: int
    scanned: int
    deleted: int


@step_body
def expire_chunk(deps: StepDeps, inp: ExpireChunk) -> Expired:
    """One chunk of expiry: jobs expired, and their matches removed."""
    with deps.unit_of_work() as uow:
        expired, removed = store.expire_jobs(uow, inp.older_than_days, inp.limit)
    return Expired(expired=expired, matches_removed=removed)


@step_body
def delete_expired_chunk(deps: StepDeps, inp: DeleteExpiredChunk) -> int:
    """One chunk of expired jobs past retention deleted; how many."""
    with deps.unit_of_work() as uow:
        return store.delete_expired_jobs(uow, inp.retention_days, inp.limit)


@step_body
def delete_unused_matches_chunk(deps: StepDeps, inp: UnusedMatchesChunk) -> Scanned:
    """One chunk of user matches looked at, the unused deleted."""
    with deps.unit_of_work() as uow:
        last, scanned, deleted = store.delete_unused_matches(
            uow, inp.retention_days, inp.after_id, inp.limit
        )
    return Scanned(after=-1 if last is None else last, scanned=scanned, deleted=deleted)
