"""The external scraper's machine API (API key): claim a role, keep the session
alive, hand in its jobs.

    POST /api/scraper/sessions                   -> 201 {session_id, role} | 204 nothing queued
    POST /api/scraper/sessions/{id}/heartbeat    -> 200 | 404 unknown | 409 no longer active
    POST /api/scraper/sessions/{id}/complete     -> 200 {session, import} | 404

The jobs go through the import route's own path (`store_and_announce`: job hash,
role resolution, `jobs/imported` for the new ones). A session that missed its
heartbeats was reset and its role handed to someone else; its jobs are still
stored when it completes, but it no longer completes the role.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, Field

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.api.routes.jobs_import import (
    MAX_IMPORT_BATCH,
    ImportJob,
    ImportResponse,
    store_and_announce,
)
from jobmatch.db.models import ScraperSession
from jobmatch.scraping import store as queue_store

router = APIRouter(tags=["scraper"])

SessionId = Annotated[uuid.UUID, Path(description="The session id the claim returned")]


class ClaimRequest(RequestModel):
    """Who is claiming (shown on the session; defaults to the API key's prefix)."""

    scraper: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:@/-]+$"
    )


class ClaimedRole(BaseModel):
    """The role to scrape: its name and the aliases to search for."""

    id: int
    name: str
    aliases: list[str]


class ClaimResponse(BaseModel):
    """A new session for one role."""

    session_id: str
    role: ClaimedRole


class SessionState(BaseModel):
    """A session as it is now."""

    session_id: str
    role_id: int
    status: str = Field(description="active, completed, or stale (reset after silence)")
    last_heartbeat_at: datetime
    jobs_received: int
    jobs_created: int

    @classmethod
    def of(cls, row: ScraperSession) -> SessionState:
        """The state of a session row."""
        return cls(
            session_id=row.id,
            role_id=row.role_id,
            status=row.status,
            last_heartbeat_at=row.last_heartbeat_at,
            jobs_received=row.jobs_received,
            jobs_created=row.jobs_created,
        )


class CompleteRequest(RequestModel):
    """The session's jobs (at most 500; none is a valid answer for a role)."""

    source: Trimmed = Field(min_length=1, max_length=60, pattern=NOT_BLANK)
    batch_id: str | None = Field(default=None, max_length=100)
    jobs: list[ImportJob] = Field(default_factory=list, max_length=MAX_IMPORT_BATCH)


class CompleteResponse(BaseModel):
    """The session after completing, and what its jobs changed."""

    session: SessionState
    imported: ImportResponse


@router.post(
    "/api/scraper/sessions",
    summary="Claim the next role to scrape",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimResponse,
    responses={
        204: {"description": "No role is queued"},
        **error_responses(*KEY_ERRORS, *BODY_ERRORS),
    },
)
def claim_session(
    session: SessionDep, key: PlatformKeyDep, request: ClaimRequest | None = None
) -> ClaimResponse | Response:
    """Lock the next queued role (`SKIP LOCKED`: concurrent claims get different
    roles) and open a session for it."""
    scraper = (request.scraper if request else None) or key.key_ref
    claim = queue_store.claim_next(session, scraper)
    if claim is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return ClaimResponse(
        session_id=claim.session_id,
        role=ClaimedRole(id=claim.role_id, name=claim.role_name, aliases=claim.aliases),
    )


@router.post(
    "/api/scraper/sessions/{session_id}/heartbeat",
    summary="Keep a scraper session alive",
    response_model=SessionState,
    responses=error_responses(
        *KEY_ERRORS, 404, 409, 422, e404="Unknown session", e409="The session is not active"
    ),
)
def heartbeat(session_id: SessionId, session: SessionDep, _key: PlatformKeyDep) -> SessionState:
    """Stamp the heartbeat; a session reset for silence answers 409 (stop: the role
    was handed to another scraper)."""
    row = queue_store.heartbeat(session, str(session_id))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown session")
    if row.status != "active":
        raise HTTPException(status.HTTP_409_CONFLICT, f"session is {row.status}")
    return SessionState.of(row)


@router.post(
    "/api/scraper/sessions/{session_id}/complete",
    summary="Complete a scraper session with its jobs",
    response_model=CompleteResponse,
    responses=error_responses(*KEY_ERRORS, *BODY_ERRORS, 404, 503, e404="Unknown session"),
)
def complete(
    session_id: SessionId,
    request: CompleteRequest,
    session: SessionDep,
    _key: PlatformKeyDep,
    client: InngestDep,
) -> CompleteResponse:
    """Store the jobs through the import path, then complete the session and its
    role. Retrying after a 503 stores nothing twice and completes once."""
    sid = str(session_id)
    if not queue_store.known(session, sid):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown session")
    batch_id = request.batch_id or f"scraper-{sid}"
    imported = store_and_announce(session, client, request.source, batch_id, request.jobs)
    row = queue_store.finish(session, sid, received=imported.received, created=imported.created)
    if row is None:  # deleted with its role meanwhile
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown session")
    return CompleteResponse(session=SessionState.of(row), imported=imported)
