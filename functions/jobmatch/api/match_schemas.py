"""Response models shared by the routes that show matches."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from jobmatch.matching.match_reads import StoredMatch

MATCH_EXAMPLE: dict[str, Any] = {
    "job_id": 42,
    "job_hash": "9f2c0d3e5b7a...",
    "title": "Senior Backend Engineer",
    "company": "Blue Harbor Labs",
    "location": "Berlin",
    "remote": False,
    "score": 82.5,
    "skill_score": 90.0,
    "experience_score": 100.0,
    "location_score": 100.0,
    "salary_score": 70.0,
    "semantic_score": 61.0,
    "matched_skills": ["python", "postgresql"],
    "missing_skills": ["kafka"],
    "reasons": ["Strong skill match: python, postgresql", "Located in Berlin"],
    "is_recommended": True,
    "method": "rules",
}


class MatchOut(BaseModel):
    """One match: total and component scores (0-100) and why."""

    model_config = ConfigDict(json_schema_extra={"examples": [MATCH_EXAMPLE]})

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
    method: str | None = None

    @classmethod
    def of(cls, match: StoredMatch) -> MatchOut:
        """The API form of a stored match."""
        return cls.model_validate(match, from_attributes=True)


class MatchList(BaseModel):
    """Matches of one user or candidate, best first."""

    count: int
    matches: list[MatchOut]

    @classmethod
    def of(cls, matches: list[StoredMatch]) -> MatchList:
        """Wrap stored matches."""
        return cls(count=len(matches), matches=[MatchOut.of(m) for m in matches])
