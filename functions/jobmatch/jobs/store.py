"""The SQL of job rows as they come in: insert the new ones once, and track which
were announced (`announced_at`), so a job is never stored without being matched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import Job
from jobmatch.db.unit_of_work import UnitOfWork


def insert_new(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    """Insert the rows whose `job_hash` is not stored yet (one statement); the
    (id, title) of those inserted."""
    if not rows:
        return []
    return [
        (int(r.id), str(r.title))
        for r in uow.execute(
            insert(Job)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=["job_hash"])
            .returning(Job.id, Job.title)
        )
    ]


def unannounced(uow: UnitOfWork, job_hashes: Sequence[str]) -> list[int]:
    """The ids of these jobs still waiting for their announcement."""
    return list(
        uow.scalars(
            select(Job.id).where(Job.job_hash.in_(list(job_hashes)), Job.announced_at.is_(None))
        ).all()
    )


def mark_announced(uow: UnitOfWork, job_ids: list[int]) -> None:
    """Record that `jobs/imported` for these jobs was accepted."""
    uow.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.announced_at.is_(None))
        .values(announced_at=func.now())
    )
