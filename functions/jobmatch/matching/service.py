"""Matching operations: what the step bodies, the routes and the bench call.

Each operation takes a unit of work and does one bounded, idempotent unit of
work: generate candidates in SQL, score them in a batch, upsert the kept pairs,
remove the ones that no longer qualify, all in the caller's transaction. They
return counts (or results for a user), never ORM rows, so a step can return
what they give. Limits come in as arguments (one value, or the settings when an
operation reads several), clients (embedder, LLM) likewise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.ai.llm import LLM, LLMUnavailableError
from jobmatch.candidates.store import tenant_candidate
from jobmatch.db.models.matching import MATCHABLE_STATUSES
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.deadline import Deadline
from jobmatch.embeddings.store import embed_candidate
from jobmatch.matching import store as repo
from jobmatch.matching.scoring import JobFeatures, MatchResult, ProfileFeatures, score_batch
from jobmatch.matching.store import JobChunk
from jobmatch.roles.resolver import ResolverLimits
from jobmatch.safe_input import strip_unstorable
from jobmatch.settings import Settings

MAX_JOBS_PER_CHUNK = 500  # keeps a chunk (a step output / event) a few KB at most


# ---------------------------------------------------------------- jobs -> candidates


def plan_job_chunks(
    uow: UnitOfWork,
    job_ids: Iterable[int],
    *,
    pair_budget: int,
    unresolved_k: int = 10,
    tenant_id: int | None = None,
) -> list[JobChunk]:
    """Split matching these jobs into chunks of at most `pair_budget` pairs each.

    Pair counts come from one GIN-backed count per distinct set of job roles, not
    from the pairs themselves; an unresolved job counts its `unresolved_k`
    neighbours. Jobs are packed together; a job with more eligible candidates than
    the budget is split by candidate id range, one job per chunk. Jobs whose roles
    have no candidates still get a chunk, so a re-matched job loses the matches it
    no longer qualifies for."""
    rows = repo.matchable_jobs(uow, job_ids)
    role_sets = repo.job_role_sets(uow, [job_id for job_id, _ in rows])
    distinct = sorted(set(role_sets.values()))
    counts = dict(zip(distinct, repo.eligible_counts(uow, distinct, tenant_id), strict=True))
    # Jobs of one role set side by side: their pairs share candidate pages.
    ordered = sorted(rows, key=lambda r: (role_sets.get(r[0], ()), r[0]))

    chunks: list[JobChunk] = []
    packed: list[int] = []
    packed_pairs = 0
    for job_id, resolution in ordered:
        roles = role_sets.get(job_id, ())
        n = counts.get(roles, 0) if roles else (unresolved_k if resolution == "unresolved" else 0)
        if n > pair_budget:
            cuts = repo.candidate_id_boundaries(uow, roles, pair_budget, tenant_id)
            bounds = list(zip([None, *cuts], [*cuts, None], strict=True))
            chunks.extend(JobChunk((job_id,), lo, hi) for lo, hi in bounds)
            continue
        if packed and (packed_pairs + n > pair_budget or len(packed) >= MAX_JOBS_PER_CHUNK):
            chunks.append(JobChunk(tuple(packed)))
            packed, packed_pairs = [], 0
        packed.append(job_id)
        packed_pairs += n
    if packed:
        chunks.append(JobChunk(tuple(packed)))
    return chunks


def match_job_chunk(
    uow: UnitOfWork,
    chunk: JobChunk,
    *,
    upsert_batch: int,
    unresolved_k: int = 10,
    tenant_id: int | None = None,
) -> dict[str, int]:
    """Score one chunk's pairs, upsert the kept ones (`upsert_batch` rows a statement),
    drop the stale ones."""
    pairs = repo.job_candidate_pairs(uow, chunk, tenant_id, unresolved_k=unresolved_k)
    jobs = repo.load_jobs(uow, chunk.job_ids)
    profiles, tenants = repo.load_candidates(uow, {c for c, _, _ in pairs})
    results = score_batch(profiles, jobs, pairs)
    repo.upsert_candidate_matches(uow, results, tenants, upsert_batch)
    removed = repo.delete_stale_job_matches(uow, chunk, results, tenant_id)
    return {
        "pairs": len(pairs),
        "stored": len(results),
        "recommended": sum(r.is_recommended for r in results),
        "removed": removed,
    }


def match_jobs_inline(
    uow: UnitOfWork, job_ids: Sequence[int], settings: Settings, *, tenant_id: int | None = None
) -> dict[str, int]:
    """Jobs -> candidates in one call and one transaction (tests, scripts). The
    `match-jobs-to-candidates` function runs the same plan with one step per chunk."""
    totals: dict[str, int] = defaultdict(int)
    chunks = plan_job_chunks(
        uow,
        job_ids,
        pair_budget=settings.matching_pair_budget,
        unresolved_k=settings.unresolved_match_k,
        tenant_id=tenant_id,
    )
    for chunk in chunks:
        counts = match_job_chunk(
            uow,
            chunk,
            upsert_batch=settings.matching_score_batch,
            unresolved_k=settings.unresolved_match_k,
            tenant_id=tenant_id,
        )
        for key, value in counts.items():
            totals[key] += value
    totals["chunks"] = len(chunks)
    return dict(totals)


# ---------------------------------------------------------------- one candidate -> jobs


def match_candidate(
    uow: UnitOfWork, candidate_id: int, tenant_id: int, settings: Settings
) -> dict[str, int]:
    """(Re)compute one candidate's matches against active jobs; matches that no
    longer qualify (or all, when the candidate is not matchable) are removed.
    Another tenant's candidate raises CandidateNotFoundError."""
    candidate = tenant_candidate(uow, candidate_id, tenant_id)
    results: list[MatchResult] = []
    considered: list[tuple[int, float]] = []
    if candidate.status in MATCHABLE_STATUSES and candidate.embedding is not None:
        considered = repo.jobs_for_profile(
            uow,
            candidate.embedding,
            candidate.preferred_role_ids or [],
            max_jobs=settings.matching_candidate_max_jobs,
            top_k=settings.matching_top_k,
            unresolved_k=settings.unresolved_match_k,
        )
        jobs = repo.load_jobs(uow, [j for j, _ in considered])
        profile = repo.candidate_profile(candidate)
        results = score_batch(
            {candidate.id: profile}, jobs, ((candidate.id, j, s) for j, s in considered)
        )
        repo.upsert_candidate_matches(
            uow, results, {candidate.id: tenant_id}, settings.matching_score_batch
        )
    removed = repo.delete_stale_candidate_matches(uow, candidate.id, [r.job_id for r in results])
    return {
        "jobs_considered": len(considered),
        "stored": len(results),
        "recommended": sum(r.is_recommended for r in results),
        "removed": removed,
    }


