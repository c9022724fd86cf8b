"""Job pipeline events: one board's ingestion, expiry and cleanup continuing
themselves, skill extraction, company discovery. The new jobs the pipeline
announces to users' alerts go out as `jobs/new-batch`, whose model is the
alerting side's (`events.engagement.JobsNewBatch`: `{"jobIds", "source"}`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from jobmatch.events import EventModel

Provider = Literal["ashby", "greenhouse", "lever"]
MAX_CHUNK_JOBS = 500


def _positive_ids(value: list[int]) -> list[int]:
    if any(v <= 0 for v in value):
        raise ValueError("job ids are positive integers")
    return sorted(set(value))


class IngestCompany(EventModel):
    """`jobs/ingest-company`: fetch one company's board now. `provider` is carried so
    the function's concurrency and throttle can be keyed by it."""

    NAME: ClassVar[str] = "jobs/ingest-company"

    company_id: int = Field(alias="companyId", gt=0, le=2**31 - 1)
    provider: Provider


class ExpireJobsRequested(EventModel):
    """`jobs/expire.requested`: expire live jobs older than `olderThanDays` (the cron
    run sends it to itself when there are more than one run's chunks)."""

    NAME: ClassVar[str] = "jobs/expire.requested"

    older_than_days: int | None = Field(default=None, alias="olderThanDays", gt=0, le=3650)


class CleanupRequested(EventModel):
    """`jobs/cleanup.requested`: the daily cleanup, continued by itself from the
    user match it had reached (`afterMatchId`)."""

    NAME: ClassVar[str] = "jobs/cleanup.requested"

    after_match_id: int = Field(default=0, alias="afterMatchId", ge=0, le=2**62)


class ExtractJobSkills(EventModel):
    """`job/extract-skills`: tag one job with its skills. A sender may include the
    title and description; the function reads the stored job either way."""

    NAME: ClassVar[str] = "job/extract-skills"

    job_id: int = Field(alias="jobId", gt=0, le=2**62)


class ExtractSkillsChunk(EventModel):
    """`skills/extract-chunk`: tag a chunk of jobs (the daily fan-out)."""

    NAME: ClassVar[str] = "skills/extract-chunk"

    job_ids: list[int] = Field(alias="jobIds", min_length=1, max_length=MAX_CHUNK_JOBS)

    _ids = field_validator("job_ids")(_positive_ids)


class CompanyDiscoveryRequested(EventModel):
    """`companies/discovery.requested`: discover boards in a crawl (the latest one
    when `crawlId` is absent); the weekly run also sends it to continue itself."""

    NAME: ClassVar[str] = "companies/discovery.requested"

    crawl_id: str | None = Field(
        default=None, alias="crawlId", pattern=r"^CC-MAIN-\d{4}-\d{2}$", max_length=40
    )
