"""Scoped API keys: what a key may act for, and how keys are issued and revoked.

A key is held only as its SHA-256 (hex), together with its scope:

- `platform`: the platform's own machines (scraper, admin tools, CI). Admin,
  import and batch routes accept only these; on a tenant route the tenant must
  be named (X-Tenant-Id or the body).
- `tenant` (one tenant id): a staffing company's integration. It acts for its
  tenant only, whatever header or body it sends.

Keys come from two places, both changeable without a deploy:

- the `api_keys` table, managed through the admin API (`/api/admin/api-keys`):
  a key is shown once when issued; revoking it takes effect on the next request;
- the `API_KEY_HASHES` setting (in AWS the SSM parameter `API_KEY_HASHES_PARAM`,
  re-read at most every 5 minutes), entries `<sha256>:platform` or
  `<sha256>:tenant:<id>`, comma-separated. A bare `<sha256>` (the format before
  keys had scopes) is a platform key. It bootstraps the first platform key.

Rotation is the same in both: add the new key, move the caller to it (both work
meanwhile), then revoke (or remove) the old one. A tenant rotates its own table keys
through `/api/keys` (`issue_tenant_key`, `revoke_tenant_key`): at most
`MAX_TENANT_KEYS` active at once, and never the key making the request, so a tenant
cannot lock itself out by mistake.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.observability import logger
from jobmatch.security import keys_store
from jobmatch.security.keys_store import KeyRecord

Scope = Literal["platform", "tenant"]
_HASH = re.compile(r"^[0-9a-f]{64}$")
KEY_PREFIX = "jm_"
# Active keys a tenant may hold: enough for one per integration and a rotation, few
# enough that a leaked key cannot mint keys without bound.
MAX_TENANT_KEYS = 10


class TenantKeyError(Exception):
    """A tenant's own key request that would break a rule; the message says which."""


class TenantNotFoundError(LookupError):
    """The tenant a platform key named does not exist."""


@dataclass(frozen=True)
class Caller:
    """Who a valid key speaks for. `key_ref` names the key in logs (never the key)."""

    scope: Scope
    tenant_id: int | None
    key_ref: str

    @property
    def is_platform(self) -> bool:
        """Whether the key is a platform key."""
        return self.scope == "platform"


def hash_api_key(key: str) -> str:
    """SHA-256 hex of an API key: the only form the app keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse_entry(entry: str) -> tuple[str, Caller]:
    """One `API_KEY_HASHES` entry as (hash, caller); ValueError when malformed."""
    digest, _, scope = entry.strip().lower().partition(":")
    if not _HASH.match(digest):
        raise ValueError("an entry must start with a SHA-256 hex digest")
    ref = f"config:{digest[:8]}"
    if scope in ("", "platform"):
        return digest, Caller("platform", None, ref)
    kind, _, tenant = scope.partition(":")
    if kind == "tenant" and tenant.isdigit() and int(tenant) > 0:
        return digest, Caller("tenant", int(tenant), ref)
    raise ValueError(f"unknown scope {scope!r}: use 'platform' or 'tenant:<id>'")


def parse_entries(spec: str) -> dict[str, Caller]:
    """Every well-formed entry of `spec`; a malformed one is logged and skipped (a
    typo in one entry must not lock every caller out)."""
    keys: dict[str, Caller] = {}
    for number, entry in enumerate(spec.split(","), start=1):
        if not entry.strip():
            continue
        try:
            digest, caller = parse_entry(entry)
        except ValueError as exc:
            logger.error("API_KEY_HASHES entry skipped", extra={"entry": number, "why": str(exc)})
            continue
        keys[digest] = caller
    return keys


class ConfiguredKeys:
    """The keys of the `API_KEY_HASHES` setting. `entries` gives their current text
    (in Lambda the SSM parameter, cached by Powertools), read on every lookup, so an
    edit of the parameter reaches running containers within the cache time; the
    text is parsed again only when it changed."""

    def __init__(self, entries: Callable[[], str]) -> None:
        self._entries = entries
        self._parsed_from: str | None = None
        self._keys: dict[str, Caller] = {}

    def lookup(self, digest: str) -> Caller | None:
        """The caller of a key hash, or None."""
        spec = self._entries()
        if spec != self._parsed_from:
            self._parsed_from, self._keys = spec, parse_entries(spec)
        return self._keys.get(digest)


def find_caller(uow: UnitOfWork, digest: str, configured: ConfiguredKeys) -> Caller | None:
    """The caller a key hash belongs to (configured first, then the table's
    unrevoked keys), or None."""
    caller = configured.lookup(digest)
    if caller is not None:
        return caller
    row = keys_store.find_active(uow, digest)
    if row is None:
        return None
    scope: Scope = "platform" if row.scope == "platform" else "tenant"
    return Caller(scope, row.tenant_id, f"db:{row.id}")


def issue_key(
    uow: UnitOfWork, *, scope: Scope, tenant_id: int | None, label: str
) -> tuple[KeyRecord, str]:
    """A new key of this scope: the stored record (hash only) and the key itself,
    which is shown to the caller once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return keys_store.add(uow, hash_api_key(key), scope, tenant_id, label), key


def issue_tenant_key(uow: UnitOfWork, tenant_id: int, label: str) -> tuple[KeyRecord, str]:
    """A new key of the tenant's own, unless it holds `MAX_TENANT_KEYS` active ones."""
    if not keys_store.lock_tenant(uow, tenant_id):
        raise TenantNotFoundError(f"no tenant {tenant_id}")
    if keys_store.active_count(uow, tenant_id) >= MAX_TENANT_KEYS:
        raise TenantKeyError(
            f"the tenant already holds {MAX_TENANT_KEYS} active keys: revoke one first"
        )
    row, key = issue_key(uow, scope="tenant", tenant_id=tenant_id, label=label)
    logger.info("tenant issued an API key", extra={"tenant_id": tenant_id, "key_id": row.id})
    return row, key


def revoke_tenant_key(
    uow: UnitOfWork, tenant_id: int, key_id: int, caller: Caller
) -> KeyRecord | None:
    """Revoke one of the tenant's own keys; None when the tenant has no such key
    (another tenant's key is not found either). The key making the request cannot
    revoke itself: the tenant rotates with a new key, then revokes the old one."""
    if caller.key_ref == f"db:{key_id}":
        raise TenantKeyError("a key cannot revoke itself: call with another of your keys")
    keys_store.lock_tenant(uow, tenant_id)
    if not keys_store.owns(uow, tenant_id, key_id):
        return None
    logger.info("tenant revokes an API key", extra={"tenant_id": tenant_id, "key_id": key_id})
    return keys_store.revoke(uow, key_id)
