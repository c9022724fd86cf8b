"""The devkit's building blocks, checked against independent references.

Signing is checked against a hand-computed HMAC and against the SDK's own
verifier (what our handler runs); API Gateway events against the v2 shape Mangum
reads; expressions and time strings against their definitions in Inngest's spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from inngest._internal import net, server_lib

from inngest_harness import expressions
from inngest_harness.apigw import http_event, lambda_context
from inngest_harness.catalog import FunctionInfo, sleep_seconds, time_string_seconds, user_step_id
from inngest_harness.eventapi import EventAPI
from inngest_harness.signing import (
    canonical_json,
    hashed_signing_key,
    response_signature_valid,
    signature,
)

KEY = "signkey-prod-" + "0123456789abcdef" * 4


def test_signature_is_hmac_of_canonical_body_then_timestamp() -> None:
    body = b'{"b": 1, "a": "x"}'
    expected = hmac.new(
        ("0123456789abcdef" * 4).encode(), b'{"a":"x","b":1}' + b"1700000000", hashlib.sha256
    ).hexdigest()
    assert signature(body, KEY, 1700000000) == f"t=1700000000&s={expected}"


def test_sdk_accepts_our_signature_and_rejects_a_tampered_body() -> None:
    body = canonical_json({"event": {"name": "x"}, "steps": {}})
    headers = {"x-inngest-signature": signature(body, KEY)}
    ok = net.validate_request_sig(
        body=body,
        headers=headers,
        mode=server_lib.ServerKind.CLOUD,
        signing_key=KEY,
        signing_key_fallback=None,
    )
    assert ok == KEY
    bad = net.validate_request_sig(
        body=body.replace(b"x", b"y"),
        headers=headers,
        mode=server_lib.ServerKind.CLOUD,
        signing_key=KEY,
        signing_key_fallback=None,
    )
    assert isinstance(bad, Exception)


def test_response_signature_covers_raw_bytes() -> None:
    body = b'{"b": 1}'
    header = net.sign_response(body, KEY)
    assert isinstance(header, str)
    assert response_signature_valid(body, header, KEY)
    assert not response_signature_valid(b'{"b":1}', header, KEY)
    assert not response_signature_valid(body, None, KEY)


def test_http_event_has_the_v2_shape() -> None:
    event = http_event(
        "post",
        "/api/x",
        body={"a": 1},
        headers={"X-Api-Key": "k", "Cookie": "a=1; b=2"},
        query={"q": "1", "tag": ["a", "b"]},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawQueryString"] == "q=1&tag=a&tag=b"
    assert event["queryStringParameters"] == {"q": "1", "tag": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-api-key"] == "k"
    assert event["headers"]["content-type"] == "application/json"
    assert json.loads(event["body"]) == {"a": 1}
    ctx = event["requestContext"]
    assert ctx["http"]["method"] == "POST"
    assert ctx["stage"] == "$default"
    assert ctx["http"]["path"] == "/api/x"
    assert http_event("GET", "/")["requestContext"]["requestId"] != ctx["requestId"]


def test_binary_bodies_are_base64() -> None:
    event = http_event("POST", "/upload", body=b"\x00\xff")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_lambda_context_looks_like_the_runtime_one() -> None:
    ctx = lambda_context("fn", timeout_ms=1000)
    assert ctx.invoked_function_arn.endswith(":function:fn")
    assert ctx.log_group_name == "/aws/lambda/fn"
    assert 0 < ctx.get_remaining_time_in_millis() <= 1000
    assert ctx.aws_request_id != lambda_context().aws_request_id


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("event.data.id == async.data.id", True),
        ("event.data.id == async.data.other", False),
        ("event.data.id == 'a' && async.data.n > 2", True),
        ("async.data.n >= 4", False),
        ("event.data.missing == async.data.id", False),
        ("async.data.flag == true", True),
        ('event.name == "t/a"', True),
    ],
)
def test_expression_subset(expression: str, expected: bool) -> None:
    scope = {
        "event": {"name": "t/a", "data": {"id": "a"}},
        "async": {"data": {"id": "a", "other": "b", "n": 3, "flag": True}},
    }
    assert expressions.evaluate(expression, scope) is expected


@pytest.mark.parametrize("expression", ["a || b", "size(event.data) > 1", "event.data.x"])
def test_unsupported_expressions_raise(expression: str) -> None:
    with pytest.raises(expressions.UnsupportedExpressionError):
        expressions.evaluate(expression, {"event": {}})


def test_time_strings_and_sleep_ops() -> None:
    assert time_string_seconds("1h30m") == 5400
    assert time_string_seconds("300ms") == pytest.approx(0.3)
    assert time_string_seconds("2d") == 172800
    assert sleep_seconds({"opts": {"duration": "1w"}}) == 604800
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert sleep_seconds({"name": until}) == pytest.approx(7200, abs=5)


def test_user_step_ids_keep_repeat_indexes() -> None:
    assert user_step_id({"id": "h", "userland": {"id": "s", "index": None}}) == "s"
    assert user_step_id({"id": "h", "userland": {"id": "s", "index": 2}}) == "s:2"
    assert user_step_id({"id": "h", "displayName": "d"}) == "d"


def test_function_info_from_a_registration_config() -> None:
    info = FunctionInfo.from_config(
        {
            "id": "app-fn",
            "name": "fn",
            "triggers": [
                {"event": "a/b", "expression": "event.data.x == 1"},
                {"cron": "0 * * * *"},
            ],
            "steps": {
                "step": {"runtime": {"url": "https://h/api/inngest?fnId=app-fn&stepId=step"}}
            },
        }
    )
    assert info.retries == 4  # Inngest's default when the function sets none
    assert info.path == "/api/inngest"
    assert info.crons == ["0 * * * *"]
    assert info.triggered_by({"name": "a/b", "data": {"x": 1}})
    assert not info.triggered_by({"name": "a/b", "data": {"x": 2}})
    assert not info.triggered_by({"name": "a/c", "data": {"x": 1}})


@pytest.fixture
def api() -> Iterator[EventAPI]:
    server = EventAPI(event_key="ek", signing_keys=(KEY,)).start()
    yield server
    server.stop()


def test_event_api_accepts_events_like_inngest(api: EventAPI) -> None:
    response = httpx.post(
        f"{api.url}/e/ek", json=[{"name": "a/b", "data": {"x": 1}}, {"name": "c"}]
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert len(body["ids"]) == 2
    taken = api.take()
    assert [e["name"] for e in taken] == ["a/b", "c"]
    assert [e["id"] for e in taken] == body["ids"]
    assert all(e["ts"] > 0 for e in taken)
    assert api.take() == []


def test_event_api_rejects_a_wrong_event_key(api: EventAPI) -> None:
    response = httpx.post(f"{api.url}/e/wrong", json={"name": "a"})
    assert response.status_code == 401
    assert api.take() == []


def test_registration_needs_the_hashed_signing_key(api: EventAPI) -> None:
    payload = {"functions": [{"id": "x"}], "appname": "app"}
    denied = httpx.post(f"{api.url}/fn/register", json=payload)
    assert denied.status_code == 401
    headers = {"Authorization": f"Bearer {hashed_signing_key(KEY)}"}
    accepted = httpx.post(f"{api.url}/fn/register", json=payload, headers=headers)
    assert accepted.json() == {"ok": True, "modified": True}
    assert [r.body for r in api.registrations()] == [payload]
