"""Run progress in PostgreSQL (`run_progress`): the statements of `runs.progress`.

Every function runs in the caller's transaction; see `runs.progress` for what a
record means and how steps use `advance` as a receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import RunProgress
from jobmatch.runs.ref import RunRef

MAX_MESSAGE = 500


def advance(
    uow: Session,
    ref: RunRef,
    step: int,
    *,
    done: bool = False,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Record step `step` (1, 2, ...) of the run as done, in the caller's transaction;
    `done` marks the run completed. False when that step was recorded before: its
    work is already committed."""
    status = "completed" if done else "running"
    stmt = insert(RunProgress).values(
        run_id=ref.run_id,
        function_id=ref.function_id,
        event_ids=[e for e in ref.event_ids if e],
        status=status,
        steps_done=step,
        detail=detail or {},
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id"],
        set_={
            "status": stmt.excluded.status,
            "steps_done": stmt.excluded.steps_done,
            "detail": RunProgress.detail.op("||")(stmt.excluded.detail),
            "updated_at": func.now(),
        },
        where=RunProgress.steps_done < stmt.excluded.steps_done,
    )
    return uow.execute(stmt.returning(RunProgress.run_id)).first() is not None


def mark_failed(uow: Session, ref: RunRef, message: str) -> None:
    """The run failed for good: say so, and why (created if no step recorded it)."""
    stmt = insert(RunProgress).values(
        run_id=ref.run_id,
        function_id=ref.function_id,
        event_ids=[e for e in ref.event_ids if e],
        status="failed",
        steps_done=0,
        detail={"error": message[:MAX_MESSAGE]},
    )
    uow.execute(
        stmt.on_conflict_do_update(
            index_elements=["run_id"],
            set_={
                "status": "failed",
                "detail": RunProgress.detail.op("||")(stmt.excluded.detail),
                "updated_at": func.now(),
            },
        )
    )


def find(uow: Session, run_or_event_id: str) -> dict[str, Any] | None:
    """The newest record of the run with this id, or started by the event with this id."""
    row = uow.scalars(
        select(RunProgress)
        .where(
            or_(
                RunProgress.run_id == run_or_event_id,
                RunProgress.event_ids.contains([run_or_event_id]),
            )
        )
        .order_by(RunProgress.updated_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return {
        "run_id": row.run_id,
        "function_id": row.function_id,
        "event_ids": list(row.event_ids),
        "status": row.status,
        "steps_done": row.steps_done,
        "detail": dict(row.detail),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def prune(uow: Session, cutoff: datetime) -> int:
    """Forget records not updated since `cutoff`; how many."""
    result = uow.execute(delete(RunProgress).where(RunProgress.updated_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
