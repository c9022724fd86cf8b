"""Step bodies of the scraper queue's scheduled functions: own session, counts out."""

from __future__ import annotations

from jobmatch.db.session import session_scope
from jobmatch.scraping import queue


def reset_stale_sessions(max_age_minutes: int, limit: int) -> int:
    """Reset up to `limit` stale sessions, re-queueing their roles; how many."""
    with session_scope() as session:
        return queue.reset_stale(session, max_age_minutes, limit)


def requeue_completed_roles(limit: int) -> int:
    """Queue up to `limit` completed roles again; how many."""
    with session_scope() as session:
        return queue.requeue_completed(session, limit)


def enqueue_new_roles() -> int:
    """Queue roles that were never queued; how many."""
    with session_scope() as session:
        return queue.enqueue_missing_roles(session)
