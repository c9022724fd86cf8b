"""Step bodies of skill extraction: typed input in, one unit of work, small output.

`extract_jobs` reads the jobs and the taxonomy, lets go of the connection while
the LLM (if any) reads each job and the embedder embeds the leftover phrases,
then saves every job's tags in one transaction. All of it ends by the step's
deadline: an LLM call that would not is skipped for the offline path, with time
kept for the embedding and the save. Run twice, it writes the same tags again.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobmatch.deadline import Deadline
from jobmatch.skills import store
from jobmatch.skills.extraction import Tag, plan
from jobmatch.skills.taxonomy import BUNDLED, TaxonomyEntry, read_entries
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

TAXONOMY_BATCH = 100
SAVE_SECONDS = 4.0  # kept from the LLM's share of the step for embedding and saving


class Jobs(StepInput):
    """The jobs to tag (missing ones are skipped)."""

    job_ids: list[int]


class Extracted(StepOutput):
    """Counts of jobs, tags and LLM use, and the jobs to match again (scored on their
    tags; at most one step's jobs, ~100 ids)."""

    jobs: int
    tags: int
    llm: int
    llm_failed: int
    rescore: list[int]


class UntaggedPage(StepInput):
    """The next at most `limit` active jobs never tagged, after id `after_id`."""

    after_id: int
    limit: int


@step_body
def extract_jobs(deps: StepDeps, inp: Jobs) -> Extracted:
    """Tag these jobs (see the module's docstring)."""
    deadline = Deadline.after(deps.settings.step_budget_seconds)
    floor, llm = deps.settings.skill_similarity_floor, deps.llm
    with deps.unit_of_work() as uow:
        index = store.skill_index(uow)
        jobs = store.job_texts(uow, inp.job_ids)
    llm_time = deadline.part(keep=SAVE_SECONDS)
    plans = [plan(j.id, j.title, j.description, index, llm, llm_time) for j in jobs]
    phrases = sorted({p for job in plans for p, _, _ in job.vector_phrases})
    embedded = deps.embedder.embed(phrases, deadline=deadline.part(keep=1.0)) if phrases else []
    vectors = dict(zip(phrases, embedded, strict=True))
    with deps.unit_of_work() as uow:
        nearest = {p: store.nearest_skill(uow, v) for p, v in vectors.items()}
        for job in plans:
            for phrase, factor, source in job.vector_phrases:
                near = nearest.get(phrase)
                if near is not None and near[1] >= floor:
                    job.add(Tag(near[0], round(factor * near[1], 3), source))
        saved = store.replace_tags(uow, {job.job_id: list(job.tags.values()) for job in plans})
    return Extracted(
        jobs=len(plans),
        tags=saved.rows,
        llm=sum(job.used_llm for job in plans),
        llm_failed=sum(job.llm_failed for job in plans),
        rescore=saved.rescore,
    )


@step_body
def jobs_without_tags(deps: StepDeps, inp: UntaggedPage) -> list[int]:
    """The next active jobs never tagged (500 ids: ~4 KB)."""
    with deps.unit_of_work() as uow:
        return store.jobs_without_tags(uow, inp.after_id, inp.limit)


def load_entries(deps: StepDeps, entries: Sequence[TaxonomyEntry]) -> int:
    """Insert or update `entries` with their vectors, `TAXONOMY_BATCH` per embedding
    call and transaction; how many rows were written."""
    written = 0
    for start in range(0, len(entries), TAXONOMY_BATCH):
        batch = entries[start : start + TAXONOMY_BATCH]
        vectors = deps.embedder.embed([e.embedding_text for e in batch])
        with deps.unit_of_work() as uow:
            written += store.upsert_skills(uow, batch, vectors)
    return written


@step_body
def ensure_taxonomy(deps: StepDeps) -> int:
    """Load the bundled taxonomy when the table is empty (a fresh deployment); how
    many skills the table holds. A loaded table is left as the operator made it."""
    with deps.unit_of_work() as uow:
        count = store.skill_count(uow)
    if count:
        return count
    entries = read_entries(BUNDLED)
    load_entries(deps, entries)
    return len(entries)
