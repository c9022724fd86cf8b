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
from typing import TYPE_CHECKING, Any

import inngest
import pytest
from mangum import Mangum

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import HandlerResponse
from inngest_harness.signing import canonical_json, signature
from tests.conftest import TEST_SIGNING_KEY, TEST_SIGNING_KEY_FALLBACK

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies

pytestmark = pytest.mark.e2e

FORGED_KEY = "signkey-test-" + "0badc0de" * 8
calls: Counter[str] = Counter()


def _recorder() -> inngest.Function[Any]:
    from jobmatch.inngest_client import build_inngest_client
    from jobmatch.settings import get_settings

    @build_inngest_client(get_settings()).create_function(
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
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings

    calls.clear()
    app = create_app(Dependencies(get_settings()), functions=[RECORDER])
    handler = Mangum(app, lifespan="off", api_gateway_base_path="/")
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


def _call(driver: InngestDriver, age: int = 0, **signing: Any) -> HandlerResponse:
    """One call request for `test-recorder`, signed `age` seconds ago as `signing` says."""
    timestamp = int(time.time()) - age
    return driver.request("POST", query=QUERY, body=_body(), timestamp=timestamp, **signing)


def test_signed_get_of_the_real_handler_lists_its_functions(
    driver: InngestDriver, deps: Dependencies
) -> None:
    from jobmatch.workflows.registry import create_all_functions

    response = driver.request("GET")

    assert response.status == 200
    body = response.json()
    assert body["authentication_succeeded"] is True
    assert body["mode"] == "cloud"
    assert body["function_count"] == len(create_all_functions(deps))
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


@pytest.mark.parametrize(
    ("age", "signing"),
    [
        pytest.param(0, {}, id="signed-now"),
        pytest.param(240, {}, id="signed-4-minutes-ago"),  # the window, not any past time
        pytest.param(0, {"signing_key": TEST_SIGNING_KEY_FALLBACK}, id="fallback-key"),
    ],
)
def test_correctly_signed_calls_run_the_function(
    app_driver: InngestDriver, age: int, signing: dict[str, Any]
) -> None:
    """The control for the rejections below: this setup does run the function."""
    response = _call(app_driver, age, **signing)
    assert response.status == 200
    assert response.json() == {"calls": 1}
    assert calls["recorder"] == 1


@pytest.mark.parametrize(
    ("age", "signing", "reason"),
    [
        pytest.param(0, {"sign": False}, "missing", id="unsigned"),
        pytest.param(0, {"signing_key": FORGED_KEY}, "", id="forged"),
        pytest.param(301, {}, "too old", id="replayed-after-5-minutes"),
        pytest.param(
            3600, {"signing_key": TEST_SIGNING_KEY_FALLBACK}, "too old", id="replayed-fallback"
        ),
        pytest.param(-600, {}, "in the future", id="future"),
    ],
)
def test_rejected_calls_get_401_and_run_nothing(
    app_driver: InngestDriver, age: int, signing: dict[str, Any], reason: str
) -> None:
    response = _call(app_driver, age, **signing)
    assert response.status == 401
    assert reason in response.body.decode()
    assert calls["recorder"] == 0


def test_unsigned_call_to_the_real_handler_is_rejected(driver: InngestDriver) -> None:
    response = _call(driver, sign=False)
    assert response.status == 401


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
