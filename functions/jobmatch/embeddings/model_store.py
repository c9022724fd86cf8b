"""Which embedding model the stored vectors come from, and the switch to another.

Titan v2 and the offline model place texts in unrelated spaces: a Titan query vector
compared with offline role vectors ranks roles at random. So the first provider to
write records itself (`embedding_state`), and any other provider refuses to write
or search (`EmbeddingModelMismatchError`, which fails the step for good) until the
`system/reembed` run has re-embedded every row with it: that run records the new
model as `target_model` first (both may write while it runs), then moves every
vector, then makes the target the model.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.models import EmbeddingState
from jobmatch.failures import PermanentError


class EmbeddingModelMismatchError(PermanentError):
    """The database's vectors come from another model: run `system/reembed` first
    (no retry can fix it, so a step that meets it ends its run)."""


def current_state(session: Session) -> EmbeddingState | None:
    """The recorded state, or None before any vector was written."""
    return session.scalars(select(EmbeddingState).where(EmbeddingState.id == 1)).one_or_none()


def require_model(session: Session, embedder: EmbeddingProvider) -> None:
    """Record `embedder`'s model if none is recorded; refuse a different one."""
    session.execute(
        insert(EmbeddingState)
        .values(id=1, model=embedder.model_id)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    state = current_state(session)
    if state is not None and embedder.model_id not in (state.model, state.target_model):
        raise EmbeddingModelMismatchError(
            f"stored vectors come from {state.model!r}, this provider is "
            f"{embedder.model_id!r}: send system/reembed to switch"
        )


def begin_switch(session: Session, model_id: str) -> str:
    """Allow `model_id` to write alongside the recorded model; returns the old model."""
    session.execute(
        insert(EmbeddingState)
        .values(id=1, model=model_id)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    state = current_state(session)
    assert state is not None  # inserted above if absent
    if state.model != model_id:
        state.target_model = model_id
    return state.model


def finish_switch(session: Session, model_id: str) -> None:
    """Every vector now comes from `model_id`: it becomes the only one allowed."""
    session.execute(
        update(EmbeddingState)
        .where(EmbeddingState.id == 1)
        .values(model=model_id, target_model=None)
    )
