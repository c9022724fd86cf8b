"""POST /api/jobs/import: the scraper's door (API key)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import inngest
from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.api.validation import clean_list
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events.outbox import publish
from jobmatch.jobs.importing import JobInput, announcement_events, import_jobs
from jobmatch.jobs.store import mark_announced

router = APIRouter(tags=["jobs"])

MAX_IMPORT_BATCH = 500

Skill = Annotated[str, Field(max_length=80)]


class ImportJob(RequestModel):
    """One scraped job. Unknown fields are rejected so a renamed field cannot be lost;
    text is stored without surrounding whitespace."""

    external_id: Trimmed | None = Field(default=None, max_length=200)
    source: Trimmed | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        pattern=NOT_BLANK,
        description="Overrides the batch's source for this job",
    )
    title: Trimmed = Field(min_length=1, max_length=300, pattern=NOT_BLANK)
    company: Trimmed = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    location: Trimmed = Field(default="", max_length=200)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    remote: bool = False
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000)
    salary_max: int | None = Field(default=None, ge=0, le=10_000_000)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    experience_min: int | None = Field(default=None, ge=0, le=60)
    skills: list[Skill] = Field(default_factory=list, max_length=100)
    description: Trimmed = Field(default="", max_length=20_000)
    external_url: HttpUrl | None = None
    posted_date: date | None = Field(default=None, strict=False)

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        return clean_list(value)

    @model_validator(mode="after")
    def _salary_range(self) -> ImportJob:
        if (
            self.salary_min is not None
            and self.salary_max is not None
            and self.salary_min > self.salary_max
        ):
            raise ValueError("salary_min must not exceed salary_max")
        return self


class ImportRequest(RequestModel):
    """A batch of at most 500 jobs from one scraper run."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "monster",
                    "batch_id": "monster-2026-11-23T03:00",
                    "jobs": [
                        {
                            "external_id": "m-123456",
                            "title": "Senior Backend Engineer",
                            "company": "Blue Harbor Labs",
                            "location": "Berlin",
                            "country": "DE",
                            "remote": False,
                            "salary_min": 70000,
                            "salary_max": 90000,
                            "currency": "EUR",
                            "experience_min": 5,
                            "skills": ["python", "postgresql", "docker"],
                            "description": "Build our matching API.",
                            "external_url": "https://jobs.example.com/m-123456",
                            "posted_date": "2026-11-20",
                        }
                    ],
                }
            ]
        },
    )

    source: Trimmed = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    batch_id: Trimmed | None = Field(
        default=None, max_length=100, description="Generated when absent; echoed back"
    )
    jobs: list[ImportJob] = Field(min_length=1, max_length=MAX_IMPORT_BATCH)


class ImportResponse(BaseModel):
    """What the batch changed: ids of the new jobs (announced in `jobs/imported`)."""

    batch_id: str
    received: int
    created: int
    duplicates: int
    job_ids: list[int]
    announced_ids: list[int] = Field(
        description="Jobs named in the `jobs/imported` this request sent: the new ones, "
        "plus any an earlier try stored but could not announce"
    )
    event_ids: list[str]


def _job_input(job: ImportJob, batch_source: str) -> JobInput:
    return JobInput(
        source=job.source or batch_source,
        title=job.title,
        company=job.company,
        location=job.location,
        external_id=job.external_id,
        country=job.country,
        remote=job.remote,
        salary_min=job.salary_min,
        salary_max=job.salary_max,
        currency=job.currency,
        experience_min=job.experience_min,
        skills=tuple(job.skills),
        description=job.description,
        external_url=str(job.external_url) if job.external_url else None,
        posted_date=job.posted_date,
    )


@router.post(
    "/api/jobs/import",
    summary="Import scraped jobs",
    response_model=ImportResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "description": "Every job was already stored: nothing created",
            "model": ImportResponse,
        },
        **error_responses(
            *KEY_ERRORS,
            *BODY_ERRORS,
            503,
            e413="The body is larger than 2 MB: send smaller batches",
            e422="A job is invalid: nothing is written",
        ),
    },
)
def import_jobs_route(
    request: ImportRequest,
    response: Response,
    session: SessionDep,
    _key: PlatformKeyDep,
    client: InngestDep,
) -> ImportResponse:
    """Store the new jobs of a batch (dedup on job hash), then send `jobs/imported`
    with the new ids only, so matching runs once per new job."""
    batch_id = request.batch_id or f"{request.source}-{uuid.uuid4().hex[:12]}"
    result = store_and_announce(session, client, request.source, batch_id, request.jobs)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return result


def store_and_announce(
    session: UnitOfWork,
    client: inngest.Inngest,
    source: str,
    batch_id: str,
    jobs: list[ImportJob],
) -> ImportResponse:
    """The import path every door into `jobs` shares: store the jobs and, in the
    same transaction, announce the batch's jobs not yet announced (`jobs/imported`
    for matching, `jobs/new-batch` for alerts, through the outbox: sent after the
    commit, or by the next flush if the event API refuses) and mark them."""
    result = import_jobs(session, [_job_input(job, source) for job in jobs])
    event_ids: list[str] = []
    if result.unannounced_ids:
        events = announcement_events(result.unannounced_ids, source, batch_id)
        event_ids = publish(session, client, events)
        mark_announced(session, result.unannounced_ids)
    return ImportResponse(
        batch_id=batch_id,
        received=len(jobs),
        created=len(result.created_ids),
        duplicates=result.duplicates,
        job_ids=result.created_ids,
        announced_ids=result.unannounced_ids,
        event_ids=event_ids,
    )
