"""Computing and storing embeddings for rows that need them, in bounded batches.

Every function selects by id (or by "embedding IS NULL") and writes the vectors
back in the same transaction, so running it twice is harmless: the second run
finds nothing missing, or recomputes the same deterministic text. The embedder
is passed in (`Dependencies.embedder`), so every row is embedded by the one
provider of the container.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.models import Candidate, Job, UserPreferences
from jobmatch.db.models.matching import MATCHABLE_STATUSES
from jobmatch.embeddings.model_store import require_model
from jobmatch.embeddings.texts import (
    PreferencesText,
    candidate_embedding_text,
    job_embedding_text,
    preferences_embedding_text,
)

EntityType = Literal["jobs", "candidates"]


def _embed_rows(
    session: Session,
    rows: Sequence[Any],
    text_of: Callable[[Any], str],
    embedder: EmbeddingProvider,
) -> int:
    if not rows:
        return 0
    require_model(session, embedder)
    vectors = embedder.embed([text_of(r) for r in rows])
    for row, vector in zip(rows, vectors, strict=True):
        row.embedding = vector
    return len(rows)


def embed_jobs(
    session: Session,
    job_ids: Sequence[int],
    embedder: EmbeddingProvider,
    *,
    only_missing: bool = True,
) -> int:
    """Embed these jobs (those without an embedding unless `only_missing` is off)."""
    query = select(Job).where(Job.id.in_(sorted(set(job_ids))))
    if only_missing:
        query = query.where(Job.embedding.is_(None))
    jobs = session.scalars(query.order_by(Job.id)).all()
    count = _embed_rows(session, jobs, job_embedding_text, embedder)
    session.flush()
    return count


def embed_candidate(
    session: Session, candidate: Candidate, embedder: EmbeddingProvider, *, force: bool = False
) -> bool:
    """Give the candidate an embedding (a new one when `force`, e.g. profile update)."""
    if candidate.embedding is not None and not force:
        return False
    _embed_rows(session, [candidate], candidate_embedding_text, embedder)
    session.flush()
    return True


def preferences_vector(preferences: PreferencesText, embedder: EmbeddingProvider) -> list[float]:
    """The one way a user's preferences become a vector, whether they are stored
    (`preferences_embedding`), about to be (signup) or never will be (preferences an
    event carried inline), so all three compare alike against the jobs."""
    [vector] = embedder.embed([preferences_embedding_text(preferences)])
    return vector


def preferences_embedding(
    session: Session, user_id: int, embedder: EmbeddingProvider
) -> list[float] | None:
    """A stored user's preferences embedding, computed and stored if they have none;
    None when the user has no preferences."""
    preferences = session.get(UserPreferences, user_id)
    if preferences is None:
        return None
    if preferences.embedding is None:
        require_model(session, embedder)
        preferences.embedding = preferences_vector(preferences, embedder)
        session.flush()
    return list(preferences.embedding)


def backfill(
    session: Session, entity_type: EntityType, batch_size: int, embedder: EmbeddingProvider
) -> int:
    """Embed up to `batch_size` active jobs or matchable candidates lacking one.
    Rows are locked with SKIP LOCKED so two overlapping runs split the work."""
    if entity_type == "jobs":
        query: Any = select(Job).where(Job.embedding.is_(None), Job.status == "active")
        text_of: Callable[[Any], str] = job_embedding_text
        order = Job.id
    else:
        query = select(Candidate).where(
            Candidate.embedding.is_(None), Candidate.status.in_(MATCHABLE_STATUSES)
        )
        text_of = candidate_embedding_text
        order = Candidate.id
    rows = session.scalars(
        query.order_by(order).limit(batch_size).with_for_update(skip_locked=True)
    ).all()
    count = _embed_rows(session, rows, text_of, embedder)
    session.flush()
    return count


ReembedEntity = Literal["jobs", "candidates", "users"]


def reembed_after(
    session: Session,
    entity: ReembedEntity,
    after_id: int,
    batch: int,
    embedder: EmbeddingProvider,
) -> tuple[int, int]:
    """Rewrite the vectors of the next `batch` rows of `entity` after `after_id`
    (all of them, whatever wrote them): the new cursor and how many."""
    model: Any = {"jobs": Job, "candidates": Candidate, "users": UserPreferences}[entity]
    texts: dict[str, Callable[[Any], str]] = {
        "jobs": job_embedding_text,
        "candidates": candidate_embedding_text,
        "users": preferences_embedding_text,
    }
    text_of = texts[entity]
    key = model.user_id if entity == "users" else model.id
    rows = session.scalars(select(model).where(key > after_id).order_by(key).limit(batch)).all()
    if not rows:
        return after_id, 0
    vectors = embedder.embed([text_of(row) for row in rows])
    for row, vector in zip(rows, vectors, strict=True):
        row.embedding = vector
    return int(getattr(rows[-1], key.key)), len(rows)


def job_exists(session: Session, job_id: int) -> bool:
    """Whether a job with this id is stored."""
    return session.get(Job, job_id) is not None
