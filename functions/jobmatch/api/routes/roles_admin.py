"""Admin API for roles (machine API key, platform scope): add a role or an alias,
re-resolve jobs, list the titles that resolved to no role.

Adding commits the rows, then sends `roles/embed-missing` so the new role (or the
changed one) gets its vectors: until then it is found by its exact name or alias.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events.outbox import publish
from jobmatch.events.roles import RolesEmbedMissing, RolesReResolveRequested
from jobmatch.roles import store as roles
from jobmatch.roles.store import RoleConflictError

# Platform-wide data (every tenant's jobs resolve against these roles): a key
# scoped to one tenant must not reach these routes once keys carry scopes.
router = APIRouter(prefix="/api/admin/roles", tags=["admin"])

Phrase = Annotated[Trimmed, Field(min_length=2, max_length=200, pattern=NOT_BLANK)]


class NewRole(RequestModel):
    """A role the taxonomy lacks."""

    name: Phrase
    aliases: list[Phrase] = Field(default_factory=list, max_length=100)
    description: str = Field(default="", max_length=2_000)
    parent_id: int | None = Field(default=None, alias="parentId", gt=0, le=2**31 - 1)


class NewAlias(RequestModel):
    """One more name a role is known by."""

    alias: Phrase


class RoleOut(BaseModel):
    """A role as admins see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    aliases: list[str]
    code: str | None
    description: str
    group_code: str | None
    group_name: str | None
    parent_id: int | None
    source: str


class ReResolveRequest(RequestModel):
    """Which jobs to resolve again besides the pending and unresolved ones."""

    below_confidence: float | None = Field(default=None, alias="belowConfidence", ge=0, le=1)


class Triggered(BaseModel):
    """The event sent."""

    event: str
    event_ids: list[str] = Field(serialization_alias="eventIds")


class UnresolvedTitle(BaseModel):
    """A title no role fits, and how many active jobs carry it."""

    title: str
    jobs: int
    latest_job_id: int


class UnresolvedPage(BaseModel):
    """Unresolved titles, most frequent first."""

    items: list[UnresolvedTitle]
    total: int
    limit: int
    offset: int


def _embed(uow: UnitOfWork, client: Any) -> None:
    publish(uow, client, [RolesEmbedMissing().to_event()])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RoleOut,
    responses=error_responses(*KEY_ERRORS, *BODY_ERRORS, 409, 503),
)
def add_role(body: NewRole, session: SessionDep, _key: PlatformKeyDep, client: InngestDep) -> Any:
    """Add a role (409 if the name exists); its vectors are computed in the background."""
    try:
        role = roles.add_role(session, body.name, body.aliases, body.description, body.parent_id)
    except RoleConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    out = RoleOut.model_validate(role)
    _embed(session, client)
    return out


@router.post(
    "/{role_id}/aliases",
    response_model=RoleOut,
    responses=error_responses(*KEY_ERRORS, *BODY_ERRORS, 404, 503),
)
def add_alias(
    role_id: Annotated[int, Path(gt=0, le=2**31 - 1)],
    body: NewAlias,
    session: SessionDep,
    _key: PlatformKeyDep,
    client: InngestDep,
) -> Any:
    """Give a role one more alias (404 if there is no such role)."""
    role = roles.add_alias(session, role_id, body.alias)
    if role is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"role {role_id} not found")
    out = RoleOut.model_validate(role)
    _embed(session, client)
    return out


@router.post(
    "/re-resolve",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Triggered,
    responses=error_responses(*KEY_ERRORS, *BODY_ERRORS, 503),
)
def re_resolve(
    _key: PlatformKeyDep,
    session: SessionDep,
    client: InngestDep,
    body: Annotated[ReResolveRequest | None, Body()] = None,
) -> Triggered:
    """Send `roles/re-resolve.requested`: pending and unresolved jobs, and those
    resolved by meaning below the confidence, resolve again and are matched again."""
    request = body or ReResolveRequest()
    event = RolesReResolveRequested(below_confidence=request.below_confidence)
    ids = publish(session, client, [event.to_event()])
    return Triggered(event=event.NAME, event_ids=ids)


@router.get(
    "/unresolved",
    response_model=UnresolvedPage,
    responses=error_responses(*KEY_ERRORS, 422),
)
def unresolved(
    _key: PlatformKeyDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> UnresolvedPage:
    """Titles of active jobs that resolved to no role: what the taxonomy lacks."""
    total, rows = roles.unresolved_titles(session, limit, offset)
    return UnresolvedPage(
        items=[
            UnresolvedTitle(title=r.title, jobs=r.jobs, latest_job_id=r.latest_job_id) for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
