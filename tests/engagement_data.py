"""Builders and readers for the engagement tests: a small job world, users, and
the rows the functions write (read back from PostgreSQL, never taken on trust)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from inngest_harness.records import Run
from jobmatch.db.models import OutboxMessage, User
from jobmatch.db.session import session_scope
from tests import matching_data as make


def count(model: Any, *where: Any) -> int:
    """Rows of `model` matching `where`."""
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    """The outbox (of one kind), oldest first."""
    with session_scope() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query))


def backend_world(**user_fields: Any) -> dict[str, Any]:
    """A backend role, two close jobs (A slightly ahead of B on salary), jobs like B
    at the same company (C, E) and like A (D), and one user who prefers the role."""
    with session_scope() as s:
        role = make.role(s, "backend engineer", "python developer")
        common = {"skills": ["python", "sql", "django"], "description": "Python services"}
        a = make.job(s, role, company="Acme Systems", title="Backend Engineer", **common)
        b = make.job(
            s, role, company="Globex", title="Backend Engineer", salary_max=58_000, **common
        )
        c = make.job(s, role, company="Globex", title="Python Developer", **common)
        d = make.job(s, role, company="Acme Systems", title="Python Developer", **common)
        e = make.job(s, role, company="Globex", title="Senior Backend Engineer", **common)
        user = make.user(s, user_fields.pop("email", "ana@example.com"), ["backend engineer"])
        for key, value in user_fields.items():
            setattr(user, key, value)
        return {
            "role": role,
            "user": user.id,
            "email": user.email,
            **{name: job.id for name, job in zip("abcde", (a, b, c, d, e), strict=True)},
        }


def match_order(email: str) -> list[int]:
    """The user's visible matches (the read path), best first, as job ids."""
    from jobmatch.matching.read_store import user_matches

    with session_scope() as session:
        return [m.job_id for m in user_matches(session, email, limit=50)]


def user_row(user_id: int) -> User | None:
    """The user as stored."""
    with session_scope() as session:
        return session.get(User, user_id)


def most_at_once(runs: list[Run]) -> int:
    """The most of these runs executing a request at the same virtual moment
    (from their requests' start and end times)."""
    edges = sorted(
        (t, d)
        for run in runs
        for x in run.exchanges
        for t, d in ((x.started_at, 1), (x.ended_at, -1))
        if t is not None
    )
    current = peak = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak
