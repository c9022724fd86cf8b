"""The bodies of the matching functions' steps: plain functions, JSON in, small JSON out.

Each is a `legacy_step_body` (a `PermanentError`, such as a user or candidate that is not
there, ends the run without retries), opens its own session (`session_scope`) and
closes it before returning, so no connection is held between steps, and each is
safe to run twice: upserts on
natural keys, "embed if missing", stale matches removed in the same transaction
that writes the fresh ones. Outputs are counts and ids (the user matching step's
results are capped by `user_match_limit`): Inngest sends every memoized output
back with each later call. Besides their JSON arguments, steps take what they use
(settings, embedder, LLM), handed over by the workflow from its `Dependencies`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.ai.embeddings import DeadlineBoundEmbeddings, EmbeddingProvider
from jobmatch.ai.llm import LLM
from jobmatch.db.models import Job, User
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.matching import repository as repo
from jobmatch.matching import service
from jobmatch.matching.approval import tenant_candidate
from jobmatch.matching.embedding_store import (
    EntityType,
    backfill,
    embed_candidate,
    embed_jobs,
    preferences_vector,
)
from jobmatch.matching.errors import JobNotFoundError, UserNotFoundError
from jobmatch.matching.repository import JobChunk
from jobmatch.matching.scoring import MatchResult
from jobmatch.settings import Settings

# match-with-fallback: rule-based scoring gets at most this share of the step's
# budget; the LLM re-rank gets what is left, less a margin to return the result.
RULES_SHARE = 0.5
RESULT_MARGIN_SECONDS = 0.5


def bound(embedder: EmbeddingProvider, step_budget: float) -> EmbeddingProvider:
    """`embedder` held to a deadline `step_budget` seconds from now (a step's start)."""
    return DeadlineBoundEmbeddings(embedder, Deadline.after(step_budget))


# ---------------------------------------------------------------- jobs -> candidates


@legacy_step_body
def job_overview(
    job_ids: list[int], embed_first: list[int], embedder: EmbeddingProvider
) -> dict[str, Any]:
    """Embed the jobs of `embed_first` lacking one (an import's first batch: done
    here, it costs no step of its own), then how many of the jobs exist, their best
    roles, how many still lack an embedding and how many still wait for their roles
    by meaning."""
    with session_scope() as session:
        embedded = embed_jobs(session, embed_first, embedder)
        rows = session.execute(
            select(
                Job.id, Job.normalized_role_id, Job.embedding.is_(None), Job.role_resolution
            ).where(Job.id.in_(job_ids))
        ).all()
    return {
        "found": len(rows),
        "missing": len(job_ids) - len(rows),
        "role_ids": sorted({r[1] for r in rows if r[1] is not None}),
        "embedded": embedded,
        "without_embedding": sum(1 for r in rows if r[2]),
        "pending_roles": sum(1 for r in rows if r[3] == "pending"),
    }


@legacy_step_body
def embed_missing_jobs(job_ids: list[int], embedder: EmbeddingProvider, step_budget: float) -> int:
    """Embed those of the jobs that have no embedding yet; how many were embedded."""
    embedder = bound(embedder, step_budget)
    with session_scope() as session:
        return embed_jobs(session, job_ids, embedder)


@legacy_step_body
def plan_matching(job_ids: list[int], tenant_id: int | None, settings: Settings) -> dict[str, Any]:
    """The chunks (JSON) matching these jobs takes, and how many candidates prefer
    their roles."""
    with session_scope() as session:
        chunks = service.plan_job_chunks(
            session,
            job_ids,
            pair_budget=settings.matching_pair_budget,
            unresolved_k=settings.unresolved_match_k,
            tenant_id=tenant_id,
        )
        role_ids = sorted(
            {r for roles in repo.job_role_sets(session, job_ids).values() for r in roles}
        )
        found = repo.count_eligible_candidates(session, role_ids, tenant_id)
    return {"candidates_found": found, "chunks": [c.to_dict() for c in chunks]}


@legacy_step_body
def match_chunk(chunk: dict[str, Any], tenant_id: int | None, settings: Settings) -> dict[str, int]:
    """Score one planned chunk and store its matches (counts)."""
    with session_scope() as session:
        return service.match_job_chunk(
            session,
            JobChunk.from_dict(chunk),
            upsert_batch=settings.matching_score_batch,
            unresolved_k=settings.unresolved_match_k,
            tenant_id=tenant_id,
        )


# ---------------------------------------------------------------- one candidate


@legacy_step_body
def validate_candidate(candidate_id: int, tenant_id: int) -> dict[str, Any]:
    """The tenant's candidate (id, name, status); another tenant's is not found, which
    no retry can change."""
    with session_scope() as session:
        c = tenant_candidate(session, candidate_id, tenant_id)
        return {"id": c.id, "name": f"{c.first_name} {c.last_name}", "status": c.status}


@legacy_step_body
def ensure_candidate_embedding(
    candidate_id: int,
    tenant_id: int,
    reembed: bool,
    embedder: EmbeddingProvider,
    step_budget: float,
) -> dict[str, bool]:
    """Resolve the candidate's preferred roles and give it an embedding (a new one
    when `reembed`, after a profile update)."""
    embedder = bound(embedder, step_budget)
    with session_scope() as session:
        c = tenant_candidate(session, candidate_id, tenant_id)
        c.preferred_role_ids = repo.resolve_preferred_roles(
            session, c.preferred_roles or [], embedder
        )
        return {"generated": embed_candidate(session, c, embedder, force=reembed)}


@legacy_step_body
def match_one_candidate(candidate_id: int, tenant_id: int, settings: Settings) -> dict[str, int]:
    """Recompute one candidate's matches (counts)."""
    with session_scope() as session:
        return service.match_candidate(session, candidate_id, tenant_id, settings)


@legacy_step_body
def promote_approved(candidate_id: int, tenant_id: int) -> dict[str, str]:
    """approved -> ready_for_assignment; any other status is left as it is, so a
    re-run never moves a candidate back (e.g. from assigned)."""
    with session_scope() as session:
        c = tenant_candidate(session, candidate_id, tenant_id)
        if c.status == "approved":
            c.status = "ready_for_assignment"
        return {"new_status": c.status}


# ---------------------------------------------------------------- embeddings


@legacy_step_body
def regenerate_job_embedding(
    job_id: int, embedder: EmbeddingProvider, step_budget: float
) -> dict[str, bool]:
    """A new embedding for a job whose content changed; an unknown job is final."""
    embedder = bound(embedder, step_budget)
    with session_scope() as session:
        if session.get(Job, job_id) is None:
            raise JobNotFoundError(f"job {job_id} not found")
        return {
            "embedding_updated": embed_jobs(session, [job_id], embedder, only_missing=False) == 1
        }


@legacy_step_body
def backfill_batch(
    entity_type: EntityType, batch_size: int, embedder: EmbeddingProvider, step_budget: float
) -> int:
    """Embed up to `batch_size` rows lacking one; how many were embedded."""
    embedder = bound(embedder, step_budget)
    with session_scope() as session:
        return backfill(session, entity_type, batch_size, embedder)


# ---------------------------------------------------------------- free-signup users


def find_user(
    session: Session, user_id: int | None, inline_email: str | None
) -> tuple[int | None, str]:
    """Who is matched, as (id, email): a stored user by id (unknown is final), or by
    the email of preferences sent inline (then possibly someone not stored: id None)."""
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None:
            raise UserNotFoundError(f"user {user_id} not found")
        return user.id, user.email
    email = str(inline_email).strip().lower()
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    return (None if user is None else user.id), email


@legacy_step_body
def match_with_fallback(
    user_id: int | None,
    inline_prefs: dict[str, Any] | None,
    job_hashes: list[str],
    settings: Settings,
    embedder: EmbeddingProvider,
    llm: LLM | None,
) -> dict[str, Any]:
    """Who is matched (`find_user`: a lookup too small for a step and a request of
    its own), the rule-based engine's best matches, then an LLM re-rank of the top
    ones (any AI failure, AI off, or no time left keeps the rule-based result). The
    profile is built once and serves both. One deadline for the whole step: the
    profile's embedding and the scoring get part of it, the LLM what is left."""
    deadline = Deadline.after(settings.step_budget_seconds)
    embedder = DeadlineBoundEmbeddings(embedder, deadline)
    with session_scope() as session:
        inline_email = None if user_id is not None else (inline_prefs or {})["email"]
        user_id, email = find_user(session, user_id, inline_email)
        if user_id is not None:
            profile, embedding = service.user_profile(session, user_id, embedder)
        else:
            prefs = inline_prefs or {}
            profile = service.preferences_profile(session, None, prefs, embedder)
            embedding = preferences_vector(prefs, embedder)
        results = service.match_profile(
            session,
            profile,
            embedding,
            settings,
            job_hashes=job_hashes,
            deadline=deadline.part(settings.step_budget_seconds * RULES_SHARE),
        )
        jobs = repo.load_jobs(session, [r.job_id for r in results])
    # The LLM call happens with the connection back in the pool: a slow model
    # must not hold one of RDS Proxy's connections for its whole timeout.
    ranked, method = service.ai_rerank(
        results,
        profile,
        jobs,
        llm=llm,
        top_n=settings.ai_rerank_top_n,
        deadline=deadline.part(keep=RESULT_MARGIN_SECONDS),
    )
    return {
        "user_id": user_id,
        "email": email,
        "method": method,
        "results": [r.to_dict() for r in ranked],
    }


@legacy_step_body
def save_user_matches(email: str, results: list[dict[str, Any]]) -> int:
    """Upsert a user's matches (on user_email, job_hash); how many were written."""
    with session_scope() as session:
        return service.save_user_matches(
            session, email, [MatchResult.from_dict(r) for r in results]
        )


@legacy_step_body
def load_users(user_ids: list[int]) -> list[list[Any]]:
    """[id, is_premium] of those of the users that exist, by id."""
    with session_scope() as session:
        rows = session.execute(
            select(User.id, User.is_premium).where(User.id.in_(user_ids)).order_by(User.id)
        ).all()
    return [[r.id, r.is_premium] for r in rows]
