"""API keys: the admin API (platform key, any scope) and a tenant's own (tenant key).

This is how keys are rotated without a deploy: issue a new key, move the caller
to it (both work meanwhile), revoke the old one (refused from the next request
on). A key is shown once, in the answer that issues it; only its hash is kept.

`/api/admin/api-keys` issues and revokes any key. `/api/keys` lets a tenant do the
same with its own keys, so an integration rotates without asking the platform: at
most 10 active, and a key cannot revoke itself (no lock-out by mistake). A platform
key may act for a tenant there too (X-Tenant-Id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobmatch.api.auth import PlatformKeyDep, TenantKeyDep
from jobmatch.api.deps import SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, UNPROCESSABLE, error_responses
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.security import keys_store
from jobmatch.security.api_keys import (
    TenantKeyError,
    TenantNotFoundError,
    issue_key,
    issue_tenant_key,
    revoke_tenant_key,
)

router = APIRouter(prefix="/api/admin/api-keys", tags=["admin"])
tenant_router = APIRouter(prefix="/api/keys", tags=["keys"])

TenantIdValue = Annotated[int, Field(ge=1, le=2**31 - 1)]
KeyIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


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


class TenantKeyRequest(RequestModel):
    """A new key for the calling tenant."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "ats-sync 2026-12"}]})

    label: Trimmed = Field(
        min_length=1, max_length=100, pattern=NOT_BLANK, description="Who holds the key"
    )


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
def issue(request: IssueKeyRequest, uow: SessionDep, _key: PlatformKeyDep) -> IssuedKey:
    """Issue a platform key or a key for one tenant."""
    if request.tenant_id is not None and not keys_store.tenant_exists(uow, request.tenant_id):
        raise HTTPException(UNPROCESSABLE, f"no tenant {request.tenant_id}")
    row, key = issue_key(uow, scope=request.scope, tenant_id=request.tenant_id, label=request.label)
    return IssuedKey(**KeyOut.model_validate(row).model_dump(), key=key)


@router.get(
    "",
    summary="List API keys",
    response_model=KeyList,
    responses=error_responses(*KEY_ERRORS, 422),
)
def list_api_keys(
    uow: SessionDep,
    _key: PlatformKeyDep,
    tenant_id: Annotated[int | None, Query(alias="tenantId", ge=1, le=2**31 - 1)] = None,
) -> KeyList:
    """Every key (or one tenant's), revoked ones included."""
    return KeyList(items=[KeyOut.model_validate(k) for k in keys_store.list_keys(uow, tenant_id)])


@router.post(
    "/{key_id}/revoke",
    summary="Revoke an API key",
    response_model=KeyOut,
    responses=error_responses(*KEY_ERRORS, 404, 422, e404="No such key"),
)
def revoke(key_id: KeyIdPath, uow: SessionDep, _key: PlatformKeyDep) -> KeyOut:
    """Revoke a key: refused from the next request on. Revoking twice is harmless."""
    row = keys_store.revoke(uow, key_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {key_id}")
    return KeyOut.model_validate(row)


TENANT_400 = "Not JSON; or a platform key named no tenant"


@tenant_router.get(
    "",
    summary="List the tenant's API keys",
    response_model=KeyList,
    responses=error_responses(*KEY_ERRORS, 400, 422, e400=TENANT_400),
)
def list_tenant_keys(uow: SessionDep, access: TenantKeyDep) -> KeyList:
    """The calling tenant's keys, revoked ones included, newest first (never the keys
    themselves; keys given in the deployment's configuration are not listed)."""
    rows = keys_store.list_keys(uow, access.tenant_id())
    return KeyList(items=[KeyOut.model_validate(k) for k in rows])


@tenant_router.post(
    "",
    summary="Issue an API key for the tenant",
    response_model=IssuedKey,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        *KEY_ERRORS,
        *BODY_ERRORS,
        404,
        409,
        e400=TENANT_400,
        e404="A platform key named a tenant that does not exist",
        e409="The tenant already holds 10 active keys: nothing is written",
    ),
)
def issue_own(request: TenantKeyRequest, uow: SessionDep, access: TenantKeyDep) -> IssuedKey:
    """A new tenant key, shown once: move the integration to it, then revoke the old."""
    try:
        row, key = issue_tenant_key(uow, access.tenant_id(), request.label)
    except TenantNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except TenantKeyError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return IssuedKey(**KeyOut.model_validate(row).model_dump(), key=key)


@tenant_router.post(
    "/{key_id}/revoke",
    summary="Revoke one of the tenant's API keys",
    response_model=KeyOut,
    responses=error_responses(
        *KEY_ERRORS,
        400,
        404,
        409,
        422,
        e400=TENANT_400,
        e404="The tenant has no such key",
        e409="The key making the request: revoke it with another key",
    ),
)
def revoke_own(key_id: KeyIdPath, uow: SessionDep, access: TenantKeyDep) -> KeyOut:
    """Revoke a key of the tenant: refused from the next request on. Revoking twice
    is harmless."""
    try:
        row = revoke_tenant_key(uow, access.tenant_id(), key_id, access.caller)
    except TenantKeyError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {key_id} of this tenant")
    return KeyOut.model_validate(row)
