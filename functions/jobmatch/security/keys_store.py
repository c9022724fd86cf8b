"""The keys store: the `api_keys` table (hashes and scopes) and the tenant lock that
serialises one tenant's key changes. The rules (who may issue or revoke what) are
`security.api_keys`; here only the statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from jobmatch.db.models import ApiKey, Tenant
from jobmatch.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class KeyRecord:
    """A stored key as it is listed: never the key, nor its hash."""

    id: int
    scope: str
    tenant_id: int | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(row.id, row.scope, row.tenant_id, row.label, row.created_at, row.revoked_at)


def find_active(uow: UnitOfWork, digest: str) -> KeyRecord | None:
    """The unrevoked key with this hash, or None."""
    row = uow.scalars(
        select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    ).first()
    return None if row is None else _record(row)


def add(uow: UnitOfWork, key_hash: str, scope: str, tenant_id: int | None, label: str) -> KeyRecord:
    """Store a new key (its hash) of this scope."""
    row = ApiKey(key_hash=key_hash, scope=scope, tenant_id=tenant_id, label=label)
    uow.add(row)
    uow.flush()
    uow.refresh(row)
    return _record(row)


def revoke(uow: UnitOfWork, key_id: int) -> KeyRecord | None:
    """Revoke a key (idempotent: a revoked key keeps its first revocation time);
    None when there is no such key."""
    row = uow.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        uow.flush()
    return _record(row)


def list_keys(uow: UnitOfWork, tenant_id: int | None = None) -> list[KeyRecord]:
    """Keys, newest first, optionally one tenant's."""
    stmt = select(ApiKey).order_by(ApiKey.id.desc())
    if tenant_id is not None:
        stmt = stmt.where(ApiKey.tenant_id == tenant_id)
    return [_record(row) for row in uow.scalars(stmt)]


def tenant_exists(uow: UnitOfWork, tenant_id: int) -> bool:
    """Whether the tenant exists."""
    return uow.get(Tenant, tenant_id) is not None


def lock_tenant(uow: UnitOfWork, tenant_id: int) -> bool:
    """Lock the tenant's row until the unit of work ends (its key changes then see
    settled rows); whether the tenant exists."""
    found = uow.scalar(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    return found is not None


def active_count(uow: UnitOfWork, tenant_id: int) -> int:
    """How many unrevoked keys the tenant holds."""
    count = uow.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
    )
    return int(count or 0)


def owns(uow: UnitOfWork, tenant_id: int, key_id: int) -> bool:
    """Whether the key is one of the tenant's."""
    owned = uow.scalar(select(ApiKey.id).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
    return owned is not None
