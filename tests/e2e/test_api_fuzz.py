"""A property-based fuzz test of the whole REST API, through the Lambda handler.

Schemathesis generates requests from the app's own OpenAPI document, valid ones
and ones the document forbids; each is turned into an API Gateway HTTP API v2
event and handed to the real Lambda handler, and the answer is checked:

- never a 5xx;
- it conforms to the document (status documented, body and content type as
  documented; a request the document forbids is refused);
- a refused request (4xx) wrote nothing (every table's content is unchanged)
  and sent no event.

Bounded and reproducible: a fixed number of examples per operation, derandomized,
no example database. The fuzzer holds a platform key, and a tenant key for the
tenant routes.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inngest_harness.apigw import DOMAIN_NAME, http_event, lambda_context
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.app import create_app
from jobmatch.dependencies import Dependencies
from jobmatch.settings import get_settings
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient
from tests.conftest import TEST_API_KEY
from tests.security_support import Tenants, database_state, make_tenants

pytestmark = pytest.mark.e2e

BASE_URL = f"https://{DOMAIN_NAME}"
# Headers API Gateway sets itself, whatever the client sent (the event builder adds
# the gateway's values); Mangum trusts them.
GATEWAY_HEADERS = {"host", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_dict(
    create_app(Dependencies(get_settings()), functions=[]).openapi()
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
)
schema.config.phases.update(phases=["examples", "fuzzing"])


class LambdaTarget:
    """The API as API Gateway reaches it: each case becomes a v2 event for the
    handler, and the handler's answer a response schemathesis can check."""

    def __init__(self, driver: InngestDriver, tenants: Tenants) -> None:
        self.handler = driver.handler
        self.tenants = tenants

    def call(self, case: schemathesis.Case) -> schemathesis.Response:
        """Send `case` through the handler."""
        kwargs = case.as_transport_kwargs(base_url=BASE_URL)
        headers = {**(kwargs.get("headers") or {})}
        if "X-API-Key" in headers:  # left out when the case tests a missing key
            tenant_route = "/api/candidates/" in case.path
            headers["X-API-Key"] = self.tenants.key_a if tenant_route else TEST_API_KEY
        request = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=headers,
            params=kwargs.get("params"),
            cookies=kwargs.get("cookies"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
        ).prepare()
        url = urlsplit(request.url)
        sent = {k: str(v) for k, v in request.headers.items() if k.lower() not in GATEWAY_HEADERS}
        body = request.body.encode() if isinstance(request.body, str) else request.body
        started = time.perf_counter()
        raw = self.handler(
            http_event(
                request.method or "GET",
                url.path,
                body=body,
                headers=sent,
                query=dict(parse_qsl(url.query, keep_blank_values=True)) or None,
            ),
            lambda_context(),
        )
        return schemathesis.Response(
            status_code=int(raw["statusCode"]),
            headers={k.lower(): [str(v)] for k, v in (raw.get("headers") or {}).items()},
            content=_body(raw),
            request=request,
            elapsed=time.perf_counter() - started,
            verify=True,
        )


def _body(raw: dict[str, Any]) -> bytes:
    import base64

    text = str(raw.get("body") or "")
    return base64.b64decode(text) if raw.get("isBase64Encoded") else text.encode()


@pytest.fixture
def target(driver: InngestDriver) -> LambdaTarget:
    """The handler, synced, on a database holding the sample roles, a few jobs,
    a signed-up user and two tenants with a candidate each."""
    from jobmatch.db.session import session_scope

    driver.sync()
    platform = ApiClient(driver.handler, api_key=TEST_API_KEY)
    with session_scope() as session:
        sample_data.load_roles(session)
    jobs = [{"title": "Backend Engineer", "company": "Acme", "skills": ["python"]}]
    assert platform.post("/api/jobs/import", {"source": "seed", "jobs": jobs}).status == 201
    signup = {"email": "fuzz@example.com", "roles": ["backend engineer"]}
    assert platform.post("/api/signup/free", signup).status == 201
    return LambdaTarget(driver, make_tenants(platform))


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES_PER_OPERATION,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_holds_for_generated_requests(
    case: schemathesis.Case, target: LambdaTarget, event_api: EventAPI
) -> None:
    before, sent_before = database_state(), len(event_api.received())
    response = target.call(case)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        assert database_state() == before, f"{case.method} {case.path}: a refused request wrote"
        assert len(event_api.received()) == sent_before, "a refused request sent an event"
