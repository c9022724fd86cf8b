"""Scoped API keys through the Lambda handler: a tenant key acts for its tenant
only, platform routes refuse tenant keys, keys rotate and revoke without a deploy.

The route tables below must name every keyed route the app has (a test walks the
app and fails on a route that is missing, or that takes neither key dependency),
so a new route cannot ship without a scope and without these tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.apiclient import ApiClient
from tests.security_support import Tenants, database_state, issue_key

pytestmark = pytest.mark.e2e

# Reachable without a key, on purpose.
PUBLIC = {
    ("GET", "/api/health"),
    ("POST", "/api/signup/free"),
    ("GET", "/api/signup/confirm"),
    ("POST", "/api/signup/confirm"),
    ("GET", "/api/unsubscribe"),
    ("POST", "/api/unsubscribe"),
}

# The tenant-scoped routes on one candidate, as a tenant would send them for `{id}`.
CANDIDATE_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/candidates/{candidate_id}/approve"): {},
    ("GET", "/api/candidates/{candidate_id}/matches"): {},
}
# A tenant's own keys (tests/e2e/test_tenant_keys.py).
TENANT_KEY_ROUTES = {
    ("GET", "/api/keys"),
    ("POST", "/api/keys"),
    ("POST", "/api/keys/{key_id}/revoke"),
}
TENANT_ROUTES = set(CANDIDATE_ROUTES) | TENANT_KEY_ROUTES

# Every platform route, with a body its schema accepts.
PLATFORM_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/admin/tenders/sync"): {"body": {"triggeredBy": "test"}},
    ("POST", "/api/admin/tenders/enrich-today"): {"body": {}},
    ("GET", "/api/admin/job-logs"): {},
    ("POST", "/api/admin/api-keys"): {"body": {"scope": "platform", "label": "x"}},
    ("GET", "/api/admin/api-keys"): {},
    ("POST", "/api/admin/api-keys/{key_id}/revoke"): {"path": {"key_id": 1}},
    ("POST", "/api/jobs/import"): {
        "body": {"source": "t", "jobs": [{"title": "Backend Engineer", "company": "Acme"}]}
    },
    ("POST", "/api/match-users"): {"body": {"emails": ["a@example.com"]}},
    ("GET", "/api/users/{email}/matches"): {"path": {"email": "a@example.com"}},
    ("POST", "/api/events"): {
        "body": {"events": [{"name": "job/applied", "data": {"userId": "1", "jobId": 1}}]}
    },
    ("GET", "/api/runs/{run_id}"): {"path": {"run_id": "run-1"}},
    ("POST", "/api/send-scheduled-emails"): {},
    ("POST", "/api/admin/roles"): {"body": {"name": "quantum gardener"}},
    ("POST", "/api/admin/roles/{role_id}/aliases"): {
        "path": {"role_id": 1},
        "body": {"alias": "qubit pruner"},
    },
    ("POST", "/api/admin/roles/re-resolve"): {"body": {}},
    ("GET", "/api/admin/roles/unresolved"): {},
    ("POST", "/api/scraper/sessions"): {"body": {}},
    ("POST", "/api/scraper/sessions/{session_id}/heartbeat"): {
        "path": {"session_id": "00000000-0000-0000-0000-000000000001"}
    },
    ("POST", "/api/scraper/sessions/{session_id}/complete"): {
        "path": {"session_id": "00000000-0000-0000-0000-000000000001"},
        "body": {"source": "t", "jobs": [{"title": "Backend Engineer", "company": "Acme"}]},
    },
}


def _dependency_calls(route: APIRoute) -> set[Callable[..., Any]]:
    calls: set[Callable[..., Any]] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    return calls


def test_every_route_is_public_on_purpose_or_takes_one_key_scope(settings: Settings) -> None:
    from jobmatch.api.auth import require_platform, tenant_access
    from jobmatch.app import INNGEST_PATH, create_app

    app = create_app(Dependencies(settings), functions=[])
    found: dict[str, set[tuple[str, str]]] = {"platform": set(), "tenant": set()}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path == INNGEST_PATH:
            continue
        calls = _dependency_calls(route)
        for method in route.methods:
            key = (method, str(context.path))
            scopes = {
                name
                for name, dep in (("platform", require_platform), ("tenant", tenant_access))
                if dep in calls
            }
            if key in PUBLIC:
                assert not scopes, f"{key} is listed public but takes a key"
                continue
            assert len(scopes) == 1, f"{key} must take PlatformKeyDep or TenantKeyDep"
            found[scopes.pop()].add(key)
    assert found["tenant"] == TENANT_ROUTES
    assert found["platform"] == set(PLATFORM_ROUTES)


def _call(api: ApiClient, route: tuple[str, str], spec: dict[str, Any], **kw: Any) -> Any:
    method, path = route
    path = path.format(**spec.get("path", {}))
    return api.call(method, path, body=spec.get("body"), **kw)


@pytest.mark.parametrize("route", sorted(CANDIDATE_ROUTES))
def test_a_tenant_key_cannot_reach_another_tenants_candidate(
    api: ApiClient, tenants: Tenants, event_api: EventAPI, route: tuple[str, str]
) -> None:
    """B's key on A's candidate: 404 whatever the request names; naming A
    explicitly is a 403; nothing is written or sent."""
    b = ApiClient(api.handler, api_key=tenants.key_b)
    spec = {"path": {"candidate_id": tenants.candidate_a}}
    before = database_state()

    assert _call(b, route, spec).status == 404
    named_a = {"X-Tenant-Id": str(tenants.a)}
    assert _call(b, route, spec, headers=named_a).status == 403
    if route[0] == "POST":
        in_body = {**spec, "body": {"tenant_id": tenants.a}}
        assert _call(b, route, in_body).status == 403
        both = {"X-Tenant-Id": str(tenants.b)}
        assert _call(b, route, in_body, headers=both).status == 403

    assert database_state() == before
    assert event_api.received() == []


@pytest.mark.parametrize("route", sorted(CANDIDATE_ROUTES))
def test_a_tenant_key_acts_for_its_own_tenant_without_naming_it(
    api: ApiClient, tenants: Tenants, route: tuple[str, str]
) -> None:
    a = ApiClient(api.handler, api_key=tenants.key_a)
    spec = {"path": {"candidate_id": tenants.candidate_a}}
    assert _call(a, route, spec).status == 200
    assert _call(a, route, spec, headers={"X-Tenant-Id": str(tenants.a)}).status == 200


@pytest.mark.parametrize("route", sorted(PLATFORM_ROUTES))
def test_platform_routes_refuse_tenant_keys(
    api: ApiClient, tenants: Tenants, event_api: EventAPI, route: tuple[str, str]
) -> None:
    tenant = ApiClient(api.handler, api_key=tenants.key_a)
    before = database_state()
    response = _call(tenant, route, PLATFORM_ROUTES[route])
    assert response.status == 403, response.body
    assert response.json()["detail"] == "this route needs a platform API key"
    assert database_state() == before
    assert event_api.received() == []


def test_keys_rotate_with_two_valid_at_once_and_revoke_on_the_next_request(
    api: ApiClient, tenants: Tenants
) -> None:
    from jobmatch.db.models import ApiKey
    from jobmatch.db.session import session_scope

    old = ApiClient(api.handler, api_key=tenants.key_a)
    issued = issue_key(api, "tenant", tenants.a)
    new = ApiClient(api.handler, api_key=issued["key"])
    path = f"/api/candidates/{tenants.candidate_a}/matches"
    assert old.get(path).status == new.get(path).status == 200

    listed = api.get("/api/admin/api-keys", query={"tenantId": str(tenants.a)}).json()
    old_id = next(k["id"] for k in listed["items"] if k["id"] != issued["id"])
    assert all("key" not in k for k in listed["items"])
    revoked = api.post(f"/api/admin/api-keys/{old_id}/revoke")
    assert revoked.status == 200
    assert revoked.json()["revoked_at"]

    assert old.get(path).status == 401
    assert new.get(path).status == 200
    with session_scope() as session:
        stored = {k.key_hash for k in session.query(ApiKey)}
    assert issued["key"] not in stored  # hashes only
    assert api.post("/api/admin/api-keys/999999/revoke").status == 404


def test_issuing_a_key_checks_scope_and_tenant(api: ApiClient, tenants: Tenants) -> None:
    before = database_state()
    for body in (
        {"scope": "tenant", "label": "no tenant"},
        {"scope": "platform", "tenant_id": tenants.a, "label": "tenant on platform"},
        {"scope": "tenant", "tenant_id": 999_999, "label": "unknown tenant"},
        {"scope": "admin", "label": "unknown scope"},
    ):
        assert api.post("/api/admin/api-keys", body).status == 422, body
    assert database_state() == before


def test_configured_keys_carry_their_scope(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    api: ApiClient,
    tenants: Tenants,
) -> None:
    """`API_KEY_HASHES` entries `<sha256>:tenant:<id>` are tenant keys too."""
    from jobmatch.security.api_keys import hash_api_key

    key = "configured-tenant-b-key-0123456789"
    entries = f"{settings.api_key_hashes},{hash_api_key(key)}:tenant:{tenants.b}"
    configured = settings.model_copy(update={"api_key_hashes": entries})
    tenant_b = ApiClient(driver_for(Dependencies(configured)).handler, api_key=key)
    assert tenant_b.get(f"/api/candidates/{tenants.candidate_b}/matches").status == 200
    assert tenant_b.get(f"/api/candidates/{tenants.candidate_a}/matches").status == 404
    assert tenant_b.get("/api/admin/job-logs").status == 403


def test_a_platform_key_must_name_the_tenant(api: ApiClient, tenants: Tenants) -> None:
    path = f"/api/candidates/{tenants.candidate_a}/matches"
    assert api.get(path).status == 400
    assert api.get(path, headers={"X-Tenant-Id": str(tenants.a)}).status == 200
    assert api.get(path, headers={"X-Tenant-Id": str(tenants.b)}).status == 404