def prepare_candidate(
    uow: UnitOfWork,
    candidate_id: int,
    tenant_id: int,
    embedder: EmbeddingProvider,
    settings: Settings,
    *,
    force: bool,
) -> bool:
    """Resolve the candidate's preferred roles (within the settings' resolver
    limits, as job titles are) and give it an embedding (a new one when `force`,
    after a profile update); whether one was generated."""
    candidate = tenant_candidate(uow, candidate_id, tenant_id)
    candidate.preferred_role_ids = repo.resolve_preferred_roles(
        uow, candidate.preferred_roles or [], embedder, ResolverLimits.from_settings(settings)
    )
    return embed_candidate(uow, candidate, embedder, force=force)


# ---------------------------------------------------------------- free-signup users


def match_profile(
    uow: UnitOfWork,
    profile: ProfileFeatures,
    embedding: Sequence[float],
    settings: Settings,
    *,
    job_hashes: Sequence[str] | None = None,
    limit: int | None = None,
    deadline: Deadline | None = None,
) -> list[MatchResult]:
    """Best stored-grade matches of a profile, best first. Scoring stops at the
    deadline (the signup answer must be quick, a step must leave time for the LLM);
    what was scored by then is returned, and the durable run computes the full set."""
    if job_hashes:
        considered = repo.jobs_by_hash(uow, embedding, job_hashes)
    else:
        considered = repo.jobs_for_profile(
            uow,
            embedding,
            profile.role_ids,
            max_jobs=settings.matching_candidate_max_jobs,
            top_k=settings.matching_top_k,
            unresolved_k=settings.unresolved_match_k,
        )
    pid = profile.profile_id or 0
    results: list[MatchResult] = []
    batch = settings.matching_score_batch
    for start in range(0, len(considered), batch):
        part = considered[start : start + batch]
        jobs = repo.load_jobs(uow, [j for j, _ in part])
        results.extend(score_batch({pid: profile}, jobs, ((pid, j, s) for j, s in part)))
        if deadline is not None and deadline.expired:
            break
    results.sort(key=lambda r: (-r.score, r.job_id))
    return results[: limit or settings.user_match_limit]


