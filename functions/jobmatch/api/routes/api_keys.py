"""Admin API for API keys (platform key): issue, list, revoke.

This is how keys are rotated without a deploy: issue a new key, move the caller
to it (both work meanwhile), revoke the old one (refused from the next request
on). A key is shown once, in the answer that issues it; only its hash is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.db.models import ApiKey, Tenant
from jobmatch.security.api_keys import issue_key, list_keys, revoke_key

router = APIRouter(prefix="/api/admin/api-keys", tags=["admin"])

TenantIdValue = Annotated[int, Field(ge=1, le=2**31 - 1)]


class IssueKeyRequest(RequestModel):
    """The scope of the new key: the platform, or one tenant."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"scope": "tenant", "tenant_id": 1, "label": "ats-integration 2026-11"}]
        }
    )

    scope: Literal["platform", "tenant"]
    tenant_id: TenantIdValue | None = Field(
        default=None, description="Required for a tenant key; absent for a platform key"
    )
    label: Trimmed = Field(
        min_length=1, max_length=100, pattern=NOT_BLANK, description="Who holds the key"
    )

    @model_validator(mode="after")
    def _tenant_matches_scope(self) -> IssueKeyRequest:
        if (self.scope == "tenant") != (self.tenant_id is not None):
            raise ValueError("a tenant key needs tenant_id; a platform key takes none")
        return self


class KeyOut(BaseModel):
    """A key as listed: never the key, only its id, scope and state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    scope: str
    tenant_id: int | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(KeyOut):
    """A new key. `key` is shown only here: store it with its caller now."""

    key: str


class KeyList(BaseModel):
    """Keys, newest first."""

    items: list[KeyOut]


@router.post(
    "",
    summary="Issue an API key",
    response_model=IssuedKey,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        *KEY_ERRORS, *BODY_ERRORS, e422="Invalid request, or no such tenant: nothing is written"
    ),
)
def issue(request: IssueKeyRequest, session: SessionDep, _key: PlatformKeyDep) -> IssuedKey:
    """Issue a platform key or a key for one tenant."""
    if request.tenant_id is not None and session.get(Tenant, request.tenant_id) is None:
        raise HTTPException(422, f"no tenant {request.tenant_id}")
    row, key = issue_key(
        session, scope=request.scope, tenant_id=request.tenant_id, label=request.label
    )
    return IssuedKey(**KeyOut.model_validate(row).model_dump(), key=key)


@router.get(
    "",
    summary="List API keys",
    response_model=KeyList,
    responses=error_responses(*KEY_ERRORS, 422),
)
def list_api_keys(
    session: SessionDep,
    _key: PlatformKeyDep,
    tenant_id: Annotated[int | None, Query(alias="tenantId", ge=1, le=2**31 - 1)] = None,
) -> KeyList:
    """Every key (or one tenant's), revoked ones included."""
    return KeyList(items=[KeyOut.model_validate(k) for k in list_keys(session, tenant_id)])


@router.post(
    "/{key_id}/revoke",
    summary="Revoke an API key",
    response_model=KeyOut,
    responses=error_responses(*KEY_ERRORS, 404, 422, e404="No such key"),
)
def revoke(
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, _key: PlatformKeyDep
) -> KeyOut:
    """Revoke a key: refused from the next request on. Revoking twice is harmless."""
    row: ApiKey | None = revoke_key(session, key_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {key_id}")
    return KeyOut.model_validate(row)
