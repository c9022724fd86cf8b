"""The harness's building blocks, checked against independent references.

Signing is checked against a hand-computed HMAC and against the SDK's own
verifier (what a served app runs); API Gateway events against the v2 shape Mangum
reads; expressions against CEL; time strings, flow-control configs and the rate
arithmetic against their definitions in Inngest's docs.
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
from inngest_harness.catalog import FunctionInfo, sleep_seconds, user_step_id
from inngest_harness.eventapi import EventAPI
from inngest_harness.flow import (
    FlowControl,
    Gcra,
    Throttle,
    UnsupportedConfigError,
    clamp_priority,
    time_string_seconds,
)
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
        ("async.data.n >= 4 || async.data.flag", True),
        ("event.data.missing == async.data.id", False),  # a missing field: no match
        ("size(async.data.tags) == 2 && 'x' in async.data.tags", True),
        ('event.name.startsWith("t/")', True),
    ],
)
def test_filters_are_cel(expression: str, expected: bool) -> None:
    scope = {
        "event": {"name": "t/a", "data": {"id": "a"}},
        "async": {"data": {"id": "a", "other": "b", "n": 3, "flag": True, "tags": ["x", "y"]}},
    }
    assert expressions.matches(expression, scope) is expected


def test_values_and_keys_are_cel() -> None:
    premium = "event.data.premium == true ? 120 : 0"
    assert expressions.value(premium, {"event": {"data": {"premium": True}}}) == 120
    assert expressions.value(premium, {"event": {"data": {"premium": False}}}) == 0
    event = {"data": {"account": 7, "user": {"email": "a@x"}}}
    assert expressions.key_of("event.data.account", event) == "7"
    assert (
        expressions.key_of('string(event.data.account) + "-" + event.data.user.email', event)
        == "7-a@x"
    )


@pytest.mark.parametrize(
    ("expression", "scope"),
    [
        ("event.data.x ==", {"event": {}}),  # not CEL at all
        ("event.data.x", {"event": {"data": {"x": 1}}}),  # a filter that is not boolean
    ],
)
def test_filters_that_cannot_be_understood_raise(expression: str, scope: dict[str, object]) -> None:
    with pytest.raises(expressions.ExpressionError):
        expressions.matches(expression, scope)


def test_a_key_over_a_missing_field_raises_instead_of_guessing() -> None:
    with pytest.raises(expressions.ExpressionError, match="no such member"):
        expressions.key_of("event.data.user_id", {"data": {}})


def test_flow_control_is_read_from_the_registered_config() -> None:
    flow = FlowControl.from_config(
        {
            "id": "app-fn",
            "concurrency": [{"limit": 5}, {"limit": 1, "key": "event.data.u", "scope": "env"}],
            "throttle": {"limit": 60, "period": "1m", "burst": 5},
            "rateLimit": {"limit": 1, "period": "4h", "key": "event.data.u"},
            "debounce": {"period": "5m", "timeout": "10m"},
            "priority": {"run": "event.data.p"},
            "singleton": {"mode": "cancel"},
            "batchEvents": {"maxSize": 10, "timeout": "5s"},
            "cancel": [{"event": "a/b", "if": "event.data.x == async.data.x", "timeout": "1h"}],
            "idempotency": "event.data.order",
            "timeouts": {"finish": "30s"},
        }
    )
    assert [(c.limit, c.key, c.scope) for c in flow.concurrency] == [
        (5, None, "fn"),
        (1, "event.data.u", "env"),
    ]
    assert flow.throttle == Throttle(60, 60.0, 5, None)
    assert flow.rate_limit is not None
    assert flow.rate_limit.period == 4 * 3600
    assert flow.debounce is not None
    assert (flow.debounce.period, flow.debounce.timeout) == (300, 600)
    assert flow.singleton is not None
    assert flow.singleton.mode == "cancel"
    assert flow.batch is not None
    assert (flow.batch.max_size, flow.batch.timeout) == (10, 5)
    assert flow.cancel[0].timeout == 3600
    assert flow.idempotency == "event.data.order"
    assert flow.timeouts is not None
    assert flow.timeouts.finish == 30


def test_an_option_the_harness_does_not_know_is_refused() -> None:
    with pytest.raises(UnsupportedConfigError, match="newFeature"):
        FlowControl.from_config({"id": "app-fn", "newFeature": {"on": True}})
    assert (
        FlowControl.from_config({"id": "app-fn", "cancel": [], "concurrency": []}) == FlowControl()
    )


def test_gcra_lets_capacity_through_then_one_per_interval() -> None:
    throttle = Gcra.for_throttle(Throttle(limit=2, period=6.0, burst=1))
    starts = []
    for _ in range(5):
        at = throttle.allowed_at("k", 0.0)
        throttle.take("k", at)
        starts.append(at)
    assert starts == [0.0, 0.0, 3.0, 6.0, 9.0]  # 1 + burst at once, then one per 3 s
    assert throttle.allowed_at("other key", 0.0) == 0.0
    once = Gcra.once_per(86400)
    assert once.try_take("order", 0.0)
    assert not once.try_take("order", 86399.0)
    assert once.try_take("order", 86400.0)


def test_priority_factors_are_clamped_whole_seconds() -> None:
    assert [clamp_priority(v) for v in (120, 900, -900, 1.9, "x", True)] == [
        120,
        600,
        -600,
        1,
        0,
        0,
    ]


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
