"""A tenant rotates its own API keys through the Lambda handler (`/api/keys`):
issue a new key with the old one, move to it, revoke the old one. Another tenant's
keys are invisible and unreachable, a key cannot revoke itself, and the number of
active keys is bounded; refused requests change nothing."""

from __future__ import annotations

import pytest

from jobmatch.security.api_keys import MAX_TENANT_KEYS
from jobmatch_devkit.apiclient import ApiClient
from tests.security_support import Tenants, database_state

pytestmark = pytest.mark.e2e


def own_key_ids(api: ApiClient) -> list[int]:
    response = api.get("/api/keys")
    assert response.status == 200, response.body
    return [k["id"] for k in response.json()["items"]]


def test_a_tenant_rotates_its_key_without_the_platform(api: ApiClient, tenants: Tenants) -> None:
    old = ApiClient(api.handler, api_key=tenants.key_a)
    [old_id] = own_key_ids(old)
    issued = old.post("/api/keys", {"label": "ats-sync 2026-12"})
    assert issued.status == 201, issued.body
    body = issued.json()
    assert (body["scope"], body["tenant_id"], body["label"]) == (
        "tenant",
        tenants.a,
        "ats-sync 2026-12",
    )
    new = ApiClient(api.handler, api_key=body["key"])
    matches = f"/api/candidates/{tenants.candidate_a}/matches"
    assert old.get(matches).status == new.get(matches).status == 200
    assert own_key_ids(new) == [body["id"], old_id]
    assert all("key" not in k for k in new.get("/api/keys").json()["items"])

    revoked = new.post(f"/api/keys/{old_id}/revoke")
    assert revoked.status == 200, revoked.body
    assert revoked.json()["revoked_at"]
    assert old.get(matches).status == 401
    assert new.get(matches).status == 200
    assert new.post(f"/api/keys/{old_id}/revoke").json() == revoked.json()  # idempotent
    # The new key acts for its tenant only, like any tenant key.
    assert new.get(f"/api/candidates/{tenants.candidate_b}/matches").status == 404


def test_another_tenants_keys_are_invisible_and_unreachable(
    api: ApiClient, tenants: Tenants
) -> None:
    a = ApiClient(api.handler, api_key=tenants.key_a)
    b = ApiClient(api.handler, api_key=tenants.key_b)
    [a_key] = own_key_ids(a)
    [b_key] = own_key_ids(b)
    assert a_key != b_key
    before = database_state()

    assert b.post(f"/api/keys/{a_key}/revoke").status == 404
    assert (
        b.post(f"/api/keys/{a_key}/revoke", headers={"X-Tenant-Id": str(tenants.a)}).status == 403
    )
    assert b.get("/api/keys", headers={"X-Tenant-Id": str(tenants.a)}).status == 403
    assert (
        b.post("/api/keys", {"label": "x"}, headers={"X-Tenant-Id": str(tenants.a)}).status == 403
    )
    platform_key_id = api.get("/api/admin/api-keys").json()["items"][-1]["id"]
    assert b.post(f"/api/keys/{platform_key_id}/revoke").status == 404

    assert database_state() == before
    assert a.get(f"/api/candidates/{tenants.candidate_a}/matches").status == 200
    # The platform acts for a tenant when it names it.
    listed = api.get("/api/keys", headers={"X-Tenant-Id": str(tenants.a)})
    assert [k["id"] for k in listed.json()["items"]] == [a_key]
    assert api.get("/api/keys").status == 400
    unknown = {"X-Tenant-Id": "999999"}
    assert api.post("/api/keys", {"label": "x"}, headers=unknown).status == 404
    assert database_state() == before


def test_a_key_cannot_revoke_itself(api: ApiClient, tenants: Tenants) -> None:
    a = ApiClient(api.handler, api_key=tenants.key_a)
    [own] = own_key_ids(a)
    before = database_state()
    refused = a.post(f"/api/keys/{own}/revoke")
    assert refused.status == 409
    assert "another" in refused.json()["detail"]
    assert database_state() == before
    assert a.get("/api/keys").status == 200


def test_a_tenant_holds_a_bounded_number_of_active_keys(api: ApiClient, tenants: Tenants) -> None:
    a = ApiClient(api.handler, api_key=tenants.key_a)
    for i in range(MAX_TENANT_KEYS - 1):
        assert a.post("/api/keys", {"label": f"k{i}"}).status == 201
    before = database_state()
    refused = a.post("/api/keys", {"label": "one too many"})
    assert refused.status == 409
    assert database_state() == before
    # Revoking one makes room again.
    other = own_key_ids(a)[0]
    assert a.post(f"/api/keys/{other}/revoke").status == 200
    assert a.post("/api/keys", {"label": "rotated in"}).status == 201


@pytest.mark.parametrize(
    "body",
    [{}, {"label": ""}, {"label": "   "}, {"label": "x" * 101}, {"label": "ok", "tenant_id": 1}],
)
def test_a_bad_request_is_a_422_and_writes_nothing(
    api: ApiClient, tenants: Tenants, body: dict[str, object]
) -> None:
    a = ApiClient(api.handler, api_key=tenants.key_a)
    before = database_state()
    assert a.post("/api/keys", body).status == 422
    assert database_state() == before
