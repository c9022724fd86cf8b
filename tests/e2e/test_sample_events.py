"""The sample events under tests/events/ (also for `sam local invoke -e`) work on the real handler.

They are loaded as files and passed to `jobmatch.handler.handler`, the object Lambda
runs, with a Lambda context; their shape is checked against what the devkit's
`http_event` builds, so the files and the generator cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inngest_harness.apigw import LambdaContext, http_event
from inngest_harness.records import HandlerResponse

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parent.parent / "events"


def _load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _invoke(name: str, ctx: LambdaContext) -> HandlerResponse:
    from jobmatch.handler import handler

    return HandlerResponse.from_lambda(handler(_load(name), ctx))


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_sample_event_has_the_http_api_v2_shape(name: str) -> None:
    event = _load(name)
    reference = http_event(event["requestContext"]["http"]["method"], event["rawPath"])
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["stage"] == "$default"
    assert set(reference) - {"body", "queryStringParameters"} <= set(event)
    assert set(reference["requestContext"]) == set(event["requestContext"])
    assert set(reference["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    assert all(key == key.lower() for key in event["headers"])


def test_health_event_answers_ok(db: None, lambda_ctx: LambdaContext) -> None:
    response = _invoke("health-get.json", lambda_ctx)
    assert response.status == 200
    assert response.json()["database"] == "ok"


def test_inngest_get_event_answers_without_key_material(lambda_ctx: LambdaContext) -> None:
    response = _invoke("inngest-get.json", lambda_ctx)
    body = response.body.decode()
    assert response.status in (200, 401)
    assert "signing_key_hash" not in body
    assert "event_key_hash" not in body


def test_unsigned_inngest_post_event_is_rejected(lambda_ctx: LambdaContext) -> None:
    response = _invoke("inngest-post-unsigned.json", lambda_ctx)
    assert response.status == 401
