"""Step bodies of skill extraction: JSON in, own session, small JSON out.

`extract_jobs` reads the jobs and the taxonomy, lets go of the connection while
the LLM (if any) reads each job and the embedder embeds the leftover phrases,
then saves every job's tags in one transaction. All of it ends by the step's
deadline: an LLM call that would not is skipped for the offline path, with time
kept for the embedding and the save. Run twice, it writes the same tags again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobmatch.ai.llm import LLM
from jobmatch.db.models import Job
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.embeddings.providers import EmbeddingProvider
from jobmatch.failures import legacy_step_body
from jobmatch.skills import repository
from jobmatch.skills.extraction import Tag, plan
from jobmatch.skills.taxonomy import BUNDLED, SkillIndex, read_entries, upsert_entries

TAXONOMY_BATCH = 100
SAVE_SECONDS = 4.0  # kept from the LLM's share of the step for embedding and saving


@legacy_step_body
def extract_jobs(
    job_ids: list[int],
    embedder: EmbeddingProvider,
    llm: LLM | None,
    floor: float,
    step_budget: float,
) -> dict[str, Any]:
    """Tag these jobs (missing ones are skipped): counts of jobs, tags, LLM use, and
    the ids of the jobs to match again (scored on their tags; at most one step's
    jobs, ~100 ids)."""
    deadline = Deadline.after(step_budget)
    with session_scope() as session:
        index = SkillIndex.load(session)
        jobs = session.execute(
            select(Job.id, Job.title, Job.description).where(Job.id.in_(job_ids)).order_by(Job.id)
        ).all()
    llm_time = deadline.part(keep=SAVE_SECONDS)
    plans = [plan(j.id, j.title, j.description or "", index, llm, llm_time) for j in jobs]
    phrases = sorted({p for job in plans for p, _, _ in job.vector_phrases})
    embedded = embedder.embed(phrases, deadline=deadline.part(keep=1.0)) if phrases else []
    vectors = dict(zip(phrases, embedded, strict=True))
    with session_scope() as session:
        nearest = {p: repository.nearest_skill(session, v) for p, v in vectors.items()}
        for job in plans:
            for phrase, factor, source in job.vector_phrases:
                near = nearest.get(phrase)
                if near is not None and near[1] >= floor:
                    job.add(Tag(near[0], round(factor * near[1], 3), source))
        saved = repository.replace_tags(
            session, {job.job_id: list(job.tags.values()) for job in plans}
        )
    return {
        "jobs": len(plans),
        "tags": saved.rows,
        "llm": sum(job.used_llm for job in plans),
        "llmFailed": sum(job.llm_failed for job in plans),
        "rescore": saved.rescore,
    }


@legacy_step_body
def jobs_without_tags(after_id: int, limit: int) -> list[int]:
    """The next active jobs never tagged (500 ids: ~4 KB)."""
    with session_scope() as session:
        return repository.jobs_without_tags(session, after_id, limit)


@legacy_step_body
def ensure_taxonomy(embedder: EmbeddingProvider) -> int:
    """Load the bundled taxonomy when the table is empty (a fresh deployment); how
    many skills the table holds. A loaded table is left as the operator made it."""
    with session_scope() as session:
        count = repository.skill_count(session)
    if count:
        return count
    entries = read_entries(BUNDLED)
    for start in range(0, len(entries), TAXONOMY_BATCH):
        with session_scope() as session:
            upsert_entries(session, entries[start : start + TAXONOMY_BATCH], embedder)
    return len(entries)
