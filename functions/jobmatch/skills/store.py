"""Skills and skill tags in PostgreSQL: the taxonomy's rows, the nearest skill of a
phrase's vector, a job's tags replaced in one go, the jobs still waiting for
theirs. In the caller's transaction.

A job that lists no skills of its own is scored on its tags (`matching.store`
reads them), so replacing its tags says which jobs to match again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import Job, JobSkill, Skill
from jobmatch.skills.extraction import Tag
from jobmatch.skills.taxonomy import SkillIndex, TaxonomyEntry


@dataclass(frozen=True, slots=True)
class JobText:
    """What skills are read from in one job."""

    id: int
    title: str
    description: str


def skill_index(uow: Session) -> SkillIndex:
    """The index of the skills table (every name and alias)."""
    rows = uow.execute(select(Skill.id, Skill.name, Skill.aliases, Skill.exact_case)).all()
    return SkillIndex([(r.id, r.name, r.aliases, r.exact_case) for r in rows])


def job_texts(uow: Session, job_ids: list[int]) -> list[JobText]:
    """The title and description of the jobs among `job_ids` that exist, by id."""
    rows = uow.execute(
        select(Job.id, Job.title, Job.description).where(Job.id.in_(job_ids)).order_by(Job.id)
    ).all()
    return [JobText(r.id, r.title, r.description or "") for r in rows]


def upsert_skills(
    uow: Session, entries: Sequence[TaxonomyEntry], vectors: Sequence[Sequence[float]]
) -> int:
    """Insert or update skills by name, each with the vector of its text; how many
    rows were written."""
    if not entries:
        return 0
    rows = [
        {
            "name": e.name,
            "aliases": list(e.aliases),
            "category": e.category,
            "source": e.source,
            "exact_case": list(e.exact_case),
            "embedding": list(vector),
        }
        for e, vector in zip(entries, vectors, strict=True)
    ]
    stmt = insert(Skill).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Skill.name],
        set_={
            k: stmt.excluded[k]
            for k in ("aliases", "category", "source", "exact_case", "embedding")
        },
    )
    uow.execute(stmt)
    return len(rows)


def nearest_skill(uow: Session, vector: Sequence[float]) -> tuple[int, float] | None:
    """(skill id, cosine similarity) of the skill nearest to `vector` (HNSW)."""
    distance = Skill.embedding.cosine_distance(list(vector))
    row = uow.execute(
        select(Skill.id, distance.label("d"))
        .where(Skill.embedding.is_not(None))
        .order_by(distance)
        .limit(1)
    ).first()
    return (int(row.id), 1.0 - float(row.d)) if row is not None else None


@dataclass(frozen=True, slots=True)
class SavedTags:
    """What `replace_tags` wrote: tag rows, and the active jobs without skills of their
    own to score again: those with tags, and those whose tags it removed."""

    rows: int
    rescore: list[int]


def _tags_scored_on(uow: Session, job_ids: list[int]) -> dict[int, frozenset[int]]:
    """Current tag sets of the active jobs among `job_ids` that list no skills."""
    scored_on_tags = set(
        uow.scalars(
            select(Job.id).where(
                Job.id.in_(job_ids),
                Job.status == "active",
                func.coalesce(func.cardinality(Job.skills), 0) == 0,
            )
        )
    )
    current: dict[int, set[int]] = defaultdict(set)
    for job_id, skill_id in uow.execute(
        select(JobSkill.job_id, JobSkill.skill_id).where(JobSkill.job_id.in_(scored_on_tags))
    ):
        current[job_id].add(skill_id)
    return {job: frozenset(current.get(job, ())) for job in scored_on_tags}


def replace_tags(uow: Session, tags: dict[int, list[Tag]]) -> SavedTags:
    """Each job's tags become exactly `tags[job]` and the job is marked extracted
    (also with no tags: it was looked at). Running it twice gives the same rows and
    names the same jobs to rescore, except one whose tags the first run removed: a
    step retried after its first try committed must not lose the rescore, so the
    answer rests on the tags a job has, not on whether they changed."""
    job_ids = list(tags)
    if not job_ids:
        return SavedTags(0, [])
    before = _tags_scored_on(uow, job_ids)
    uow.execute(delete(JobSkill).where(JobSkill.job_id.in_(job_ids)))
    rows = [
        {"job_id": job, "skill_id": t.skill_id, "confidence": t.confidence, "source": t.source}
        for job, job_tags in tags.items()
        for t in job_tags
    ]
    if rows:
        stmt = insert(JobSkill).values(rows)
        uow.execute(
            stmt.on_conflict_do_update(
                index_elements=[JobSkill.job_id, JobSkill.skill_id],
                set_={"confidence": stmt.excluded.confidence, "source": stmt.excluded.source},
            )
        )
    uow.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(skills_extracted_at=func.now())
        .execution_options(synchronize_session=False)
    )
    rescore = sorted(job for job, old in before.items() if tags[job] or old)
    return SavedTags(len(rows), rescore)


def jobs_without_tags(uow: Session, after_id: int, limit: int) -> list[int]:
    """Ids of active jobs whose skills were never extracted, after `after_id`."""
    return list(
        uow.scalars(
            select(Job.id)
            .where(Job.skills_extracted_at.is_(None), Job.status == "active", Job.id > after_id)
            .order_by(Job.id)
            .limit(limit)
        )
    )


def skill_count(uow: Session) -> int:
    """How many skills the taxonomy holds."""
    return int(uow.scalar(select(func.count()).select_from(Skill)) or 0)
