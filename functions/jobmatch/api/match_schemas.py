"""Response models shared by the routes that show matches.

A match is shown as `StoredMatch` itself (pydantic validates and documents
dataclasses), so the API and the read model cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from jobmatch.matching.read_store import StoredMatch

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
    "reasons": ["Has 2 of 3 required skills (postgresql, python)", "Located in Berlin"],
    "is_recommended": True,
    "method": "rules",
}


class MatchList(BaseModel):
    """Matches of one user or candidate, best first; scores are 0-100."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"count": 1, "matches": [MATCH_EXAMPLE]}]}
    )

    count: int
    matches: list[StoredMatch]

    @classmethod
    def of(cls, matches: list[StoredMatch]) -> MatchList:
        """Wrap stored matches."""
        return cls(count=len(matches), matches=matches)