def save_user_matches(uow: UnitOfWork, user_email: str, results: Sequence[MatchResult]) -> int:
    """Upsert a user's matches on (user_email, job_hash); returns how many were written."""
    return repo.upsert_user_matches(uow, user_email.strip().lower(), results)


# ---------------------------------------------------------------- AI re-ranking

RERANK_SYSTEM = (
    "You are a recruiter. Re-rank job matches for one job seeker. Judge fit from the "
    "profile and each job. Answer with JSON only: "
    '{"ranking": [{"job_hash": "...", "score": 0-100, "reason": "one short sentence"}]}'
)


def _rerank_prompt(
    results: Sequence[MatchResult], profile: ProfileFeatures, jobs: Mapping[int, JobFeatures]
) -> str:
    lines = [
        f"Profile: skills={sorted(profile.skills)}, years={profile.experience_years}, "
        f"locations={list(profile.locations)}, remote_ok={profile.remote_ok}, "
        f"salary_expectation={profile.salary_expectation}",
        "Jobs (rule-based score in brackets):",
    ]
    for r in results:
        job = jobs.get(r.job_id)
        if job is not None:
            lines.append(
                f"- {r.job_hash}: {job.title} at {job.company}, {job.location}"
                f"{' (remote)' if job.remote else ''}; skills={list(job.skills)} [{r.score}]"
            )
    return "\n".join(lines)


def ai_rerank(
    results: Sequence[MatchResult],
    profile: ProfileFeatures,
    jobs: Mapping[int, JobFeatures],
    *,
    llm: LLM | None,
    top_n: int,
    deadline: Deadline | None = None,
) -> tuple[list[MatchResult], str]:
    """Let the LLM re-score and explain the top `top_n` by `deadline`; no LLM (AI
    off), no time left, or any failure keeps the rule-based result. Returns the
    results (best first) and 'ai' or 'rules'."""
    ranked = list(results)
    if llm is None or not ranked:
        return ranked, "rules"
    top = ranked[:top_n]
    by_hash = {r.job_hash: r for r in top}
    try:
        answer = llm.complete_json(
            RERANK_SYSTEM, _rerank_prompt(top, profile, jobs), deadline=deadline
        )
    except LLMUnavailableError:
        return ranked, "rules"
    revised: dict[str, MatchResult] = {}
    for item in answer.get("ranking") or []:
        if not isinstance(item, dict) or item.get("job_hash") not in by_hash:
            continue
        value = item.get("score")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if not math.isfinite(value):  # the model's JSON may say NaN or Infinity
            continue
        reason = item.get("reason")
        reason = strip_unstorable(str(reason))[:300] if reason else None
        revised[item["job_hash"]] = by_hash[item["job_hash"]].with_ai(float(value), reason)
    if not revised:
        return ranked, "rules"
    # The LLM may judge a pair below the storing threshold: then it is not a match.
    merged = [m for m in (revised.get(r.job_hash, r) for r in ranked) if m.stored]
    merged.sort(key=lambda r: (-r.score, r.job_id))
    return merged, "ai"
