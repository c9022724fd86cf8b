"""The OpenAPI document says what each route answers, every error has its one
shape, and a request the document forbids is refused (not accepted with a 2xx)."""

from __future__ import annotations

from typing import Any

import pytest

from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.apiclient import ApiClient
from tests.security_support import Tenants, database_state, make_tenants

pytestmark = pytest.mark.e2e

ERROR = "#/components/schemas/ErrorBody"
GATEWAY = "#/components/schemas/GatewayErrorBody"
JOB = {"title": "Backend Engineer", "company": "Acme"}


@pytest.fixture
def document(api: ApiClient) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status == 200
    doc: dict[str, Any] = response.json()
    return doc


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]


def test_every_operation_documents_the_statuses_it_can_answer(document: dict[str, Any]) -> None:
    assert "/api/inngest" not in document["paths"]  # the SDK's protocol, not this contract
    for method, path, op in _operations(document):
        documented = set(op["responses"])
        where = f"{method} {path}"
        if op.get("security"):
            assert {"401", "403"} <= documented, where
        if "requestBody" in op:
            assert {"400", "413", "422"} <= documented, where
        success = next(r for status, r in op["responses"].items() if status.startswith("2"))
        html_page = "text/html" in success.get("content", {})
        if (op.get("parameters") or "requestBody" in op) and not html_page:
            assert "422" in documented, where
        assert "429" in documented, where  # API Gateway throttling, on every route
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and path != "/api/health":
                ref = response["content"].get("application/json", {}).get("schema", {}).get("$ref")
                if ref is None:  # the human pages answer HTML
                    assert "text/html" in response["content"], where
                    continue
                assert ref == (GATEWAY if status == "429" else ERROR), f"{where} {status}"
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.fixture
def tenants(api: ApiClient) -> Tenants:
    return make_tenants(api)


def test_every_error_answer_has_the_one_documented_shape(
    api: ApiClient, tenants: Tenants, event_api: EventAPI
) -> None:
    tenant = ApiClient(api.handler, api_key=tenants.key_b)
    cases = [
        (400, api.call("POST", "/api/match-users", body="{", headers=_json())),
        (401, api.get("/api/admin/job-logs", headers={"x-api-key": "nope"})),
        (403, tenant.get("/api/admin/job-logs")),
        (404, api.get("/api/users/nobody@example.com/matches")),
        (404, api.get("/api/no/such/route")),
        (405, api.call("DELETE", "/api/signup/free")),
        (413, api.post("/api/signup/free", {"email": "a@b.co", "name": "x" * 70_000})),
        (422, api.post("/api/match-users", {})),  # raised by the route
        (422, api.post("/api/match-users", {"emails": ["nobody@example.com"]})),
        (422, api.post("/api/match-users", {"user_ids": ["1"]})),  # validation
        (422, tenant.get(f"/api/candidates/{tenants.candidate_b}/matches", query={"limit": "0"})),
    ]
    for status, response in cases:
        assert response.status == status, response.body
        body = response.json()
        assert set(body) == {"detail", "errors"}, body
        assert isinstance(body["detail"], str)
        assert body["detail"]
        for error in body["errors"]:
            assert set(error) == {"loc", "msg", "type"}
    assert event_api.received() == []


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}


def test_bodies_over_the_route_limit_are_413_and_write_nothing(
    api: ApiClient, event_api: EventAPI
) -> None:
    before = database_state()
    big_import = {"source": "t", "jobs": [{**JOB, "description": "x" * 19_000}] * 120}
    assert api.post("/api/jobs/import", big_import).status == 413  # ~2.2 MB > 2 MB
    assert api.post("/api/signup/free", {"email": "a@b.co", "name": "x" * 70_000}).status == 413
    padded = '{"emails": []' + " " * 600_000 + "}"
    assert api.call("POST", "/api/match-users", body=padded, headers=_json()).status == 413
    assert database_state() == before
    assert event_api.received() == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # a name the document does not know (only the wire alias is documented)
        ("/api/admin/tenders/sync", {"max_enrichment": 5}),
        ("/api/admin/tenders/enrich-today", {"admin_user_id": "ops"}),
        # JSON types the document forbids, which lax parsing used to coerce
        ("/api/admin/tenders/sync", {"maxEnrichment": "5"}),
        ("/api/admin/tenders/sync", {"maxEnrichment": True}),
        ("/api/admin/tenders/enrich-today", {"maxEnrichment": 2.5}),
        ("/api/jobs/import", {"source": "t", "jobs": [{**JOB, "remote": "true"}]}),
        ("/api/jobs/import", {"source": "t", "jobs": [{**JOB, "salary_min": "50000"}]}),
        # constraints the document states, checked before whitespace was stripped
        ("/api/jobs/import", {"source": "t", "jobs": [{**JOB, "title": " " + "x" * 300}]}),
        ("/api/jobs/import", {"source": "t", "jobs": [{**JOB, "country": " DE"}]}),
        ("/api/jobs/import", {"source": " " * 61, "jobs": [JOB]}),
        ("/api/match-users", {"user_ids": ["1"]}),
    ],
)
def test_a_body_the_document_forbids_is_refused(
    api: ApiClient, event_api: EventAPI, path: str, body: dict[str, Any]
) -> None:
    before = database_state()
    response = api.post(path, body)
    assert response.status == 422, response.body
    assert database_state() == before
    assert event_api.received() == []
