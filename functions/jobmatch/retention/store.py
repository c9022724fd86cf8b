"""Expiry and cleanup in bounded chunks: each call touches at most `limit` jobs (or
match rows) in one statement, so a step's time does not grow with the backlog.

Expiry and cleanup differ in what they keep. **Expiry** (daily, 3 AM) is about
relevance: a live job (`active`, or `closed` after leaving its board) older than
30 days by the earlier of its posted and imported dates becomes `expired`, and its
matches (candidates' and users') are removed so nobody is shown it again; the job
row stays, for history, de-duplication (a re-scraped old posting is not stored
again) and reporting. **Cleanup** (daily, 4 AM) is about storage: expired jobs
past the retention period are deleted (their candidate matches and skill tags go
with them by cascade), and so is match data no longer used: users' matches whose
job no longer exists, and matches computed from preferences sent inline for
someone we hold no preferences for (no user row) once past retention. Stored
preferences (`user_preferences`) go with their user by cascade, so none is ever
orphaned.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from jobmatch.db.models.matching import JOB_AGE_SQL, LIVE_SQL

_EXPIRE = text(f"""
    WITH picked AS (
        SELECT id FROM jobs
        WHERE {LIVE_SQL} AND {JOB_AGE_SQL} < now() - make_interval(days => :days)
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), expired AS (
        UPDATE jobs j SET status = 'expired', expired_at = now()
        FROM picked WHERE j.id = picked.id
        RETURNING j.id, j.job_hash
    ), candidate_matches AS (
        DELETE FROM candidate_job_matches c USING expired e WHERE c.job_id = e.id
        RETURNING 1
    ), user_matches AS (
        DELETE FROM user_matches u USING expired e WHERE u.job_hash = e.job_hash
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM expired),
           (SELECT count(*) FROM candidate_matches) + (SELECT count(*) FROM user_matches)
""")  # noqa: S608 - constant fragments of db.models, no input

_DELETE_EXPIRED = text("""
    WITH picked AS (
        SELECT id, job_hash FROM jobs
        WHERE status = 'expired' AND expired_at < now() - make_interval(days => :days)
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ), user_matches AS (
        DELETE FROM user_matches u USING picked p WHERE u.job_hash = p.job_hash
    ), deleted AS (
        DELETE FROM jobs j USING picked p WHERE j.id = p.id RETURNING 1
    )
    SELECT count(*) FROM deleted
""")

_DELETE_UNUSED_MATCHES = text("""
    WITH scanned AS (
        SELECT id, job_hash, user_email, updated_at FROM user_matches
        WHERE id > :after ORDER BY id LIMIT :limit
    ), picked AS (
        SELECT s.id FROM scanned s
        WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_hash = s.job_hash)
           OR (s.updated_at < now() - make_interval(days => :days)
               AND NOT EXISTS (SELECT 1 FROM users x WHERE x.email = s.user_email))
    ), deleted AS (
        DELETE FROM user_matches u USING picked p WHERE u.id = p.id RETURNING 1
    )
    SELECT (SELECT max(id) FROM scanned), (SELECT count(*) FROM scanned),
           (SELECT count(*) FROM deleted)
""")


def expire_jobs(uow: Session, older_than_days: int, limit: int) -> tuple[int, int]:
    """Expire up to `limit` live jobs older than `older_than_days` and remove their
    matches; (jobs expired, matches removed)."""
    row = uow.execute(_EXPIRE, {"days": older_than_days, "limit": limit}).one()
    return int(row[0]), int(row[1])


def delete_expired_jobs(uow: Session, retention_days: int, limit: int) -> int:
    """Delete up to `limit` jobs expired more than `retention_days` ago."""
    return int(uow.scalar(_DELETE_EXPIRED, {"days": retention_days, "limit": limit}) or 0)


def delete_unused_matches(
    uow: Session, retention_days: int, after_id: int, limit: int
) -> tuple[int | None, int, int]:
    """Look at the next `limit` user matches after id `after_id` (a cursor, so a
    step's work does not grow with the table) and delete the unused ones (see the
    module doc); (last id looked at or None at the end, looked at, deleted)."""
    row = uow.execute(
        _DELETE_UNUSED_MATCHES, {"days": retention_days, "after": after_id, "limit": limit}
    ).one()
    return (int(row[0]) if row[0] is not None else None), int(row[1]), int(row[2])
