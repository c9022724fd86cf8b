"""The engagement store: every statement about users' registrations, applications,
views, feedback, preference edits and preference signals.

The step bodies in `engagement/` decide; the functions here read and write, each
in the caller's unit of work, each safe to run twice (an upsert, an insert that
does nothing on conflict, or an update guarded by a version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, cast, exists, func, literal, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import (
    Job,
    JobApplication,
    JobFeedback,
    JobView,
    PreferenceSignal,
    User,
    UserPreferences,
)
from jobmatch.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Registered:
    """A user as a registration left them."""

    user_id: int
    premium: bool
    created: bool


@dataclass(frozen=True)
class ViewTotal:
    """The significant views of one user on one job in a batch."""

    user_id: int
    job_id: int
    count: int
    seconds: float
    last_viewed_at: datetime


def user_exists(uow: UnitOfWork, user_id: int) -> bool:
    """Whether the user exists."""
    return bool(uow.scalar(select(exists().where(User.id == user_id))))


def job_exists(uow: UnitOfWork, job_id: int) -> bool:
    """Whether the job exists."""
    return bool(uow.scalar(select(exists().where(Job.id == job_id))))


def user_email(uow: UnitOfWork, user_id: int) -> str | None:
    """The user's email, None when there is no such user."""
    return uow.scalar(select(User.email).where(User.id == user_id))


def is_premium(uow: UnitOfWork, user_id: int) -> bool | None:
    """Whether the user is premium; None when there is no such user."""
    premium = uow.scalar(select(User.is_premium).where(User.id == user_id))
    return None if premium is None else bool(premium)


def register(uow: UnitOfWork, email: str, name: str | None) -> Registered:
    """Create the user by email, or complete them (a missing name is filled), with an
    empty preferences row; one upsert, so a concurrent registration makes one user."""
    row: Any = uow.execute(
        insert(User)
        .values(email=email, name=name)
        .on_conflict_do_update(
            index_elements=["email"], set_={"name": func.coalesce(User.name, name)}
        )
        .returning(User.id, User.is_premium, literal_column("(xmax = 0)").label("created"))
    ).one()
    ensure_preferences(uow, row.id)
    return Registered(int(row.id), bool(row.is_premium), bool(row.created))


def ensure_preferences(uow: UnitOfWork, user_id: int) -> None:
    """The user's preferences row, created empty (remote ok) if missing."""
    uow.execute(
        insert(UserPreferences)
        .values(user_id=user_id, remote_ok=True)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


def add_application(
    uow: UnitOfWork, user_id: int, job_id: int, company_id: int | None, applied_at: datetime
) -> int | None:
    """Insert the application; its id, or None when it was recorded before."""
    return uow.scalar(
        insert(JobApplication)
        .values(user_id=user_id, job_id=job_id, company_id=company_id, applied_at=applied_at)
        .on_conflict_do_nothing(index_elements=["user_id", "job_id"])
        .returning(JobApplication.id)
    )


def known_pairs(uow: UnitOfWork, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of the (user, job) pairs whose user and job both exist (one query)."""
    if not pairs:
        return set()
    rows = uow.execute(
        text("""
            SELECT p.u, p.j FROM unnest(CAST(:us AS int[]), CAST(:js AS bigint[])) AS p(u, j)
            WHERE EXISTS (SELECT 1 FROM users WHERE id = p.u)
              AND EXISTS (SELECT 1 FROM jobs WHERE id = p.j)
        """),
        {"us": [u for u, _ in pairs], "js": [j for _, j in pairs]},
    ).all()
    return {(int(u), int(j)) for u, j in rows}


def add_views(uow: UnitOfWork, totals: Sequence[ViewTotal]) -> None:
    """Add the views to the (user, job) aggregates, in one upsert."""
    if not totals:
        return
    stmt = insert(JobView).values(
        [
            {
                "user_id": t.user_id,
                "job_id": t.job_id,
                "view_count": t.count,
                "total_seconds": t.seconds,
                "last_viewed_at": t.last_viewed_at,
            }
            for t in totals
        ]
    )
    uow.execute(
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


def replace_feedback(uow: UnitOfWork, user_id: int, job_id: int, feedback: str) -> str | None:
    """Set the user's feedback on the job; the feedback it replaced (row locked, so
    two concurrent changes see each other's)."""
    before = uow.scalar(
        select(JobFeedback.feedback)
        .where(JobFeedback.user_id == user_id, JobFeedback.job_id == job_id)
        .with_for_update()
    )
    stmt = insert(JobFeedback).values(user_id=user_id, job_id=job_id, feedback=feedback)
    uow.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "job_id"],
            set_={"feedback": stmt.excluded.feedback, "updated_at": func.now()},
        )
    )
    return before


def set_preference(
    uow: UnitOfWork, user_id: int, column: str, value: object, version_ms: int
) -> bool:
    """Set `column` (a preferences column, or the user's `timezone`) unless the edit
    that set it last is newer than `version_ms`; whether it was applied. A changed
    preference drops the stored embedding."""
    ensure_preferences(uow, user_id)
    seen = cast(UserPreferences.field_versions[column].astext, BigInteger)
    changes: dict[str, Any] = {
        "field_versions": UserPreferences.field_versions.op("||")(
            func.jsonb_build_object(column, literal(version_ms))
        ),
        "updated_at": func.now(),
    }
    if column != "timezone":
        changes |= {column: value, "embedding": None}
    applied = uow.execute(
        update(UserPreferences)
        .where(UserPreferences.user_id == user_id, func.coalesce(seen, 0) <= version_ms)
        .values(changes)
        .returning(UserPreferences.user_id)
    ).first()
    if applied is not None and column == "timezone":
        uow.execute(update(User).where(User.id == user_id).values(timezone=value))
    return applied is not None


def move_signals(uow: UnitOfWork, moves: Mapping[tuple[int, str, str], float], limit: float) -> int:
    """Add each (user, kind, value) move to its weight, kept within +-`limit`, in one
    statement; how many weights changed."""
    if not moves:
        return 0
    rows = [
        {"user_id": u, "kind": k, "value": v, "weight": max(-limit, min(limit, w))}
        for (u, k, v), w in sorted(moves.items())
    ]
    stmt = insert(PreferenceSignal).values(rows)
    summed = PreferenceSignal.weight + stmt.excluded.weight
    uow.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "kind", "value"],
            set_={
                "weight": func.least(func.greatest(summed, -limit), limit),
                "updated_at": func.now(),
            },
        )
    )
    return len(rows)
