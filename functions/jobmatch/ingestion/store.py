"""Companies and their boards' jobs in PostgreSQL: who to fetch, what a fetch saw,
and what left a board. Every function runs in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from jobmatch.db.models import Company, Job
from jobmatch.ingestion.boards import Board

MAX_ERROR_CHARS = 1_000


def board_of(uow: Session, company_id: int) -> Board | None:
    """The board of a company, or None if there is no such company."""
    c = uow.get(Company, company_id)
    if c is None:
        return None
    return Board(c.id, c.name, c.provider, c.board_token, c.region)


@dataclass(frozen=True)
class CompanyRef:
    """A company to fetch: its id, and its board's provider (the flow-control key)."""

    id: int
    provider: str


def active_companies(uow: Session, after_id: int, limit: int) -> list[CompanyRef]:
    """The next active companies by id."""
    rows = uow.execute(
        select(Company.id, Company.provider)
        .where(Company.active, Company.id > after_id)
        .order_by(Company.id)
        .limit(limit)
    ).all()
    return [CompanyRef(r.id, r.provider) for r in rows]


def record_success(uow: Session, company_id: int) -> None:
    """The board answered with its postings: it exists, so the company is active."""
    uow.execute(
        update(Company)
        .where(Company.id == company_id)
        .values(active=True, last_fetched_at=func.now(), last_error=None, last_error_at=None)
    )


def record_error(uow: Session, company_id: int, message: str, *, deactivate: bool) -> None:
    """Keep why the board failed; a board that does not exist stops being fetched."""
    values: dict[str, Any] = {"last_error": message[:MAX_ERROR_CHARS], "last_error_at": func.now()}
    if deactivate:
        values["active"] = False
    uow.execute(update(Company).where(Company.id == company_id).values(**values))


def mark_seen(uow: Session, company_id: int, hashes: list[str]) -> int:
    """The board still lists these jobs: they belong to the company, were seen now,
    and a job that had left the board and is back is open again. Expired jobs stay
    expired: their age, not their listing, decides."""
    if not hashes:
        return 0
    result = uow.execute(
        update(Job)
        .where(Job.job_hash.in_(hashes), Job.status.in_(("active", "closed")))
        .values(
            company_id=company_id,
            last_seen_at=func.now(),
            vanished_at=None,
            status=case((Job.status == "closed", "active"), else_=Job.status),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def close_vanished(uow: Session, company_id: int) -> int:
    """Jobs of the company's board that this fetch did not see are closed (kept,
    with the time they left). `now()` is the transaction's start, the same value
    `mark_seen` stamped on every job seen in this transaction."""
    result = uow.execute(
        update(Job)
        .where(
            Job.company_id == company_id,
            Job.status == "active",
            func.coalesce(Job.last_seen_at, Job.imported_at) < func.now(),
        )
        .values(status="closed", vanished_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
