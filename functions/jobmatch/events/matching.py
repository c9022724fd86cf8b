"""Matching events. Names and `data` fields are the platform's (scraper, signup
and candidate services send them); the chunk fan-out, the batch of users and the
completion notice are this service's own."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, PlainSerializer, field_validator, model_validator

from jobmatch.events import EventModel, EventPart

MAX_JOB_IDS = 5_000  # one import batch; bigger imports send several events
MAX_BATCH_USERS = 10_000
MAX_INLINE_JOBS = 2_000
CONTENT_FIELDS = frozenset({"title", "description", "skills", "requirements"})

PositiveId = Field(gt=0, le=2**62)
# A user id travels as a string (as the signup and batch routes have always sent
# it); either form is accepted.
UserId = Annotated[int, Field(gt=0), PlainSerializer(str, return_type=str, when_used="json")]


class JobsImported(EventModel):
    """`jobs/imported`: the scraper stored new jobs."""

    NAME: ClassVar[str] = "jobs/imported"

    job_ids: list[int] = Field(max_length=MAX_JOB_IDS)
    batch_id: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100)

    @field_validator("job_ids")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("job ids are positive integers")
        return sorted(set(value))


class GenerateCandidateMatches(EventModel):
    """`job-match/generate-candidate`: match one candidate (approval, profile update,
    or on request)."""

    NAME: ClassVar[str] = "job-match/generate-candidate"

    candidate_id: int = PositiveId
    tenant_id: int = PositiveId
    # `trigger` on the wire; named `reason` here, as `trigger()` is the event's trigger.
    reason: Literal["onboarding_approval", "profile_update", "manual"] = Field(
        default="manual", alias="trigger"
    )


class RefreshCandidateMatches(EventModel):
    """`job-match/refresh-candidate`: recompute a candidate's existing matches."""

    NAME: ClassVar[str] = "job-match/refresh-candidate"

    candidate_id: int = PositiveId
    tenant_id: int = PositiveId


class JobPostingUpdated(EventModel):
    """`job-posting/updated`: a job changed; only content fields need a new embedding."""

    NAME: ClassVar[str] = "job-posting/updated"

    job_id: int = PositiveId
    changed_fields: list[str] = Field(default_factory=list, max_length=100)

    @property
    def content_changed(self) -> bool:
        """Whether anything the embedding is made of changed."""
        return bool(CONTENT_FIELDS.intersection(self.changed_fields))


class BackfillEmbeddings(EventModel):
    """`system/backfill-embeddings`: embed rows missing an embedding, in batches."""

    NAME: ClassVar[str] = "system/backfill-embeddings"

    entity_type: Literal["jobs", "candidates"] = "jobs"
    batch_size: int = Field(default=100, gt=0, le=10_000)


class MatchingContext(EventPart):
    """Where a matching request came from (signup, batch API), and whether the user
    asked to be notified; passed on unchanged to `matching/completed`."""

    source: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, alias="requestId", max_length=100)
    notify: bool = False


class InlinePreferences(EventPart):
    """Preferences another sender carried in `matching/perform` (`userPrefs`): the
    fields matching reads, typed here, so a malformed one fails the run at once
    instead of in the middle of scoring, where it would be retried."""

    email: str | None = Field(default=None, max_length=320)
    roles: list[str] = Field(default_factory=list, max_length=50)
    skills: list[str] = Field(default_factory=list, max_length=200)
    locations: list[str] = Field(default_factory=list, max_length=50)
    countries: list[str] = Field(default_factory=list, max_length=50)
    remote_ok: bool = True
    salary_min: int | None = Field(default=None, ge=0)
    experience_years: int | None = Field(default=None, ge=0, le=80)


class PerformMatching(EventModel):
    """`matching/perform`: match one free-signup user. Other senders may carry the
    preferences (`userPrefs`) and the jobs (`jobs`) in the event; we accept that, but
    send `userId` (+ optional `jobHashes`) and re-read rows from Postgres, so events
    and step outputs stay small."""

    NAME: ClassVar[str] = "matching/perform"

    user_id: UserId | None = Field(default=None, alias="userId")
    user_prefs: InlinePreferences | None = Field(default=None, alias="userPrefs")
    jobs: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_INLINE_JOBS)
    job_hashes: list[str] = Field(
        default_factory=list, alias="jobHashes", max_length=MAX_INLINE_JOBS
    )
    premium: bool = False
    context: MatchingContext = MatchingContext()

    @model_validator(mode="after")
    def _someone_to_match(self) -> PerformMatching:
        if self.user_id is None:
            email = self.user_prefs.email if self.user_prefs else None
            if email is None or "@" not in email:
                raise ValueError("userId or userPrefs.email is required")
        return self

    @property
    def wanted_hashes(self) -> list[str]:
        """Jobs to match against: `jobHashes`, else the hashes of the inline `jobs`."""
        hashes = self.job_hashes or [
            str(j["job_hash"]) for j in self.jobs if isinstance(j.get("job_hash"), str)
        ]
        return sorted(set(hashes))


class PerformBatchMatching(EventModel):
    """`matching/perform-batch`: many users in one run, one `matching/perform` each."""

    NAME: ClassVar[str] = "matching/perform-batch"

    user_ids: list[int] = Field(alias="userIds", min_length=1, max_length=MAX_BATCH_USERS)
    context: MatchingContext = MatchingContext()


class JobsChunk(EventModel):
    """`matching/jobs-chunk`: one chunk of a big `jobs/imported`, fanned out."""

    NAME: ClassVar[str] = "matching/jobs-chunk"

    job_ids: list[int] = Field(min_length=1, max_length=MAX_JOB_IDS)
    after: int | None = None
    upto: int | None = None
    tenant_id: int | None = None
    batch_id: str | None = None


class MatchingCompleted(EventModel):
    """`matching/completed`: a user's matching run saved its matches."""

    NAME: ClassVar[str] = "matching/completed"

    user_id: UserId = Field(alias="userId")
    matches_saved: int = Field(default=0, alias="matchesSaved", ge=0)
    method: str | None = None
    context: MatchingContext = MatchingContext()
