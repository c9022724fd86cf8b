"""Admin API (platform API key): trigger tender jobs, read job logs.

Triggers only send events; the work runs as Inngest functions and reports through
its job log, which `GET /api/admin/job-logs` lists with counts and errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import inngest
from fastapi import APIRouter, Body, Query, status
from pydantic import BaseModel, Field

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.request_model import RequestModel
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events import EventModel
from jobmatch.events.outbox import publish
from jobmatch.events.tenders import (
    MAX_ENRICHMENT,
    TenderEnrichTodayRequested,
    TenderSyncRequested,
)
from jobmatch.runs import job_log_store
from jobmatch.runs.job_log_store import JobLogRow
from jobmatch.safe_input import StorableText

router = APIRouter(prefix="/api/admin", tags=["admin"])


class SyncRequest(RequestModel):
    """What a manual sync may set."""

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    triggered_by: str = Field(
        default="admin-api", alias="triggeredBy", min_length=1, max_length=120
    )


class EnrichTodayRequest(RequestModel):
    """What enrich-today may set."""

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    admin_user_id: str | None = Field(default=None, alias="adminUserId", max_length=100)


class Triggered(BaseModel):
    """The event sent; its run shows up in the job logs."""

    event: str
    event_ids: list[str] = Field(serialization_alias="eventIds")


class JobLogPage(BaseModel):
    """A page of job logs, newest first."""

    items: list[JobLogRow]
    total: int
    limit: int
    offset: int


def _trigger(uow: UnitOfWork, client: inngest.Inngest, event: EventModel) -> Triggered:
    """Record the event in the outbox (sent after the commit, or by the next flush)."""
    ids = publish(uow, client, [event.to_event()])
    return Triggered(event=event.NAME, event_ids=ids)


TRIGGER_ERRORS = error_responses(*KEY_ERRORS, *BODY_ERRORS, 503)


@router.post(
    "/tenders/sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Triggered,
    responses=TRIGGER_ERRORS,
)
def trigger_sync(
    _key: PlatformKeyDep,
    session: SessionDep,
    client: InngestDep,
    body: Annotated[SyncRequest | None, Body()] = None,
) -> Triggered:
    """Send `tender/sync.requested` (skipped by Inngest if a sync is already running)."""
    request = body or SyncRequest()
    event = TenderSyncRequested(
        max_enrichment=request.max_enrichment, triggered_by=request.triggered_by
    )
    return _trigger(session, client, event)


@router.post(
    "/tenders/enrich-today",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Triggered,
    responses=TRIGGER_ERRORS,
)
def trigger_enrich_today(
    _key: PlatformKeyDep,
    session: SessionDep,
    client: InngestDep,
    body: Annotated[EnrichTodayRequest | None, Body()] = None,
) -> Triggered:
    """Send `tender/enrich-today.requested`."""
    request = body or EnrichTodayRequest()
    event = TenderEnrichTodayRequested(
        max_enrichment=request.max_enrichment, admin_user_id=request.admin_user_id
    )
    return _trigger(session, client, event)


@router.get("/job-logs", response_model=JobLogPage, responses=error_responses(*KEY_ERRORS, 422))
def list_job_logs(
    _key: PlatformKeyDep,
    uow: SessionDep,
    job_type: Annotated[StorableText | None, Query(alias="jobType", max_length=60)] = None,
    status_: Annotated[
        Literal["RUNNING", "SUCCESS", "FAILED"] | None, Query(alias="status")
    ] = None,
    since: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> JobLogPage:
    """Job logs, newest first, filtered by type, status and start time."""
    rows, total = job_log_store.page(
        uow, job_type=job_type, status=status_, since=since, limit=limit, offset=offset
    )
    return JobLogPage(items=rows, total=total, limit=limit, offset=offset)
