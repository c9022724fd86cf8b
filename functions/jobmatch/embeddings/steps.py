"""The bodies of the embedding steps: jobs and candidates that need a vector.

Each is a `step_body`, opens its own unit of work and holds the embedder to the
step's deadline; each is safe to run twice ("embed if missing", or the same
deterministic text embedded again).
"""

from __future__ import annotations

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.deadline import Deadline
from jobmatch.embeddings import store as embeddings
from jobmatch.embeddings.providers import DeadlineBoundEmbeddings
from jobmatch.failures import PermanentError
from jobmatch.step_contract import StepDeps, StepInput, step_body


class JobNotFoundError(PermanentError, LookupError):
    """No job with this id."""


def bound(deps: StepDeps) -> EmbeddingProvider:
    """The embedder held to the step's budget, from now (a step's start)."""
    return DeadlineBoundEmbeddings(deps.embedder, Deadline.after(deps.settings.step_budget_seconds))


class JobsToEmbed(StepInput):
    """These jobs."""

    job_ids: list[int]


@step_body
def embed_missing_jobs(deps: StepDeps, inp: JobsToEmbed) -> int:
    """Embed those of the jobs that have no embedding yet; how many were embedded."""
    embedder = bound(deps)
    with deps.unit_of_work() as uow:
        return embeddings.embed_jobs(uow, inp.job_ids, embedder)


class JobToEmbed(StepInput):
    """One job."""

    job_id: int


@step_body
def regenerate_job_embedding(deps: StepDeps, inp: JobToEmbed) -> bool:
    """A new embedding for a job whose content changed (whether it was written);
    an unknown job is final."""
    embedder = bound(deps)
    with deps.unit_of_work() as uow:
        if not embeddings.job_exists(uow, inp.job_id):
            raise JobNotFoundError(f"job {inp.job_id} not found")
        return embeddings.embed_jobs(uow, [inp.job_id], embedder, only_missing=False) == 1


class BackfillBatch(StepInput):
    """Up to `batch_size` rows of `entity_type` lacking a vector."""

    entity_type: embeddings.EntityType
    batch_size: int


@step_body
def backfill_batch(deps: StepDeps, inp: BackfillBatch) -> int:
    """Embed up to `batch_size` rows lacking one; how many were embedded."""
    embedder = bound(deps)
    with deps.unit_of_work() as uow:
        return embeddings.backfill(uow, inp.entity_type, inp.batch_size, embedder)
