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
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.alerts.emails import compose, match_lines
from jobmatch.alerts.ranges import id_ranges
from jobmatch.db.models import DigestLog, User
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.mail import Mailer
from jobmatch.matching.read_store import user_matches
from jobmatch.runs.progress import RunRef, advance

# Users due for a digest at :as_of, with their local date; :after/:upto bound ids.
_DUE = """
    WITH zones AS (
        SELECT name, (CAST(:as_of AS timestamptz) AT TIME ZONE name)::date AS local_date
        FROM pg_timezone_names
        WHERE extract(hour FROM CAST(:as_of AS timestamptz) AT TIME ZONE name) = :hour
    )
    SELECT u.id, u.is_premium, z.local_date
    FROM users u JOIN zones z ON z.name = u.timezone
    WHERE u.id > :after AND (CAST(:upto AS int) IS NULL OR u.id <= :upto)
      AND NOT EXISTS (
          SELECT 1 FROM digest_log d WHERE d.user_id = u.id AND d.digest_date = z.local_date)
      AND NOT EXISTS (
          SELECT 1 FROM mail_unsubscribes s
          WHERE s.user_id = u.id AND s.category IN ('digest', 'all'))
      AND NOT EXISTS (SELECT 1 FROM mail_suppressions x WHERE x.email = u.email)
      AND EXISTS (
          SELECT 1 FROM user_matches m
          WHERE m.user_email = u.email
            AND m.created_at > COALESCE(
                (SELECT max(d.created_at) FROM digest_log d WHERE d.user_id = u.id),
                '-infinity'))
"""


@legacy_step_body
def moment(requested: str | None) -> str:
    """The moment a digest run decides who is due at: the one requested, else now
    (a step, so that a retried or resumed run decides at the same moment)."""
    at = datetime.fromisoformat(requested) if requested else datetime.now(UTC)
    return at.astimezone(UTC).isoformat()


def _params(as_of: str, hour: int, after: int = 0, upto: int | None = None) -> dict[str, Any]:
    return {"as_of": datetime.fromisoformat(as_of), "hour": hour, "after": after, "upto": upto}


@legacy_step_body
def plan_digest(ref: dict[str, Any], as_of: str, hour: int, users_per_chunk: int) -> dict[str, Any]:
    """How many users are due, and the id ranges ([after, upto]) of chunks of them."""
    with session_scope() as session:
        due, chunks = id_ranges(session, _DUE, _params(as_of, hour), users_per_chunk)
        advance(session, RunRef.from_dict(ref), 1, detail={"as_of": as_of, "due": due})
    return {"due": due, "chunks": chunks}


@legacy_step_body
def due_users(as_of: str, hour: int, after: int, upto: int | None) -> list[list[Any]]:
    """[user id, premium, local date] of the users of one chunk still due."""
    with session_scope() as session:
        rows = session.execute(
            text(_DUE + " ORDER BY u.id"), _params(as_of, hour, after, upto)
        ).all()
    return [[int(r.id), bool(r.is_premium), r.local_date.isoformat()] for r in rows]


def digest_key(user_id: int, digest_date: str) -> str:
    """The outbox key (and event id) of one user's digest for one local date."""
    return f"digest:{user_id}:{digest_date}"


@legacy_step_body
def send_user_digest(
    user_id: int, digest_date: str, max_jobs: int, mailer: Mailer
) -> dict[str, Any]:
    """One user's digest: the best matches stored since the last digest, logged and
    sent in one transaction; nothing when there is nothing new or it went already."""
    day = date.fromisoformat(digest_date)
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            return {"sent": False, "reason": "user no longer exists"}
        if _logged(session, user_id, day):
            return {"sent": False, "reason": "already sent"}
        last = session.scalar(
            select(func.max(DigestLog.created_at)).where(DigestLog.user_id == user_id)
        )
        matches = user_matches(session, user.email, limit=max_jobs, created_after=last)
        if not matches:
            return {"sent": False, "reason": "nothing new"}
        logged = session.scalar(
            insert(DigestLog)
            .values(user_id=user_id, digest_date=day, job_count=len(matches))
            .on_conflict_do_nothing(index_elements=["user_id", "digest_date"])
            .returning(DigestLog.id)
        )
        if logged is None:  # a concurrent try logged it first
            return {"sent": False, "reason": "already sent"}
        message = compose(
            user,
            "digest",
            match_lines(matches),
            digest_key(user_id, digest_date),
            digest_date=digest_date,
        )
        sent = mailer.send(session, message)
    return {"sent": sent, "jobs": len(matches)}


def _logged(session: Session, user_id: int, day: date) -> bool:
    return bool(
        session.scalar(
            select(exists().where(DigestLog.user_id == user_id, DigestLog.digest_date == day))
        )
    )
