"""Shared setup of the security tests: two tenants with a candidate each, keys of
every scope, and the database seen as a whole (to prove "nothing written")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from jobmatch_devkit.apiclient import ApiClient


@dataclass(frozen=True)
class Tenants:
    """Tenant ids, one pending candidate of each, and a tenant key each."""

    a: int
    b: int
    candidate_a: int
    candidate_b: int
    key_a: str
    key_b: str


def make_tenants(platform: ApiClient) -> Tenants:
    """Two tenants, each with a pending candidate, and a key for each issued through
    the admin API (by `platform`, a client holding a platform key)."""
    from jobmatch.db.models import Candidate, Tenant
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        a, b = Tenant(name="Tenant A"), Tenant(name="Tenant B")
        session.add_all([a, b])
        session.flush()
        people = [
            Candidate(
                tenant_id=t.id,
                first_name=f"C{t.id}",
                last_name="Test",
                email=f"c{t.id}@cand.example.com",
                status="pending",
                skills=["python"],
            )
            for t in (a, b)
        ]
        session.add_all(people)
        session.flush()
        ids = (a.id, b.id, people[0].id, people[1].id)
    keys = [issue_key(platform, "tenant", tenant) for tenant in ids[:2]]
    return Tenants(*ids, key_a=keys[0]["key"], key_b=keys[1]["key"])


def issue_key(platform: ApiClient, scope: str, tenant_id: int | None = None) -> Any:
    """A new key through `POST /api/admin/api-keys` (its answer, `key` included)."""
    body: dict[str, Any] = {"scope": scope, "label": f"test {scope} {tenant_id}"}
    if tenant_id is not None:
        body["tenant_id"] = tenant_id
    response = platform.post("/api/admin/api-keys", body)
    assert response.status == 201, response.body
    return response.json()


def database_state() -> dict[str, str]:
    """Each table's full content as one checksum: equal before and after a request
    means the request inserted, updated and deleted nothing."""
    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    # Table names from our own metadata, quoted: nothing from outside reaches the SQL.
    parts = [
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
        f'FROM "{table.name}" t) AS "{table.name}"'
        for table in Base.metadata.sorted_tables
    ]
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT " + ", ".join(parts))).mappings().one()
    return dict(row)
