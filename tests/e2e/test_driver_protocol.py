"""The driver plays Inngest's protocol against a real handler, end to end.

Test functions live here (not in the app): a multi-step function with a step that
fails once, a sleep and a `step.send_event` that triggers a second function; a
`wait_for_event`; a `step.invoke`; a NonRetriableError. They run through
`Mangum(create_app(deps, functions=[...]))`, i.e. API Gateway events -> FastAPI -> the
SDK in cloud mode, every request signed.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import inngest
import pytest
from mangum import Mangum

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.dependencies import Dependencies
from jobmatch.settings import get_settings
from tests.conftest import TEST_SIGNING_KEY

pytestmark = pytest.mark.e2e

# Side effects the test functions leave, in-process (the handler runs here too).
calls: Counter[str] = Counter()
DEPS = Dependencies(get_settings())
client = DEPS.inngest


@client.create_function(
    fn_id="test-pipeline",
    trigger=inngest.TriggerEvent(event="test/pipeline.requested"),
    retries=2,
)
def pipeline(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Three steps, a flaky one, a sleep and a fan-out event."""
    n = int(ctx.event.data["n"])  # type: ignore[arg-type]
    doubled = ctx.step.run("double", lambda: n * 2)

    def flaky() -> int:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("transient failure")
        return doubled + 1

    bumped = ctx.step.run("flaky", flaky)
    ctx.step.sleep("nap", datetime.timedelta(hours=1))
    ids = ctx.step.send_event(
        "fan-out", inngest.Event(name="test/pipeline.finished", data={"value": bumped})
    )
    return {"value": bumped, "sent": len(ids)}


@client.create_function(
    fn_id="test-follower",
    trigger=inngest.TriggerEvent(event="test/pipeline.finished"),
    retries=0,
)
def follower(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Triggered by the pipeline's event."""
    value = ctx.step.run("record", lambda: ctx.event.data["value"])
    return {"seen": value}


@client.create_function(
    fn_id="test-waiter",
    trigger=inngest.TriggerEvent(event="test/order.placed"),
    retries=0,
)
def waiter(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Waits for the matching payment."""
    paid = ctx.step.wait_for_event(
        "await-payment",
        event="test/order.paid",
        if_exp="event.data.order_id == async.data.order_id",
        timeout=datetime.timedelta(days=1),
    )
    return {"paid": paid is not None, "amount": paid.data["amount"] if paid else None}


@client.create_function(
    fn_id="test-square",
    trigger=inngest.TriggerEvent(event="test/square.never-sent"),
    retries=0,
)
def square(ctx: inngest.ContextSync) -> int:
    """Invoked by `test-invoker`."""
    x = int(ctx.event.data["x"])  # type: ignore[arg-type]
    return ctx.step.run("square", lambda: x * x)


@client.create_function(
    fn_id="test-invoker",
    trigger=inngest.TriggerEvent(event="test/invoke.requested"),
    retries=0,
)
def invoker(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Invokes `test-square` and returns its result."""
    result = ctx.step.invoke("call-square", function=square, data={"x": 7})
    return {"squared": result}


@client.create_function(
    fn_id="test-bad-input",
    trigger=inngest.TriggerEvent(event="test/bad.input"),
    retries=3,
)
def bad_input(ctx: inngest.ContextSync) -> None:
    """Rejects its input: must fail at once, no retries."""
    calls["bad-input"] += 1
    raise inngest.NonRetriableError("bad input")


FUNCTIONS = [pipeline, follower, waiter, square, invoker, bad_input]


@pytest.fixture
def protocol_driver(event_api: EventAPI) -> InngestDriver:
    from jobmatch.app import create_app

    calls.clear()
    handler = Mangum(create_app(DEPS, functions=FUNCTIONS), lifespan="off")
    driver = InngestDriver(handler, signing_key=TEST_SIGNING_KEY, event_api=event_api)
    driver.sync()
    return driver


def test_sync_registers_every_function_with_triggers_and_retries(
    protocol_driver: InngestDriver,
) -> None:
    fns = protocol_driver.functions
    assert set(fns) == {f"jobmatch-{f._opts.local_id}" for f in FUNCTIONS}
    assert fns["jobmatch-test-pipeline"].triggers == [{"event": "test/pipeline.requested"}]
    assert fns["jobmatch-test-pipeline"].retries == 2


def test_multi_step_run_retries_sleeps_and_fans_out(protocol_driver: InngestDriver) -> None:
    runs = protocol_driver.send("test/pipeline.requested", {"n": 20})

    by_fn = {r.function_id: r for r in runs}
    main = by_fn["jobmatch-test-pipeline"]
    assert main.status == "completed", main.error
    assert main.output == {"value": 41, "sent": 1}
    assert main.step_ids == ["double", "flaky", "nap", "fan-out"]
    assert main.output_of("double") == 40
    assert main.step("flaky").attempts == 2
    assert calls["flaky"] == 2
    assert [round(s.seconds / 3600) for s in main.sleeps] == [1]
    assert all(e.response_signed for e in main.exchanges)

    second = by_fn["jobmatch-test-follower"]
    assert second.status == "completed"
    assert second.output == {"seen": 41}
    assert second.event["name"] == "test/pipeline.finished"


def test_wait_for_event_resumes_on_the_matching_event(protocol_driver: InngestDriver) -> None:
    [run] = protocol_driver.send("test/order.placed", {"order_id": "o-1"})
    assert run.status == "waiting"

    protocol_driver.send("test/order.paid", {"order_id": "o-2", "amount": 5})
    assert run.status == "waiting"

    protocol_driver.send("test/order.paid", {"order_id": "o-1", "amount": 12})
    assert run.status == "completed"
    assert run.output == {"paid": True, "amount": 12}


def test_wait_for_event_times_out_to_none(protocol_driver: InngestDriver) -> None:
    [run] = protocol_driver.send("test/order.placed", {"order_id": "o-3"})
    protocol_driver.expire_waits()
    assert run.status == "completed"
    assert run.output == {"paid": False, "amount": None}


def test_invoke_runs_the_target_and_memoizes_its_output(protocol_driver: InngestDriver) -> None:
    runs = protocol_driver.send("test/invoke.requested", {})
    by_fn = {r.function_id: r for r in runs}
    assert by_fn["jobmatch-test-invoker"].output == {"squared": 49}
    assert by_fn["jobmatch-test-square"].output == 49
    assert by_fn["jobmatch-test-square"].event["data"]["x"] == 7


def test_non_retriable_error_fails_the_run_without_retries(
    protocol_driver: InngestDriver,
) -> None:
    [run] = protocol_driver.send("test/bad.input", {})
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["message"] == "bad input"
    assert run.requests == 1
    assert run.attempts == 1
    assert calls["bad-input"] == 1
