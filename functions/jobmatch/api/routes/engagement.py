"""Engagement routes (platform API key): send events, follow runs, send what is due.

- `POST /api/events`: the platform's engagement events (`PUBLIC_EVENTS`) into
  Inngest, each validated by the model its function parses with, so bad data is a
  422 here instead of a failed run later; internal events (fan-out chunks,
  re-ranks, matching) are refused. All or nothing: one bad event sends none.
  Every event gets an id (the caller's, or a new one), answered so the caller can
  follow the run it starts (`GET /api/runs/{id}`) and so a retried request with the
  same ids starts nothing twice (Inngest drops an id it saw in the last 24 hours).
- `GET /api/runs/{id}`: the progress a run's steps recorded, by run or event id.
- `POST /api/send-scheduled-emails`: the digests due now (the hourly cron's work),
  on request. Its event id names the hour, so calling it twice in an hour sends
  one request; and the digest log would not send a second digest anyway.

Scope: these routes act for the platform, not for a tenant (users and their
events belong to no tenant), so they take a platform key (`PlatformKeyDep`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import inngest
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, UNPROCESSABLE, error_responses
from jobmatch.api.request_model import RequestModel
from jobmatch.events.engagement import PUBLIC_EVENTS, DigestRunRequested
from jobmatch.events.outbox import publish
from jobmatch.runs import progress
from jobmatch.safe_input import StorableText

router = APIRouter(tags=["engagement"])

MAX_EVENTS = 100


class EventIn(RequestModel):
    """One event as the platform sends it."""

    name: str = Field(max_length=100, examples=["job/applied"])
    data: dict[str, Any] = Field(
        examples=[{"userId": "123", "jobId": 456, "companyId": 789}],
        description="Validated by the event's model; see the function it triggers",
    )
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="De-duplication id: a second event with it within 24 h is dropped",
    )


class EventsRequest(RequestModel):
    """Up to 100 events, sent together or not at all."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "name": "user/registered",
                            "data": {"userId": "123", "email": "ana@example.com", "name": "Ana"},
                        },
                        {"name": "job/viewed", "data": {"userId": 123, "jobId": 9, "duration": 25}},
                    ]
                }
            ]
        },
    )

    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class EventsAccepted(BaseModel):
    """The ids of the events sent, in request order: follow each at `/api/runs/{id}`."""

    ids: list[str]


class RunOut(BaseModel):
    """What a run's steps recorded so far."""

    run_id: str
    function_id: str
    event_ids: list[str]
    status: str = Field(description="running, completed or failed")
    steps_done: int
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ScheduledEmails(BaseModel):
    """The digest run requested (one per hour, however often this is called)."""

    event_ids: list[str]
    hour: str


def _validated(events: list[EventIn]) -> list[inngest.Event]:
    """Every event checked against its function's model; 422 naming the first bad one."""
    out: list[inngest.Event] = []
    for index, raw in enumerate(events):
        model = PUBLIC_EVENTS.get(raw.name)
        if model is None:
            raise HTTPException(
                UNPROCESSABLE,
                f"events[{index}]: {raw.name!r} is not an event this API accepts; "
                f"one of {', '.join(sorted(PUBLIC_EVENTS))}",
            )
        try:
            parsed = model.parse(raw.data)
        except inngest.NonRetriableError as exc:
            raise HTTPException(UNPROCESSABLE, f"events[{index}]: {exc}") from exc
        out.append(parsed.to_event(id=raw.id or uuid.uuid4().hex))
    return out


@router.post(
    "/api/events",
    summary="Send engagement events",
    response_model=EventsAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        *KEY_ERRORS,
        *BODY_ERRORS,
        503,
        e422="An event off the allow-list or with invalid data: none sent",
    ),
)
def post_events(
    request: EventsRequest,
    _key: PlatformKeyDep,
    session: SessionDep,
    client: InngestDep,
) -> EventsAccepted:
    """Send the platform's engagement events (user/registered, job/applied,
    job/viewed, job/feedback, preference/updated, notification/email,
    jobs/new-batch), validated as their functions validate them."""
    events = _validated(request.events)
    # Recorded in the outbox, sent after the commit (or by its flush if the event
    # API refuses): accepted means it will be sent, once per id.
    return EventsAccepted(ids=publish(session, client, events))


@router.get(
    "/api/runs/{run_id}",
    summary="Follow a run",
    response_model=RunOut,
    responses=error_responses(*KEY_ERRORS, 404, 422, e404="Nothing recorded (yet) under this id"),
)
def get_run(
    run_id: Annotated[StorableText, Path(max_length=200, description="A run id or an event id")],
    uow: SessionDep,
    _key: PlatformKeyDep,
) -> RunOut:
    """The progress a run recorded: by its run id, or by the id of an event that
    started it. A run that has not finished its first step yet is a 404."""
    found = progress.find(uow, run_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run recorded for {run_id!r} (yet)")
    return RunOut(**found)


@router.post(
    "/api/send-scheduled-emails",
    summary="Send the emails due now",
    response_model=ScheduledEmails,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(*KEY_ERRORS, 503),
)
def send_scheduled_emails(
    _key: PlatformKeyDep, session: SessionDep, client: InngestDep
) -> ScheduledEmails:
    """Start the digest run for the current hour (what the hourly cron does): the
    users for whom it is the digest hour now, who have something new, get theirs.
    Safe to call twice: one run per hour, and one digest per user and day."""
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    event = DigestRunRequested().to_event(id=f"scheduled-emails:{hour}")
    return ScheduledEmails(event_ids=publish(session, client, [event]), hour=hour)
