"""The external scraper's work queue: one row per global role, claimed by one
scraper session at a time.

A claim locks the oldest-scraped queued role with `FOR UPDATE SKIP LOCKED`, so
scrapers claiming at the same moment each get a different role and none waits
for another's transaction. A session stays alive by heartbeats; one silent for
too long is marked stale and its role goes back to the queue. Completed roles
are queued again each night for a fresh scrape. Every function runs in the
caller's transaction. Roles added to `global_roles` are queued by the
schedules (every 15 minutes and nightly).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from jobmatch.db.models import GlobalRole, ScraperSession


@dataclass(frozen=True)
class Claim:
    """A new session and the role it scrapes."""

    session_id: str
    role_id: int
    role_name: str
    aliases: list[str]


_NEXT_QUEUED = text("""
    SELECT role_id FROM role_scrape_queue
    WHERE status = 'queued'
    ORDER BY completed_at NULLS FIRST, role_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
""")

_ENQUEUE_MISSING = text("""
    INSERT INTO role_scrape_queue (role_id)
    SELECT g.id FROM global_roles g
    WHERE NOT EXISTS (SELECT 1 FROM role_scrape_queue q WHERE q.role_id = g.id)
    ORDER BY g.id
    ON CONFLICT DO NOTHING
""")


def enqueue_missing_roles(session: Session) -> int:
    """Queue the roles that have no queue row yet (roles added since). Not done by a
    claim: two claims inserting the same new rows would wait for each other, which
    is what the queue exists to avoid; the schedules do it instead."""
    result = session.execute(_ENQUEUE_MISSING)
    return int(getattr(result, "rowcount", 0) or 0)


def claim_next(session: Session, scraper: str) -> Claim | None:
    """Claim the next queued role for a new session; None when nothing is queued."""
    role_id = session.scalar(_NEXT_QUEUED)
    if role_id is None:
        return None
    role = session.get(GlobalRole, role_id)
    if role is None:  # deleted since: the cascade removes its queue row too
        return None
    session_id = str(uuid.uuid4())
    session.add(ScraperSession(id=session_id, role_id=role_id, scraper=scraper, status="active"))
    session.flush()
    session.execute(
        text("""
            UPDATE role_scrape_queue
            SET status = 'claimed', session_id = :sid, claimed_at = now()
            WHERE role_id = :rid
        """),
        {"sid": session_id, "rid": role_id},
    )
    return Claim(session_id, role.id, role.name, list(role.aliases))


def known(uow: Session, session_id: str) -> bool:
    """Whether a scraper session with this id exists (in any status)."""
    return uow.get(ScraperSession, session_id) is not None


def heartbeat(session: Session, session_id: str) -> ScraperSession | None:
    """Keep an active session alive; the session as it now is (None if unknown).
    A session that is no longer active is returned unchanged."""
    session.execute(
        text("""
            UPDATE scraper_sessions SET last_heartbeat_at = now()
            WHERE id = :sid AND status = 'active'
        """),
        {"sid": session_id},
    )
    return session.get(ScraperSession, session_id, populate_existing=True)


def finish(session: Session, session_id: str, received: int, created: int) -> ScraperSession | None:
    """Complete an active session with its job counts, and its role with it. A
    stale session's role was re-queued (and may be someone else's now), so neither
    changes; a completed one stays as it was (a retried call counts nothing twice)."""
    row = session.get(ScraperSession, session_id, with_for_update=True)
    if row is None:
        return None
    if row.status == "active":
        row.jobs_received, row.jobs_created = received, created
        row.status = "completed"
        row.ended_at = datetime.now(UTC)
        session.execute(
            text("""
                UPDATE role_scrape_queue
                SET status = 'completed', completed_at = now(), times_scraped = times_scraped + 1
                WHERE role_id = :rid AND session_id = :sid AND status = 'claimed'
            """),
            {"rid": row.role_id, "sid": session_id},
        )
    session.flush()
    return row


def reset_stale(session: Session, max_age_minutes: int, limit: int) -> int:
    """Mark up to `limit` sessions silent for `max_age_minutes` stale and put their
    roles back in the queue; how many sessions were reset."""
    return int(
        session.scalar(
            text("""
                WITH stale AS (
                    UPDATE scraper_sessions SET status = 'stale', ended_at = now()
                    WHERE id IN (
                        SELECT id FROM scraper_sessions
                        WHERE status = 'active'
                          AND last_heartbeat_at < now() - make_interval(mins => :age)
                        ORDER BY last_heartbeat_at
                        LIMIT :limit
                        FOR UPDATE SKIP LOCKED
                    )
                    RETURNING id
                ), requeued AS (
                    UPDATE role_scrape_queue
                    SET status = 'queued', session_id = NULL, claimed_at = NULL
                    WHERE session_id IN (SELECT id FROM stale) AND status = 'claimed'
                )
                SELECT count(*) FROM stale
            """),
            {"age": max_age_minutes, "limit": limit},
        )
        or 0
    )


def requeue_completed(session: Session, limit: int) -> int:
    """Queue up to `limit` completed roles again; how many."""
    result = session.execute(
        text("""
            UPDATE role_scrape_queue SET status = 'queued', session_id = NULL
            WHERE role_id IN (
                SELECT role_id FROM role_scrape_queue WHERE status = 'completed'
                ORDER BY role_id LIMIT :limit FOR UPDATE SKIP LOCKED
            )
        """),
        {"limit": limit},
    )
    return int(getattr(result, "rowcount", 0) or 0)
