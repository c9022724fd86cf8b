"""Reading stored matches with the job they point at, best first, in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from jobmatch.db.models import Candidate, CandidateJobMatch, Job, User, UserMatch
from jobmatch.matching.approval import CandidateNotFoundError
from jobmatch.matching.scoring import MatchResult


class UserNotFoundError(LookupError):
    """No free-signup user with this email."""


@dataclass(frozen=True)
class StoredMatch:
    """One match as the API shows it: total and component scores (0-100), the
    skills the profile has and lacks, human-readable reasons, and `method`
    ('ai' | 'rules'; None for candidate matches, which do not record it)."""

    job_id: int
    job_hash: str
    title: str
    company: str
    location: str
    remote: bool
    score: float
    skill_score: float
    experience_score: float
    location_score: float
    salary_score: float
    semantic_score: float
    matched_skills: list[str]
    missing_skills: list[str]
    reasons: list[str]
    is_recommended: bool
    method: str | None


def _stored(
    job: Job,
    scores: tuple[float, float, float, float, float, float],
    skills: tuple[Sequence[str], Sequence[str]],
    reasons: Sequence[str],
    is_recommended: bool,
    method: str | None,
) -> StoredMatch:
    """A match shown with its job: scores are (total, skill, experience, location,
    salary, semantic), skills are (matched, missing)."""
    total, skill, experience, location, salary, semantic = scores
    return StoredMatch(
        job_id=job.id,
        job_hash=job.job_hash,
        title=job.title,
        company=job.company,
        location=job.location,
        remote=job.remote,
        score=total,
        skill_score=skill,
        experience_score=experience,
        location_score=location,
        salary_score=salary,
        semantic_score=semantic,
        matched_skills=list(skills[0]),
        missing_skills=list(skills[1]),
        reasons=list(reasons),
        is_recommended=is_recommended,
        method=method,
    )


def user_matches(
    session: Session, email: str, *, limit: int, min_score: float = 0.0
) -> list[StoredMatch]:
    """A user's stored matches on jobs that are still active, best first."""
    if not session.scalar(select(exists().where(User.email == email))):
        raise UserNotFoundError(f"no user with email {email}")
    rows = session.execute(
        select(UserMatch, Job)
        .join(Job, Job.job_hash == UserMatch.job_hash)
        .where(UserMatch.user_email == email, UserMatch.score >= min_score, Job.status == "active")
        .order_by(UserMatch.score.desc(), Job.id)
        .limit(limit)
    ).all()
    return [
        _stored(
            job,
            (
                m.score,
                m.skill_score,
                m.experience_score,
                m.location_score,
                m.salary_score,
                m.semantic_score,
            ),
            (m.matched_skills, m.missing_skills),
            m.reasons,
            m.is_recommended,
            m.method,
        )
        for m, job in rows
    ]


def candidate_matches(
    session: Session, candidate_id: int, tenant_id: int, *, limit: int, min_score: float = 0.0
) -> list[StoredMatch]:
    """A tenant's candidate's stored matches on active jobs, best first; another
    tenant's candidate is CandidateNotFoundError."""
    owned = select(exists().where(Candidate.id == candidate_id, Candidate.tenant_id == tenant_id))
    if not session.scalar(owned):
        raise CandidateNotFoundError(f"candidate {candidate_id} not found")
    rows = session.execute(
        select(CandidateJobMatch, Job)
        .join(Job, Job.id == CandidateJobMatch.job_id)
        .where(
            CandidateJobMatch.candidate_id == candidate_id,
            CandidateJobMatch.tenant_id == tenant_id,
            CandidateJobMatch.match_score >= min_score,
            Job.status == "active",
        )
        .order_by(CandidateJobMatch.match_score.desc(), Job.id)
        .limit(limit)
    ).all()
    return [
        _stored(
            job,
            (
                m.match_score,
                m.skill_match_score,
                m.experience_match_score,
                m.location_match_score,
                m.salary_match_score,
                # The column keeps the raw cosine; show it on the 0-100 scale the
                # engine scores with (scoring._components), like every other part.
                round(100.0 * max(0.0, m.semantic_similarity), 1),
            ),
            (m.matched_skills, m.missing_skills),
            m.match_reasons,
            m.is_recommended,
            None,
        )
        for m, job in rows
    ]


def describe_results(session: Session, results: Sequence[MatchResult]) -> list[StoredMatch]:
    """Fresh engine results with their jobs' titles (one query), in the given order."""
    jobs = {
        job.id: job
        for job in session.scalars(select(Job).where(Job.id.in_([r.job_id for r in results])))
    }
    return [
        _stored(
            jobs[r.job_id],
            (
                r.score,
                r.skill_score,
                r.experience_score,
                r.location_score,
                r.salary_score,
                r.semantic_score,
            ),
            (r.matched_skills, r.missing_skills),
            r.reasons,
            r.is_recommended,
            r.method,
        )
        for r in results
        if r.job_id in jobs
    ]
