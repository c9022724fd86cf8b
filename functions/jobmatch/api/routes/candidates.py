"""Tenant-scoped candidate routes (API key + tenant): approve, read matches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from jobmatch.api.deps import ApiKeyDep, InngestDep, SessionDep
from jobmatch.api.events import send_events
from jobmatch.api.match_schemas import MatchList
from jobmatch.events.matching import GenerateCandidateMatches
from jobmatch.matching.approval import CandidateStateError, approve_candidate
from jobmatch.matching.errors import CandidateNotFoundError
from jobmatch.matching.match_reads import candidate_matches

router = APIRouter(tags=["candidates"])

CandidateId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Candidate id")]
TenantHeader = Annotated[
    int | None,
    Header(alias="X-Tenant-Id", ge=1, le=2**31 - 1, description="The calling tenant"),
]


class ApproveRequest(BaseModel):
    """The tenant may come in the body instead of the X-Tenant-Id header."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"tenant_id": 1}]})

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


def resolve_tenant(header: int | None, body: int | None) -> int:
    """The one tenant of a request: header or body, and they must agree."""
    if header is not None and body is not None and header != body:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "X-Tenant-Id and body tenant_id disagree")
    tenant = header if header is not None else body
    if tenant is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "tenant required: X-Tenant-Id header or body tenant_id"
        )
    return tenant


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such candidate in this tenant"}
}


@router.post(
    "/api/candidates/{candidate_id}/approve",
    summary="Approve a candidate",
    response_model=ApproveResponse,
    responses={
        400: {"description": "No tenant given, or header and body disagree"},
        401: {"description": "Missing or invalid API key"},
        **NOT_FOUND,
        409: {"description": "The candidate is past approval or inactive"},
        503: {"description": "Approved, but the event service was unreachable; retry"},
    },
)
def approve(
    candidate_id: CandidateId,
    session: SessionDep,
    _key: ApiKeyDep,
    client: InngestDep,
    x_tenant_id: TenantHeader = None,
    request: ApproveRequest | None = None,
) -> ApproveResponse:
    """Approve a pending candidate of the calling tenant, then send
    `job-match/generate-candidate` (trigger `onboarding_approval`), whose run creates
    the matches and moves the candidate to ready_for_assignment."""
    tenant_id = resolve_tenant(x_tenant_id, request.tenant_id if request else None)
    try:
        candidate = approve_candidate(session, candidate_id, tenant_id)
    except CandidateNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except CandidateStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    event = GenerateCandidateMatches(
        candidate_id=candidate.id, tenant_id=tenant_id, reason="onboarding_approval"
    )
    event_ids = send_events(client, [event.to_event()], what=event.NAME)
    return ApproveResponse(
        candidate_id=candidate.id, tenant_id=tenant_id, status=candidate.status, event_ids=event_ids
    )


@router.get(
    "/api/candidates/{candidate_id}/matches",
    summary="A candidate's matches",
    response_model=MatchList,
    responses={401: {"description": "Missing or invalid API key"}, **NOT_FOUND},
)
def read_candidate_matches(
    candidate_id: CandidateId,
    session: SessionDep,
    _key: ApiKeyDep,
    x_tenant_id: Annotated[
        int, Header(alias="X-Tenant-Id", ge=1, le=2**31 - 1, description="The calling tenant")
    ],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    min_score: Annotated[float, Query(ge=0, le=100)] = 0.0,
) -> MatchList:
    """A candidate's stored matches on active jobs, best first (tenant-scoped)."""
    try:
        matches = candidate_matches(
            session, candidate_id, x_tenant_id, limit=limit, min_score=min_score
        )
    except CandidateNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return MatchList.of(matches)
