"""Run progress: how far a long run has come, for a client following it.

Steps record their progress in the same transaction as their work
(`advance`), so the record never runs ahead of what is committed. Each step of a
run has an ordinal; `advance` moves `steps_done` forward only, which makes it a
receipt too: a step that finds its ordinal already recorded knows its work was
committed by an earlier try (a retry after a gateway timeout) and must not be
repeated. The step that aggregates view counts relies on exactly that.

A run is found by its Inngest run id or by the id of an event that started it
(`POST /api/events` answers with those ids). Failure is recorded by the
function's on-failure handler (`fail`). Old records are pruned (`prune`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import RunProgress
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body

MAX_MESSAGE = 500


@dataclass(frozen=True)
class RunRef:
    """Which run a step belongs to: a JSON-able step argument."""

    run_id: str
    function_id: str
    event_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form a workflow passes to a step body."""
        return {
            "run_id": self.run_id,
            "function_id": self.function_id,
            "event_ids": list(self.event_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRef:
        """Inverse of `to_dict`."""
        return cls(str(data["run_id"]), str(data["function_id"]), tuple(data["event_ids"]))


def advance(
    session: Session,
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
    return session.execute(stmt.returning(RunProgress.run_id)).first() is not None


@legacy_step_body
def fail(ref: dict[str, Any], message: str) -> None:
    """A run failed for good (its on-failure handler): say so, and why."""
    run = RunRef.from_dict(ref)
    with session_scope() as session:
        stmt = insert(RunProgress).values(
            run_id=run.run_id,
            function_id=run.function_id,
            event_ids=[e for e in run.event_ids if e],
            status="failed",
            steps_done=0,
            detail={"error": message[:MAX_MESSAGE]},
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["run_id"],
                set_={
                    "status": "failed",
                    "detail": RunProgress.detail.op("||")(stmt.excluded.detail),
                    "updated_at": func.now(),
                },
            )
        )


def find(session: Session, run_or_event_id: str) -> dict[str, Any] | None:
    """The newest record of the run with this id, or started by the event with this id."""
    row = session.scalars(
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


@legacy_step_body
def finish(ref: dict[str, Any], step: int, detail: dict[str, Any]) -> bool:
    """The run's last step (`step`): mark it completed with `detail` (a step body)."""
    with session_scope() as session:
        return advance(session, RunRef.from_dict(ref), step, done=True, detail=detail)


@legacy_step_body
def prune(keep_days: int) -> int:
    """Forget records not updated for `keep_days`; how many."""
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with session_scope() as session:
        result = session.execute(delete(RunProgress).where(RunProgress.updated_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
