"""Step bodies of expiry and cleanup: one bounded chunk each, own session, counts out.
A chunk run twice finds nothing left to do in what the first run finished."""

from __future__ import annotations

from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.retention import repository


@legacy_step_body
def expire_chunk(older_than_days: int, limit: int) -> dict[str, int]:
    """One chunk of expiry: {expired, matchesRemoved}."""
    with session_scope() as session:
        expired, removed = repository.expire_jobs(session, older_than_days, limit)
    return {"expired": expired, "matchesRemoved": removed}


@legacy_step_body
def delete_expired_chunk(retention_days: int, limit: int) -> int:
    """One chunk of expired jobs past retention deleted; how many."""
    with session_scope() as session:
        return repository.delete_expired_jobs(session, retention_days, limit)


@legacy_step_body
def delete_unused_matches_chunk(retention_days: int, after_id: int, limit: int) -> dict[str, int]:
    """One chunk of user matches looked at, the unused deleted: {after, scanned, deleted};
    `after` is where the next chunk starts (-1 once the table is done)."""
    with session_scope() as session:
        last, scanned, deleted = repository.delete_unused_matches(
            session, retention_days, after_id, limit
        )
    return {"after": -1 if last is None else last, "scanned": scanned, "deleted": deleted}
