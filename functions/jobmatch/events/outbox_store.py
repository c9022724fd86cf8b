"""The event outbox's statements (`event_outbox`): record, claim, mark, age, prune.

Claims lock the rows they return (`FOR UPDATE SKIP LOCKED`), oldest first: two
flushes at once (a request's and the scheduled one) take disjoint rows, so a row
is in at most one send at a time, and a backlog drains in the order it was made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import OutboxEvent
from jobmatch.db.unit_of_work import UnitOfWork

PENDING, SENT = "pending", "sent"


@dataclass(frozen=True)
class StoredEvent:
    """A pending event as recorded: what to send, under which id."""

    row_id: int
    event_id: str
    name: str
    data: dict[str, Any]


def record(uow: UnitOfWork, events: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Record `(event_id, name, data)` rows pending, in the caller's transaction; an id
    already recorded (a retried request) is left as it is."""
    if not events:
        return
    rows = [{"event_id": i, "name": n, "data": d, "status": PENDING} for i, n, d in events]
    uow.execute(
        insert(OutboxEvent).values(rows).on_conflict_do_nothing(index_elements=["event_id"])
    )


def claim_pending(
    uow: UnitOfWork, limit: int, event_ids: Sequence[str] | None = None
) -> list[StoredEvent]:
    """At most `limit` pending rows (of `event_ids` when given), oldest first, locked
    until the transaction ends; rows another flush holds are skipped."""
    query = select(OutboxEvent.id, OutboxEvent.event_id, OutboxEvent.name, OutboxEvent.data).where(
        OutboxEvent.status == PENDING
    )
    if event_ids is not None:
        query = query.where(OutboxEvent.event_id.in_(list(event_ids)))
    query = (
        query.order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [StoredEvent(r.id, r.event_id, r.name, r.data) for r in uow.execute(query)]


def mark_sent(uow: UnitOfWork, row_ids: Sequence[int]) -> None:
    """The event API took these rows."""
    uow.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(list(row_ids)))
        .values(status=SENT, sent_at=func.now(), attempts=OutboxEvent.attempts + 1)
    )


def mark_failed(uow: UnitOfWork, row_ids: Sequence[int], error: str) -> None:
    """A send of these rows failed: they stay pending, with the reason."""
    uow.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(list(row_ids)), OutboxEvent.status == PENDING)
        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:1000])
    )


def oldest_pending_age(uow: UnitOfWork, now: datetime | None = None) -> float:
    """Seconds since the oldest pending row was recorded (0 when none is pending)."""
    oldest = uow.scalar(
        select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status == PENDING)
    )
    if oldest is None:
        return 0.0
    return max(0.0, ((now or datetime.now(UTC)) - oldest).total_seconds())


def delete_sent(uow: UnitOfWork, older_than: timedelta, limit: int) -> int:
    """Delete at most `limit` rows sent more than `older_than` ago; how many.
    (Inngest de-duplicates an id for 24 hours; a sent row older than that can
    neither be re-sent usefully nor be needed to refuse a retried request's id.)"""
    cutoff = datetime.now(UTC) - older_than
    doomed = (
        select(OutboxEvent.id)
        .where(OutboxEvent.status == SENT, OutboxEvent.sent_at < cutoff)
        .limit(limit)
        .scalar_subquery()
    )
    result = uow.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(doomed)))
    return int(getattr(result, "rowcount", 0) or 0)


@contextmanager
def reopened(uow: UnitOfWork) -> Iterator[UnitOfWork]:
    """A new transaction on a unit of work whose own one is over (an after-commit
    action): committed on success, rolled back on error, the session closed after."""
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()
