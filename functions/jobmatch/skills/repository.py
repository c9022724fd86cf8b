"""Skill tags in PostgreSQL: the nearest skill of a phrase's vector, a job's tags
replaced in one go, the jobs still waiting for theirs. In the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import Job, JobSkill, Skill
from jobmatch.skills.extraction import Tag


def nearest_skill(session: Session, vector: Sequence[float]) -> tuple[int, float] | None:
    """(skill id, cosine similarity) of the skill nearest to `vector` (HNSW)."""
    distance = Skill.embedding.cosine_distance(list(vector))
    row = session.execute(
        select(Skill.id, distance.label("d"))
        .where(Skill.embedding.is_not(None))
        .order_by(distance)
        .limit(1)
    ).first()
    return (int(row.id), 1.0 - float(row.d)) if row is not None else None


def replace_tags(session: Session, tags: dict[int, list[Tag]]) -> int:
    """Each job's tags become exactly `tags[job]` and the job is marked extracted
    (also with no tags: it was looked at). Running it twice gives the same rows."""
    job_ids = list(tags)
    if not job_ids:
        return 0
    session.execute(delete(JobSkill).where(JobSkill.job_id.in_(job_ids)))
    rows = [
        {"job_id": job, "skill_id": t.skill_id, "confidence": t.confidence, "source": t.source}
        for job, job_tags in tags.items()
        for t in job_tags
    ]
    if rows:
        stmt = insert(JobSkill).values(rows)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[JobSkill.job_id, JobSkill.skill_id],
                set_={"confidence": stmt.excluded.confidence, "source": stmt.excluded.source},
            )
        )
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(skills_extracted_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def jobs_without_tags(session: Session, after_id: int, limit: int) -> list[int]:
    """Ids of active jobs whose skills were never extracted, after `after_id`."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.skills_extracted_at.is_(None), Job.status == "active", Job.id > after_id)
            .order_by(Job.id)
            .limit(limit)
        )
    )


def skill_count(session: Session) -> int:
    """How many skills the taxonomy holds."""
    return int(session.scalar(select(func.count()).select_from(Skill)) or 0)
