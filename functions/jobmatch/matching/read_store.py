"""Reading stored matches with the job they point at, best first, in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from jobmatch.candidates.store import CandidateNotFoundError
from jobmatch.db.models import Candidate, CandidateJobMatch, Job, User, UserMatch
from jobmatch.matching.errors import UserNotFoundError
from jobmatch.matching.scoring import MatchResult, StoredScores, stored_fields
from jobmatch.matching.store import excluded_jobs


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

    @classmethod
    def of(cls, job: Job, match: StoredScores, method: str | None) -> StoredMatch:
        """`match` (an engine result or a row of either match table: their fields
        have the same names) shown with its job."""
        return cls(
            job_id=job.id,
            job_hash=job.job_hash,
            title=job.title,
            company=job.company,
            location=job.location,
            remote=job.remote,
            method=method,
            **stored_fields(match),
        )


def user_matches(
    session: Session,
    email: str,
    *,
    limit: int,
    min_score: float = 0.0,
    created_after: datetime | None = None,
) -> list[StoredMatch]:
    """A user's stored matches on jobs that are still active, best first; jobs the
    user applied to or disliked are not shown (`created_after`: only matches first
    stored after that moment, what a digest calls new)."""
    user_id = session.scalar(select(User.id).where(User.email == email))
    if user_id is None:
        raise UserNotFoundError(f"no user with email {email}")
    query = (
        select(UserMatch, Job)
        .join(Job, Job.job_hash == UserMatch.job_hash)
        .where(
            UserMatch.user_email == email,
            UserMatch.score >= min_score,
            Job.status == "active",
            Job.id.not_in(excluded_jobs(user_id)),
        )
    )
    if created_after is not None:
        query = query.where(UserMatch.created_at > created_after)
    rows = session.execute(query.order_by(UserMatch.score.desc(), Job.id).limit(limit)).all()
    return [StoredMatch.of(job, m, m.method) for m, job in rows]


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
            CandidateJobMatch.score >= min_score,
            Job.status == "active",
        )
        .order_by(CandidateJobMatch.score.desc(), Job.id)
        .limit(limit)
    ).all()
    return [StoredMatch.of(job, m, None) for m, job in rows]


def describe_results(session: Session, results: Sequence[MatchResult]) -> list[StoredMatch]:
    """Fresh engine results with their jobs' titles (one query), in the given order."""
    jobs = {
        job.id: job
        for job in session.scalars(select(Job).where(Job.id.in_([r.job_id for r in results])))
    }
    return [StoredMatch.of(jobs[r.job_id], r, r.method) for r in results if r.job_id in jobs]


@dataclass(frozen=True)
class TopMatch:
    """A saved match in a notice: the job, and the score."""

    title: str
    company: str
    location: str
    score: float


def top_matches(session: Session, email: str, limit: int) -> list[TopMatch]:
    """A user's best saved matches on active jobs (what a notice lists)."""
    rows = session.execute(
        select(Job.title, Job.company, Job.location, UserMatch.score)
        .join(Job, Job.job_hash == UserMatch.job_hash)
        .where(UserMatch.user_email == email, Job.status == "active")
        .order_by(UserMatch.score.desc(), Job.id)
        .limit(limit)
    ).all()
    return [TopMatch(r.title, r.company, r.location, float(r.score)) for r in rows]
