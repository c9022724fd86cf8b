"""Matching events (seeds 000 and 002), names and `data` fields exactly as the seeds
send them, plus the two this design adds (chunk fan-out, batch of users)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from jobmatch.workflows.events import EventData

JOBS_IMPORTED = "jobs/imported"
GENERATE_CANDIDATE = "job-match/generate-candidate"
REFRESH_CANDIDATE = "job-match/refresh-candidate"
JOB_POSTING_UPDATED = "job-posting/updated"
BACKFILL_EMBEDDINGS = "system/backfill-embeddings"
PERFORM_MATCHING = "matching/perform"
PERFORM_BATCH = "matching/perform-batch"
MATCHING_COMPLETED = "matching/completed"
JOBS_CHUNK = "matching/jobs-chunk"

MAX_JOB_IDS = 5_000  # one import batch; bigger imports send several events
MAX_BATCH_USERS = 10_000
MAX_INLINE_JOBS = 2_000
CONTENT_FIELDS = frozenset({"title", "description", "skills", "requirements"})

PositiveId = Field(gt=0, le=2**62)


class JobsImported(EventData):
    """`jobs/imported`: the scraper stored new jobs (seed 002)."""

    job_ids: list[int] = Field(max_length=MAX_JOB_IDS)
    batch_id: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100)

    @field_validator("job_ids")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("job ids are positive integers")
        return sorted(set(value))


class GenerateCandidateMatches(EventData):
    """`job-match/generate-candidate`: match one candidate (seed 002)."""

    candidate_id: int = PositiveId
    tenant_id: int = PositiveId
    trigger: Literal["onboarding_approval", "profile_update", "manual"] = "manual"


class RefreshCandidateMatches(EventData):
    """`job-match/refresh-candidate`: recompute a candidate's existing matches."""

    candidate_id: int = PositiveId
    tenant_id: int = PositiveId


class JobPostingUpdated(EventData):
    """`job-posting/updated`: a job changed; only content fields need a new embedding."""

    job_id: int = PositiveId
    changed_fields: list[str] = Field(default_factory=list, max_length=100)

    @property
    def content_changed(self) -> bool:
        """Whether anything the embedding is made of changed."""
        return bool(CONTENT_FIELDS.intersection(self.changed_fields))


class BackfillEmbeddings(EventData):
    """`system/backfill-embeddings`: embed rows missing an embedding, in batches."""

    entity_type: Literal["jobs", "candidates"] = "jobs"
    batch_size: int = Field(default=100, gt=0, le=10_000)


class MatchingContext(EventData):
    """Where a matching request came from (seed 000), passed on to `matching/completed`."""

    source: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, alias="requestId", max_length=100)
    notify: bool = False


class PerformMatching(EventData):
    """`matching/perform` (seed 000). Seed 000 carries `userPrefs` and `jobs` in the
    event; we accept that, but prefer `userId` (+ optional `jobHashes`) and re-read
    rows from Postgres, so events and step outputs stay small."""

    user_id: int | None = Field(default=None, alias="userId", gt=0)
    user_prefs: dict[str, Any] | None = Field(default=None, alias="userPrefs")
    jobs: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_INLINE_JOBS)
    job_hashes: list[str] = Field(
        default_factory=list, alias="jobHashes", max_length=MAX_INLINE_JOBS
    )
    premium: bool = False
    context: MatchingContext = MatchingContext()

    @model_validator(mode="after")
    def _someone_to_match(self) -> PerformMatching:
        if self.user_id is None:
            email = (self.user_prefs or {}).get("email")
            if not isinstance(email, str) or "@" not in email:
                raise ValueError("userId or userPrefs.email is required")
        return self

    @property
    def wanted_hashes(self) -> list[str]:
        """Jobs to match against: `jobHashes`, else the hashes of seed 000's `jobs`."""
        hashes = self.job_hashes or [
            str(j["job_hash"]) for j in self.jobs if isinstance(j.get("job_hash"), str)
        ]
        return sorted(set(hashes))


class PerformBatchMatching(EventData):
    """`matching/perform-batch`: many users in one run (seed 000's batch processing)."""

    user_ids: list[int] = Field(alias="userIds", min_length=1, max_length=MAX_BATCH_USERS)
    context: MatchingContext = MatchingContext()

    model_config = EventData.model_config | {"populate_by_name": True}


class JobsChunk(EventData):
    """`matching/jobs-chunk`: one chunk of a big `jobs/imported`, fanned out."""

    job_ids: list[int] = Field(min_length=1, max_length=MAX_JOB_IDS)
    after: int | None = None
    upto: int | None = None
    tenant_id: int | None = None
    batch_id: str | None = None
