"""The bodies of the role functions' steps: JSON in, own session, small JSON out.

Each is a `legacy_step_body` (a provider other than the one that wrote the stored vectors,
`EmbeddingModelMismatchError`, ends the run without retries), holds its embedder to
the step's deadline, and is safe to run twice: resolving a job replaces its roles as
a whole, embedding picks rows still lacking a vector, re-embedding walks a cursor
the caller keeps.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.ai.embeddings import (
    DeadlineBoundEmbeddings,
    EmbeddingProvider,
    candidate_embedding_text,
    job_embedding_text,
    preferences_embedding_text,
)
from jobmatch.db.models import Candidate, GlobalRole, Job, RoleTerm, UserPreferences
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.matching.embedding_store import preferences_dict
from jobmatch.observability import logger, metrics
from jobmatch.roles import repository
from jobmatch.roles.embedding_state import begin_switch, finish_switch
from jobmatch.roles.resolver import ResolverLimits, resolve_titles
from jobmatch.roles.taxonomy import role_text

# What `system/reembed` walks, in order: the roles first, so titles resolve again
# as soon as possible.
REEMBED_ENTITIES = ("roles", "role_terms", "jobs", "candidates", "users")


def _bound(embedder: EmbeddingProvider, step_budget: float) -> EmbeddingProvider:
    return DeadlineBoundEmbeddings(embedder, Deadline.after(step_budget))


def _resolve(
    session: Session,
    jobs: list[tuple[int, str]],
    embedder: EmbeddingProvider,
    limits: ResolverLimits,
) -> dict[str, Any]:
    resolutions = resolve_titles(session, [t for _, t in jobs], embedder, limits)
    ids = [i for i, _ in jobs]
    repository.store_resolutions(session, ids, resolutions)
    unresolved = [(i, r.title) for i, r in zip(ids, resolutions, strict=True) if not r.roles]
    if unresolved:
        metrics.add_metric(name="UnresolvedJobTitles", unit="Count", value=len(unresolved))
        logger.info(
            "job titles resolved to no role",
            extra={"unresolved": len(unresolved), "titles": [t[:80] for _, t in unresolved[:20]]},
        )
    return {
        "resolved": len(jobs) - len(unresolved),
        "unresolved": len(unresolved),
        "last_id": max(ids, default=0),
        "job_ids": ids,
    }


@legacy_step_body
def resolve_jobs(
    job_ids: list[int],
    embedder: EmbeddingProvider,
    limits: ResolverLimits,
    only_pending: bool,
    step_budget: float,
) -> dict[str, Any]:
    """Resolve these jobs' titles (those still pending, unless `only_pending` is off:
    a changed title); counts."""
    with session_scope() as session:
        jobs = repository.jobs_to_resolve(
            session, job_ids, after_id=0, limit=len(job_ids), only_pending=only_pending
        )
        out = _resolve(session, jobs, _bound(embedder, step_budget), limits)
    return {"resolved": out["resolved"], "unresolved": out["unresolved"]}


@legacy_step_body
def re_resolve_batch(
    after_id: int,
    batch: int,
    below_confidence: float,
    embedder: EmbeddingProvider,
    limits: ResolverLimits,
    step_budget: float,
) -> dict[str, Any]:
    """The next `batch` active jobs after `after_id` that are pending, unresolved or
    resolved by meaning below `below_confidence`, resolved again; their ids (to be
    matched again) and the cursor."""
    with session_scope() as session:
        jobs = repository.jobs_to_resolve(
            session, None, after_id=after_id, limit=batch, below_confidence=below_confidence
        )
        return _resolve(session, jobs, _bound(embedder, step_budget), limits)


@legacy_step_body
def count_missing_vectors() -> int:
    """How many roles and terms lack a vector (read only)."""
    with session_scope() as session:
        return repository.count_missing_vectors(session)


@legacy_step_body
def embed_roles(embedder: EmbeddingProvider, batch: int, step_budget: float) -> int:
    """Embed up to `batch` roles and terms lacking a vector; how many."""
    with session_scope() as session:
        return repository.embed_missing(session, _bound(embedder, step_budget), batch)


@legacy_step_body
def begin_reembed(model_id: str) -> dict[str, str]:
    """Record the new model as the switch's target (both may write while it runs)."""
    with session_scope() as session:
        return {"from": begin_switch(session, model_id), "to": model_id}


@legacy_step_body
def finish_reembed(model_id: str) -> dict[str, str]:
    """Every vector was rewritten: the new model is the only one allowed from now on."""
    with session_scope() as session:
        finish_switch(session, model_id)
    return {"model": model_id}


@legacy_step_body
def reembed_batch(
    entity: str, after_id: int, batch: int, embedder: EmbeddingProvider, step_budget: float
) -> dict[str, int]:
    """Rewrite the vectors of the next `batch` rows of `entity` after `after_id`
    (all of them, whatever wrote them); the new cursor and how many."""
    model: Any = {
        "roles": GlobalRole,
        "role_terms": RoleTerm,
        "jobs": Job,
        "candidates": Candidate,
        "users": UserPreferences,
    }[entity]
    key = model.user_id if entity == "users" else model.id
    with session_scope() as session:
        rows = session.scalars(select(model).where(key > after_id).order_by(key).limit(batch)).all()
        if not rows:
            return {"last_id": after_id, "count": 0}
        texts = [_text_of(entity, row) for row in rows]
        vectors = embedder.embed(texts, deadline=Deadline.after(step_budget))
        for row, vector in zip(rows, vectors, strict=True):
            row.embedding = vector
        return {"last_id": int(getattr(rows[-1], key.key)), "count": len(rows)}


def _text_of(entity: str, row: Any) -> str:
    if entity == "roles":
        return role_text(row.name, row.aliases, row.description)
    if entity == "role_terms":
        return str(row.term)
    if entity == "jobs":
        return job_embedding_text(row)
    if entity == "candidates":
        return candidate_embedding_text(row)
    return preferences_embedding_text(preferences_dict(row))
