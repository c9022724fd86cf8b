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
from typing import Any

from sqlalchemy import delete, select, text

from jobmatch.alerts.emails import compose
from jobmatch.alerts.ranges import id_ranges
from jobmatch.db.models import Job, NewJobAlert, User
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.mail import Mailer
from jobmatch.mail.templates import JobLine
from jobmatch.runs.progress import RunRef, advance

SEND_MARGIN_SECONDS = 3.0  # left of a step's budget for the last send and the commit


def alert_key(batch_id: str, user_id: int) -> str:
    """The outbox key of one user's alert for one batch."""
    return f"new-batch:{batch_id}:{user_id}"


@legacy_step_body
def find_recipients(
    ref: dict[str, Any], batch_id: str, job_ids: list[int], max_jobs: int
) -> dict[str, int]:
    """Record who is alerted about which of the jobs (one statement); how many users."""
    with session_scope() as session:
        session.execute(
            text("""
                WITH batch AS (
                    SELECT j.id, j.normalized_role_id AS role_id FROM jobs j
                    WHERE j.id = ANY(CAST(:job_ids AS bigint[])) AND j.status = 'active'
                      AND j.normalized_role_id IS NOT NULL
                ), labels AS (
                    SELECT r.id AS role_id,
                           unnest(array_cat(r.aliases, ARRAY[r.name, r.id::text])) AS label
                    FROM global_roles r WHERE r.id IN (SELECT role_id FROM batch)
                ), fits AS (
                    SELECT DISTINCT p.user_id, b.id AS job_id
                    FROM labels l
                    JOIN user_preferences p ON p.roles && ARRAY[lower(l.label)]
                    JOIN batch b ON b.role_id = l.role_id
                )
                INSERT INTO new_job_alerts (batch_id, user_id, job_ids)
                SELECT :batch_id, f.user_id,
                       (array_agg(f.job_id ORDER BY f.job_id))[1:CAST(:max_jobs AS int)]
                FROM fits f JOIN users u ON u.id = f.user_id
                WHERE NOT EXISTS (
                        SELECT 1 FROM user_excluded_jobs x
                        WHERE x.user_id = f.user_id AND x.job_id = f.job_id)
                  AND NOT EXISTS (SELECT 1 FROM mail_suppressions s WHERE s.email = u.email)
                  AND NOT EXISTS (
                        SELECT 1 FROM mail_unsubscribes o
                        WHERE o.user_id = u.id AND o.category IN ('new_jobs', 'all'))
                GROUP BY f.user_id
                ON CONFLICT (batch_id, user_id) DO NOTHING
            """),
            {"batch_id": batch_id, "job_ids": job_ids, "max_jobs": max_jobs},
        )
        total = int(
            session.scalar(
                text("SELECT count(*) FROM new_job_alerts WHERE batch_id = :b"), {"b": batch_id}
            )
            or 0
        )
        advance(session, RunRef.from_dict(ref), 1, detail={"recipients": total})
    return {"recipients": total}


@legacy_step_body
def plan_chunks(batch_id: str, users_per_chunk: int) -> list[list[int | None]]:
    """Id ranges ([after, upto]) of the batch's recipients, `users_per_chunk` each."""
    with session_scope() as session:
        _, chunks = id_ranges(
            session,
            "SELECT user_id AS id FROM new_job_alerts WHERE batch_id = :b",
            {"b": batch_id},
            users_per_chunk,
        )
    return chunks


@legacy_step_body
def send_alert_chunk(
    batch_id: str, after: int, upto: int | None, mailer: Mailer, budget_seconds: float
) -> dict[str, Any]:
    """Send the alerts of the recipients `after < user_id <= upto` (jobs read once).
    A slow mail service cannot push the step past its budget: when the time is up,
    what was sent is committed (and keyed in the outbox) and `resume_after` names the
    last user done, for the next step to go on from."""
    deadline = Deadline.after(budget_seconds).part(keep=SEND_MARGIN_SECONDS)
    with session_scope() as session:
        query = (
            select(NewJobAlert.job_ids, User)
            .join(User, User.id == NewJobAlert.user_id)
            .where(NewJobAlert.batch_id == batch_id, NewJobAlert.user_id > after)
            .order_by(NewJobAlert.user_id)
        )
        if upto is not None:
            query = query.where(NewJobAlert.user_id <= upto)
        rows = session.execute(query).all()
        job_ids = sorted({j for r in rows for j in r.job_ids})
        jobs = {
            j.id: JobLine(j.title, j.company, j.location, j.external_url)
            for j in session.execute(
                select(Job.id, Job.title, Job.company, Job.location, Job.external_url).where(
                    Job.id.in_(job_ids), Job.status == "active"
                )
            )
        }
        sent, done, resume_after = 0, 0, None
        for row in rows:
            if done and deadline.expired:  # at least one per step: always progress
                resume_after = rows[done - 1].User.id
                break
            lines = [jobs[j] for j in row.job_ids if j in jobs]
            if lines:
                message = compose(row.User, "new_jobs", lines, alert_key(batch_id, row.User.id))
                sent += mailer.send(session, message)
            done += 1
    return {"users": done, "sent": sent, "resume_after": resume_after}


@legacy_step_body
def prune_alerts(keep_days: int) -> int:
    """Forget who was alerted about batches older than `keep_days`; how many rows."""
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with session_scope() as session:
        result = session.execute(delete(NewJobAlert).where(NewJobAlert.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
