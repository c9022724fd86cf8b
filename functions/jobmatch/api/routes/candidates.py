"""Tenant-scoped candidate routes: approve, read matches.

The tenant is the key's (`TenantKeyDep`); every query filters on it, so another
tenant's candidate is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from jobmatch.api.auth import TenantKeyDep
from jobmatch.api.deps import DepsDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.match_schemas import MatchList
from jobmatch.api.request_model import RequestModel
from jobmatch.candidates.store import CandidateNotFoundError, CandidateStateError, approve_candidate
from jobmatch.events.matching import GenerateCandidateMatches
from jobmatch.events.outbox import publish
from jobmatch.matching.read_store import candidate_matches

router = APIRouter(tags=["candidates"])

CandidateId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Candidate id")]
NOT_FOUND = "No such candidate in this tenant"


class ApproveRequest(RequestModel):
    """The tenant may come in the body instead of the X-Tenant-Id header."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"tenant_id": 1}]})

    tenant_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ApproveResponse(BaseModel):
    """The candidate's new status and the event that generates its matches."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"candidate_id": 7, "tenant_id": 1, "status": "approved", "event_ids": ["01J..."]}
            ]
        }
    )

    candidate_id: int
    tenant_id: int
    status: str
    event_ids: list[str]


@router.post(
    "/api/candidates/{candidate_id}/approve",
    summary="Approve a candidate",
    response_model=ApproveResponse,
    responses=error_responses(
        *KEY_ERRORS,
        *BODY_ERRORS,
        404,
        409,
        503,
        e400="Not JSON; or a platform key named no tenant, or header and body disagree",
        e404=NOT_FOUND,
        e409="The candidate is past approval or inactive",
    ),
)
def approve(
    candidate_id: CandidateId,
    session: SessionDep,
    access: TenantKeyDep,
    deps: DepsDep,
    request: ApproveRequest | None = None,
) -> ApproveResponse:
    """Approve a pending candidate of the calling tenant, then send
    `job-match/generate-candidate` (trigger `onboarding_approval`), whose run creates
    the matches and moves the candidate to ready_for_assignment."""
    tenant_id = access.tenant_id(request.tenant_id if request else None)
    try:
        new_status = approve_candidate(session, candidate_id, tenant_id)
    except CandidateNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except CandidateStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    event = GenerateCandidateMatches(
        candidate_id=candidate_id, tenant_id=tenant_id, reason="onboarding_approval"
    )
    # Recorded with the approval (the outbox sends it after the commit): one
    # approval, one event, whatever the event API does meanwhile.
    event_ids = publish(
        session, deps.inngest, [event.to_event(id=f"approve-{tenant_id}-{candidate_id}")]
    )
    return ApproveResponse(
        candidate_id=candidate_id, tenant_id=tenant_id, status=new_status, event_ids=event_ids
    )


@router.get(
    "/api/candidates/{candidate_id}/matches",
    summary="A candidate's matches",
    response_model=MatchList,
    responses=error_responses(
        *KEY_ERRORS, 400, 404, 422, e400="A platform key named no tenant", e404=NOT_FOUND
    ),
)
def read_candidate_matches(
    candidate_id: CandidateId,
    session: SessionDep,
    access: TenantKeyDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    min_score: Annotated[float, Query(ge=0, le=100, allow_inf_nan=False)] = 0.0,
) -> MatchList:
    """A candidate's stored matches on active jobs, best first (tenant-scoped)."""
    try:
        matches = candidate_matches(
            session, candidate_id, access.tenant_id(), limit=limit, min_score=min_score
        )
    except CandidateNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return MatchList.of(matches)
