"""Step bodies of the scraper queue's scheduled functions: own session, counts out."""

from __future__ import annotations

from jobmatch.db.session import session_scope
from jobmatch.failures import step_body
from jobmatch.scraping import queue


@step_body
def reset_stale_sessions(max_age_minutes: int, limit: int) -> int:
    """Reset up to `limit` stale sessions, re-queueing their roles; how many."""
    with session_scope() as session:
        return queue.reset_stale(session, max_age_minutes, limit)


@step_body
def requeue_completed_roles(limit: int) -> int:
    """Queue up to `limit` completed roles again; how many."""
    with session_scope() as session:
        return queue.requeue_completed(session, limit)


@step_body
def enqueue_new_roles() -> int:
    """Queue roles that were never queued; how many."""
    with session_scope() as session:
        return queue.enqueue_missing_roles(session)
