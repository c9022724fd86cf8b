"""/api/inngest through the Lambda handler, as Inngest Cloud and attackers reach it.

Every request is an API Gateway HTTP API v2 event. Cloud mode: a signed GET
lists the functions; unsigned, forged, tampered, replayed (older than 5 minutes)
and future-dated POSTs get 401 and run nothing (the test function counts its
calls, so "nothing" is observed, not assumed); the fallback key is accepted so
keys can be rotated.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import inngest
import pytest
from mangum import Mangum

from jobmatch_devkit.catalog import new_event
from jobmatch_devkit.driver import InngestDriver
from jobmatch_devkit.eventapi import EventAPI
from jobmatch_devkit.records import HandlerResponse
from jobmatch_devkit.signing import canonical_json, signature
from tests.conftest import TEST_SIGNING_KEY, TEST_SIGNING_KEY_FALLBACK

pytestmark = pytest.mark.e2e

FORGED_KEY = "signkey-test-" + "0badc0de" * 8
calls: Counter[str] = Counter()


def _recorder() -> inngest.Function[Any]:
    from jobmatch.workflows.client import inngest_client

    @inngest_client.create_function(
        fn_id="test-recorder",
        trigger=inngest.TriggerEvent(event="test/record"),
        retries=0,
    )
    def recorder(ctx: inngest.ContextSync) -> dict[str, int]:
        calls["recorder"] += 1
        return {"calls": calls["recorder"]}

    return recorder


RECORDER = _recorder()


@pytest.fixture
def app_driver(event_api: EventAPI) -> InngestDriver:
    """A driver for an app built exactly as the Lambda's, serving one counting function."""
    from jobmatch.app import create_app

    calls.clear()
    handler = Mangum(create_app(functions=[RECORDER]), lifespan="off", api_gateway_base_path="/")
    return InngestDriver(handler, signing_key=TEST_SIGNING_KEY, event_api=event_api)


QUERY = {"fnId": "jobmatch-test-recorder", "stepId": "step"}


def _body(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A first call request for `test-recorder`, as Inngest sends it."""
    event = new_event("test/record", data)
    return {
        "event": event,
        "events": [event],
        "steps": {},
        "ctx": {
            "run_id": "01TESTRUN",
            "attempt": 0,
            "disable_immediate_execution": False,
            "use_api": False,
            "stack": {"stack": [], "current": 0},
        },
        "use_api": False,
    }


def _call(driver: InngestDriver, **signing: Any) -> HandlerResponse:
    """One call request for `test-recorder`, signed as `signing` says."""
    return driver.request("POST", query=QUERY, body=_body(), **signing)


def test_signed_get_of_the_real_handler_lists_its_functions(
    driver: InngestDriver,
) -> None:
    from jobmatch.workflows.registry import all_functions

    response = driver.request("GET")

    assert response.status == 200
    body = response.json()
    assert body["authentication_succeeded"] is True
    assert body["mode"] == "cloud"
    assert body["function_count"] == len(all_functions())
    assert body["has_signing_key_fallback"] is True


def test_signed_get_counts_the_served_functions(app_driver: InngestDriver) -> None:
    body = app_driver.request("GET").json()
    assert body["authentication_succeeded"] is True
    assert body["function_count"] == 1


def test_unsigned_get_reveals_no_key_material(app_driver: InngestDriver) -> None:
    response = app_driver.request("GET", sign=False)
    text = response.body.decode()
    assert "signing_key_hash" not in text
    assert "event_key_hash" not in text


def test_sync_registers_the_function_and_its_trigger(app_driver: InngestDriver) -> None:
    functions = app_driver.sync()
    assert functions["jobmatch-test-recorder"].triggers == [{"event": "test/record"}]


def test_a_correctly_signed_call_runs_the_function(app_driver: InngestDriver) -> None:
    response = _call(app_driver)
    assert response.status == 200
    assert response.json() == {"calls": 1}
    assert calls["recorder"] == 1


def test_unsigned_call_is_rejected_and_runs_nothing(app_driver: InngestDriver) -> None:
    response = _call(app_driver, sign=False)
    assert response.status == 401
    assert calls["recorder"] == 0


def test_unsigned_call_to_the_real_handler_is_rejected(driver: InngestDriver) -> None:
    response = _call(driver, sign=False)
    assert response.status == 401


def test_forged_signature_is_rejected_and_runs_nothing(app_driver: InngestDriver) -> None:
    response = _call(app_driver, signing_key=FORGED_KEY)
    assert response.status == 401
    assert calls["recorder"] == 0


def test_tampered_body_is_rejected_and_runs_nothing(app_driver: InngestDriver) -> None:
    """A valid signature for one body does not carry over to another."""
    header = signature(canonical_json(_body({"amount": 1})), TEST_SIGNING_KEY)
    response = app_driver.request(
        "POST",
        query=QUERY,
        body=_body({"amount": 1000}),
        sign=False,
        headers={"X-Inngest-Signature": header},
    )
    assert response.status == 401
    assert calls["recorder"] == 0


def test_replayed_call_older_than_five_minutes_is_rejected(app_driver: InngestDriver) -> None:
    """Correctly signed, but for a timestamp 301 s ago: a captured request replayed."""
    response = _call(app_driver, timestamp=int(time.time()) - 301)
    assert response.status == 401
    assert "too old" in response.body.decode()
    assert calls["recorder"] == 0


def test_call_signed_four_minutes_ago_is_still_accepted(app_driver: InngestDriver) -> None:
    """The window is the limit, not any timestamp in the past (guards the guard)."""
    response = _call(app_driver, timestamp=int(time.time()) - 240)
    assert response.status == 200
    assert calls["recorder"] == 1


def test_future_timestamp_is_rejected(app_driver: InngestDriver) -> None:
    response = _call(app_driver, timestamp=int(time.time()) + 600)
    assert response.status == 401
    assert calls["recorder"] == 0


def test_fallback_signing_key_is_accepted_for_rotation(app_driver: InngestDriver) -> None:
    response = _call(app_driver, signing_key=TEST_SIGNING_KEY_FALLBACK)
    assert response.status == 200
    assert calls["recorder"] == 1


def test_replay_with_the_fallback_key_is_still_rejected(app_driver: InngestDriver) -> None:
    response = _call(
        app_driver, signing_key=TEST_SIGNING_KEY_FALLBACK, timestamp=int(time.time()) - 3600
    )
    assert response.status == 401
    assert calls["recorder"] == 0
