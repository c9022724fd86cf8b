"""The bodies of the role functions' steps: a frozen input in, a typed output out.

Each is a `step_body` (a provider other than the one that wrote the stored vectors,
`EmbeddingModelMismatchError`, ends the run without retries), opens its own unit
of work, holds its embedder to the step's deadline, and is safe to run twice:
resolving a job replaces its roles as a whole, embedding picks rows still lacking
a vector, re-embedding walks a cursor the caller keeps.
"""

from __future__ import annotations

from typing import Literal, cast

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.deadline import Deadline
from jobmatch.embeddings import model_store
from jobmatch.embeddings import store as embeddings
from jobmatch.embeddings.providers import DeadlineBoundEmbeddings
from jobmatch.observability import logger, metrics
from jobmatch.roles import store as roles
from jobmatch.roles.resolver import ResolverLimits, resolve_titles
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

Entity = Literal["roles", "role_terms", "jobs", "candidates", "users"]
# What `system/reembed` walks, in order: the roles first, so titles resolve again
# as soon as possible.
REEMBED_ENTITIES: tuple[Entity, ...] = ("roles", "role_terms", "jobs", "candidates", "users")


def _bound(deps: StepDeps) -> EmbeddingProvider:
    return DeadlineBoundEmbeddings(deps.embedder, Deadline.after(deps.settings.step_budget_seconds))


class Resolved(StepOutput):
    """How many titles found roles, and how many found none."""

    resolved: int
    unresolved: int


class ResolvedBatch(Resolved):
    """A batch resolved again: its jobs (to be matched again) and the cursor."""

    last_id: int
    job_ids: list[int]


def _resolve(
    uow: UnitOfWork, jobs: list[tuple[int, str]], embedder: EmbeddingProvider, deps: StepDeps
) -> ResolvedBatch:
    limits = ResolverLimits.from_settings(deps.settings)
    resolutions = resolve_titles(uow, [t for _, t in jobs], embedder, limits)
    ids = [i for i, _ in jobs]
    roles.store_resolutions(uow, ids, resolutions)
    unresolved = [(i, r.title) for i, r in zip(ids, resolutions, strict=True) if not r.roles]
    if unresolved:
        metrics.add_metric(name="UnresolvedJobTitles", unit="Count", value=len(unresolved))
        logger.info(
            "job titles resolved to no role",
            extra={"unresolved": len(unresolved), "titles": [t[:80] for _, t in unresolved[:20]]},
        )
    return ResolvedBatch(
        resolved=len(jobs) - len(unresolved),
        unresolved=len(unresolved),
        last_id=max(ids, default=0),
        job_ids=ids,
    )


class JobsToResolve(StepInput):
    """These jobs: the pending ones, or all of them (`only_pending` off: a changed title)."""

    job_ids: list[int]
    only_pending: bool = True


@step_body
def resolve_jobs(deps: StepDeps, inp: JobsToResolve) -> Resolved:
    """Resolve these jobs' titles (those still pending, unless `only_pending` is off);
    counts."""
    with deps.unit_of_work() as uow:
        jobs = roles.jobs_to_resolve(
            uow, inp.job_ids, after_id=0, limit=len(inp.job_ids), only_pending=inp.only_pending
        )
        out = _resolve(uow, jobs, _bound(deps), deps)
    return Resolved(resolved=out.resolved, unresolved=out.unresolved)


class ResolveAgain(StepInput):
    """The next `batch` active jobs after `after_id` that are pending, unresolved or
    resolved by meaning below `below_confidence`."""

    after_id: int
    batch: int
    below_confidence: float


@step_body
def re_resolve_batch(deps: StepDeps, inp: ResolveAgain) -> ResolvedBatch:
    """The next batch of jobs to resolve again, resolved; their ids (to be matched
    again) and the cursor."""
    with deps.unit_of_work() as uow:
        jobs = roles.jobs_to_resolve(
            uow,
            None,
            after_id=inp.after_id,
            limit=inp.batch,
            below_confidence=inp.below_confidence,
        )
        return _resolve(uow, jobs, _bound(deps), deps)


@step_body
def count_missing_vectors(deps: StepDeps) -> int:
    """How many roles and terms lack a vector (read only)."""
    with deps.unit_of_work() as uow:
        return roles.count_missing_vectors(uow)


class Batch(StepInput):
    """At most `limit` rows in one step."""

    limit: int


@step_body
def embed_roles(deps: StepDeps, inp: Batch) -> int:
    """Embed up to `limit` roles and terms lacking a vector; how many."""
    with deps.unit_of_work() as uow:
        return roles.embed_missing(uow, _bound(deps), inp.limit)


class ModelSwitch(StepInput):
    """The model the stored vectors switch to."""

    model_id: str


@step_body
def begin_reembed(deps: StepDeps, inp: ModelSwitch) -> str:
    """Record the new model as the switch's target (both may write while it runs);
    the model the vectors come from until the switch is done."""
    with deps.unit_of_work() as uow:
        return model_store.begin_switch(uow, inp.model_id)


@step_body
def finish_reembed(deps: StepDeps, inp: ModelSwitch) -> None:
    """Every vector was rewritten: the new model is the only one allowed from now on."""
    with deps.unit_of_work() as uow:
        model_store.finish_switch(uow, inp.model_id)


class ReembedBatch(StepInput):
    """The next `batch` rows of `entity` after `after_id`."""

    entity: Entity
    after_id: int
    batch: int


class Rewritten(StepOutput):
    """The new cursor and how many rows were rewritten."""

    last_id: int
    count: int


@step_body
def reembed_batch(deps: StepDeps, inp: ReembedBatch) -> Rewritten:
    """Rewrite the vectors of the next rows of `entity` (all of them, whatever wrote
    them); the new cursor and how many."""
    embedder, entity = _bound(deps), inp.entity
    with deps.unit_of_work() as uow:
        if entity in ("roles", "role_terms"):
            last_id, count = roles.reembed_after(uow, entity, inp.after_id, inp.batch, embedder)
        else:
            last_id, count = embeddings.reembed_after(
                uow, cast(embeddings.ReembedEntity, entity), inp.after_id, inp.batch, embedder
            )
    return Rewritten(last_id=last_id, count=count)
