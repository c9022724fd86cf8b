"""Who is calling, and what for: API-key dependencies every keyed route uses.

Each keyed route takes exactly one of these (a test walks the app's routes and
fails on a route that takes neither, unless it is public on purpose):

- `PlatformKeyDep`: admin, import, batch and scraper routes. A tenant key is
  refused with 403.
- `TenantKeyDep`: routes that read or write one tenant's rows. It resolves the
  effective tenant (`TenantAccess.tenant_id`): a tenant key's own tenant, whatever
  the request says (naming another tenant in X-Tenant-Id or the body is a 403);
  a platform key acts for the tenant the request names (required, and header and
  body must agree). Queries then filter on that tenant, so another tenant's row
  is a 404.

A missing or unknown key is a 401 on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Security, status
from fastapi.security import APIKeyHeader

from jobmatch.api.deps import DepsDep, SessionDep
from jobmatch.observability import logger
from jobmatch.security.api_keys import Caller, find_caller, hash_api_key

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Machine API key: platform scope, or one tenant's scope",
)
TENANT_HEADER_DESCRIPTION = (
    "The tenant acted for: required with a platform key; with a tenant key optional, "
    "and if given it must be the key's own tenant"
)


def authenticate(
    key: Annotated[str | None, Security(api_key_header)], deps: DepsDep, session: SessionDep
) -> Caller:
    """The caller of a valid X-API-Key; 401 otherwise."""
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header")
    caller = find_caller(session, hash_api_key(key), deps.api_keys)
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key")
    logger.append_keys(api_key=caller.key_ref)
    return caller


CallerDep = Annotated[Caller, Depends(authenticate)]


def require_platform(caller: CallerDep) -> Caller:
    """A platform key's caller; 403 for a tenant key."""
    if not caller.is_platform:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route needs a platform API key")
    return caller


PlatformKeyDep = Annotated[Caller, Depends(require_platform)]


@dataclass(frozen=True)
class TenantAccess:
    """A keyed caller on a tenant route, with the tenant its X-Tenant-Id named."""

    caller: Caller
    header_tenant: int | None

    def tenant_id(self, body_tenant: int | None = None) -> int:
        """The tenant this request acts for (`body_tenant`: one the body names)."""
        named = {t for t in (self.header_tenant, body_tenant) if t is not None}
        if not self.caller.is_platform:
            assert self.caller.tenant_id is not None
            if named - {self.caller.tenant_id}:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, "this API key acts for another tenant"
                )
            return self.caller.tenant_id
        if len(named) > 1:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "X-Tenant-Id and body tenant_id disagree"
            )
        if not named:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "a platform key must name the tenant: X-Tenant-Id header or body tenant_id",
            )
        return named.pop()


def tenant_access(
    caller: CallerDep,
    x_tenant_id: Annotated[
        int | None,
        Header(alias="X-Tenant-Id", ge=1, le=2**31 - 1, description=TENANT_HEADER_DESCRIPTION),
    ] = None,
) -> TenantAccess:
    """The caller and the tenant header; a tenant key naming another tenant is
    refused here already, before any body is read."""
    access = TenantAccess(caller, x_tenant_id)
    if not caller.is_platform:
        access.tenant_id()
    return access


TenantKeyDep = Annotated[TenantAccess, Depends(tenant_access)]
