"""The bodies of the matching functions' steps: a frozen input in, a typed output out.

Each is a `step_body` (a `PermanentError`, such as a user or candidate that is not
there, ends the run without retries), opens its own unit of work and closes it
before returning, so no connection is held between steps, and each is safe to run
twice: upserts on natural keys, "embed if missing", stale matches removed in the
same transaction that writes the fresh ones. Outputs are counts and ids: Inngest
sends every memoized output back with each later call. Settings, embedder and LLM come from
`deps`, the way the app was built.
"""

from __future__ import annotations

from jobmatch.candidates import store as candidates
from jobmatch.embeddings.steps import bound
from jobmatch.embeddings.store import embed_jobs
from jobmatch.matching import service
from jobmatch.matching import store as matches
from jobmatch.matching.store import JobChunk
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

# ---------------------------------------------------------------- jobs -> candidates


class JobIds(StepInput):
    """These jobs."""

    job_ids: list[int]


class JobsToOverview(JobIds):
    """These jobs, and those of them to embed first (an import's first batch)."""

    embed_first: list[int]


class JobsOverview(StepOutput):
    """How many of the jobs exist, their best roles, what they still lack."""

    found: int
    missing: int
    role_ids: list[int]
    embedded: int
    without_embedding: int
    pending_roles: int


@step_body
def job_overview(deps: StepDeps, inp: JobsToOverview) -> JobsOverview:
    """Embed the jobs of `embed_first` lacking one (done here, it costs no step of
    its own), then how many of the jobs exist, their best roles, how many still
    lack an embedding and how many still wait for their roles by meaning."""
    with deps.unit_of_work() as uow:
        embedded = embed_jobs(uow, inp.embed_first, deps.embedder)
        rows = matches.job_states(uow, inp.job_ids)
    return JobsOverview(
        found=len(rows),
        missing=len(inp.job_ids) - len(rows),
        role_ids=sorted({r.role_id for r in rows if r.role_id is not None}),
        embedded=embedded,
        without_embedding=sum(1 for r in rows if not r.embedded),
        pending_roles=sum(1 for r in rows if r.resolution == "pending"),
    )


class TenantJobs(JobIds):
    """These jobs, against one tenant's candidates (None: every tenant's)."""

    tenant_id: int | None = None


class MatchingPlan(StepOutput):
    """The chunks matching the jobs takes, and how many candidates prefer their roles."""

    candidates_found: int
    chunks: list[JobChunk]


@step_body
def plan_matching(deps: StepDeps, inp: TenantJobs) -> MatchingPlan:
    """The chunks matching these jobs takes, and how many candidates prefer their roles."""
    settings = deps.settings
    with deps.unit_of_work() as uow:
        chunks = service.plan_job_chunks(
            uow,
            inp.job_ids,
            pair_budget=settings.matching_pair_budget,
            unresolved_k=settings.unresolved_match_k,
            tenant_id=inp.tenant_id,
        )
        role_ids = sorted(
            {r for roles in matches.job_role_sets(uow, inp.job_ids).values() for r in roles}
        )
        found = matches.count_eligible_candidates(uow, role_ids, inp.tenant_id)
    return MatchingPlan(candidates_found=found, chunks=chunks)


class ChunkToMatch(StepInput):
    """One planned chunk, for one tenant's candidates (None: every tenant's)."""

    chunk: JobChunk
    tenant_id: int | None = None


class ChunkCounts(StepOutput):
    """What matching one chunk did."""

    pairs: int
    stored: int
    recommended: int
    removed: int


@step_body
def match_chunk(deps: StepDeps, inp: ChunkToMatch) -> ChunkCounts:
    """Score one planned chunk and store its matches (counts)."""
    with deps.unit_of_work() as uow:
        return ChunkCounts.model_validate(
            service.match_job_chunk(
                uow,
                inp.chunk,
                upsert_batch=deps.settings.matching_score_batch,
                unresolved_k=deps.settings.unresolved_match_k,
                tenant_id=inp.tenant_id,
            )
        )


# ---------------------------------------------------------------- one candidate


class CandidateOfTenant(StepInput):
    """A tenant's candidate."""

    candidate_id: int
    tenant_id: int


class CandidateToEmbed(CandidateOfTenant):
    """A tenant's candidate, and whether to replace its embedding (profile update)."""

    reembed: bool = False


class CandidateSummary(StepOutput):
    """Who the candidate is."""

    id: int
    name: str
    status: str


class CandidateCounts(StepOutput):
    """What matching one candidate did."""

    jobs_considered: int
    stored: int
    recommended: int
    removed: int


@step_body
def validate_candidate(deps: StepDeps, inp: CandidateOfTenant) -> CandidateSummary:
    """The tenant's candidate (id, name, status); another tenant's is not found, which
    no retry can change."""
    with deps.unit_of_work() as uow:
        c = candidates.tenant_candidate(uow, inp.candidate_id, inp.tenant_id)
        return CandidateSummary(id=c.id, name=f"{c.first_name} {c.last_name}", status=c.status)


@step_body
def ensure_candidate_embedding(deps: StepDeps, inp: CandidateToEmbed) -> bool:
    """Resolve the candidate's preferred roles and give it an embedding (a new one
    when `reembed`, after a profile update); whether one was generated."""
    embedder = bound(deps)
    with deps.unit_of_work() as uow:
        return service.prepare_candidate(
            uow, inp.candidate_id, inp.tenant_id, embedder, deps.settings, force=inp.reembed
        )


@step_body
def match_one_candidate(deps: StepDeps, inp: CandidateOfTenant) -> CandidateCounts:
    """Recompute one candidate's matches (counts)."""
    with deps.unit_of_work() as uow:
        return CandidateCounts.model_validate(
            service.match_candidate(uow, inp.candidate_id, inp.tenant_id, deps.settings)
        )


@step_body
def promote_approved(deps: StepDeps, inp: CandidateOfTenant) -> str:
    """approved -> ready_for_assignment (any other status is left as it is); the
    candidate's status after."""
    with deps.unit_of_work() as uow:
        return candidates.promote_approved(uow, inp.candidate_id, inp.tenant_id)
