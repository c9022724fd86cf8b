"""What users do with jobs: the step bodies of the application, view and feedback
functions. JSON in, own session, small JSON out, safe to run twice.

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
from typing import Any

import inngest
from sqlalchemy import exists, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import Job, JobApplication, JobFeedback, JobView, User
from jobmatch.db.session import session_scope
from jobmatch.engagement import signals
from jobmatch.failures import legacy_step_body
from jobmatch.runs.progress import RunRef, advance


def require_user_and_job(session: Session, user_id: int, job_id: int) -> None:
    """Both exist, or the event is final: no retry makes an unknown id known."""
    if not session.scalar(select(exists().where(User.id == user_id))):
        raise inngest.NonRetriableError(f"user {user_id} not found")
    if not session.scalar(select(exists().where(Job.id == job_id))):
        raise inngest.NonRetriableError(f"job {job_id} not found")


@legacy_step_body
def record_application(
    ref: dict[str, Any], user_id: int, job_id: int, company_id: int | None, applied_at: str
) -> dict[str, Any]:
    """Record the application once; the first time, strengthen the user's signals."""
    with session_scope() as session:
        require_user_and_job(session, user_id, job_id)
        new_id = session.scalar(
            insert(JobApplication)
            .values(
                user_id=user_id,
                job_id=job_id,
                company_id=company_id,
                applied_at=datetime.fromisoformat(applied_at),
            )
            .on_conflict_do_nothing(index_elements=["user_id", "job_id"])
            .returning(JobApplication.id)
        )
        if new_id is not None:
            signals.adjust(session, {(user_id, job_id): signals.APPLY})
        advance(session, RunRef.from_dict(ref), 1, done=True, detail={"new": new_id is not None})
    return {"application_id": new_id, "new": new_id is not None}


@legacy_step_body
def record_views(ref: dict[str, Any], views: list[list[Any]], min_seconds: float) -> dict[str, Any]:
    """Add a batch of views ([user, job, seconds, event ms]) to the aggregates: only
    those longer than `min_seconds`, of known users and jobs, summed per (user, job),
    one upsert. Returns the users whose signals changed."""
    significant: dict[tuple[int, int], list[float]] = defaultdict(list)
    last_ms: dict[tuple[int, int], int] = {}
    for user_id, job_id, seconds, at_ms in views:
        if seconds > min_seconds:
            pair = (int(user_id), int(job_id))
            significant[pair].append(float(seconds))
            last_ms[pair] = max(last_ms.get(pair, 0), int(at_ms))
    with session_scope() as session:
        if not advance(session, RunRef.from_dict(ref), 1, done=True, detail={"views": len(views)}):
            return {"recorded": 0, "users": [], "repeat": True}
        known = _known_pairs(session, list(significant))
        rows = [
            {
                "user_id": u,
                "job_id": j,
                "view_count": len(significant[(u, j)]),
                "total_seconds": sum(significant[(u, j)]),
                "last_viewed_at": datetime.fromtimestamp(last_ms[(u, j)] / 1000, UTC),
            }
            for u, j in sorted(known)
        ]
        if rows:
            stmt = insert(JobView).values(rows)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["user_id", "job_id"],
                    set_={
                        "view_count": JobView.view_count + stmt.excluded.view_count,
                        "total_seconds": JobView.total_seconds + stmt.excluded.total_seconds,
                        "last_viewed_at": func.greatest(
                            JobView.last_viewed_at, stmt.excluded.last_viewed_at
                        ),
                    },
                )
            )
            signals.adjust(session, {pair: signals.VIEW * len(significant[pair]) for pair in known})
    return {
        "recorded": sum(len(significant[p]) for p in known),
        "ignored": len(views) - sum(len(significant[p]) for p in known),
        "users": sorted({u for u, _ in known}),
    }


def _known_pairs(session: Session, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (user, job) pairs whose user and job both exist (one query)."""
    if not pairs:
        return set()
    rows = session.execute(
        text("""
            SELECT p.u, p.j FROM unnest(CAST(:us AS int[]), CAST(:js AS bigint[])) AS p(u, j)
            WHERE EXISTS (SELECT 1 FROM users WHERE id = p.u)
              AND EXISTS (SELECT 1 FROM jobs WHERE id = p.j)
        """),
        {"us": [u for u, _ in pairs], "js": [j for _, j in pairs]},
    ).all()
    return {(int(u), int(j)) for u, j in rows}


@legacy_step_body
def record_feedback(
    ref: dict[str, Any], user_id: int, job_id: int, feedback: str
) -> dict[str, Any]:
    """Replace the user's feedback on the job; move the signals by the difference."""
    with session_scope() as session:
        require_user_and_job(session, user_id, job_id)
        before = session.scalar(
            select(JobFeedback.feedback)
            .where(JobFeedback.user_id == user_id, JobFeedback.job_id == job_id)
            .with_for_update()
        )
        stmt = insert(JobFeedback).values(user_id=user_id, job_id=job_id, feedback=feedback)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "job_id"],
                set_={"feedback": stmt.excluded.feedback, "updated_at": func.now()},
            )
        )
        delta = signals.FEEDBACK_WEIGHT[feedback] - signals.FEEDBACK_WEIGHT[before]
        if delta:
            signals.adjust(session, {(user_id, job_id): delta})
        advance(session, RunRef.from_dict(ref), 1, done=True, detail={"feedback": feedback})
    return {"feedback": feedback, "previous": before, "changed": bool(delta)}
