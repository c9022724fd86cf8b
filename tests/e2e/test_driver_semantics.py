"""Executor semantics the driver reproduces beyond the happy path.

Parallel steps, a step that exhausts its retries (caught and uncaught), Retry-After,
on-failure handlers, cron, events sent by app code, in-band sync, a gateway
timeout and a Lambda crash, re-running and replaying for idempotency checks.
Each test function counts what it did, so retries and re-runs are observed.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import inngest
import pytest
from mangum import Mangum

from inngest_harness.catalog import CRON_EVENT, FAILED_EVENT
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.dependencies import Dependencies
from jobmatch.settings import get_settings
from tests.conftest import TEST_SIGNING_KEY

pytestmark = pytest.mark.e2e

calls: Counter[str] = Counter()
# The test process's dependencies: the app's own client sends `sem/from-app`.
DEPS = Dependencies(get_settings())
client = DEPS.inngest


def _fn(fn_id: str, event: str, retries: int = 0, **kw: Any) -> Callable[..., Any]:
    return client.create_function(
        fn_id=fn_id, trigger=inngest.TriggerEvent(event=event), retries=retries, **kw
    )


@_fn("sem-parallel", "sem/parallel")
def parallel(ctx: inngest.ContextSync) -> list[int]:
    """Two steps planned together, then one more."""
    a, b = ctx.group.parallel(
        (lambda: ctx.step.run("left", lambda: 1), lambda: ctx.step.run("right", lambda: 2))
    )
    total = ctx.step.run("sum", lambda: a + b)
    return [a, b, total]


def _always_fails() -> None:
    calls["doomed"] += 1
    raise ValueError("upstream is down")


@_fn("sem-doomed", "sem/doomed", retries=2)
def doomed(ctx: inngest.ContextSync) -> str:
    """A step that never succeeds, not caught: the run fails after 3 attempts."""
    ctx.step.run("doomed-step", _always_fails)
    return "unreachable"


@_fn("sem-resilient", "sem/resilient", retries=1)
def resilient(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Catches the step's final error (a StepError) and carries on."""
    try:
        ctx.step.run("doomed-step", _always_fails)
    except inngest.StepError as err:
        name = err.name
        fallback = ctx.step.run("fallback", lambda: f"handled {name}")
        return {"fallback": fallback}
    return {"fallback": None}


def _rate_limited() -> str:
    calls["rate"] += 1
    if calls["rate"] == 1:
        raise inngest.RetryAfterError("slow down", datetime.timedelta(minutes=5))
    return "done"


@_fn("sem-retry-after", "sem/retry-after", retries=3)
def retry_after(ctx: inngest.ContextSync) -> str:
    """Asks to be retried later, once."""
    return ctx.step.run("call-api", _rate_limited)


def _on_failure(ctx: inngest.ContextSync) -> dict[str, Any]:
    calls["on-failure"] += 1
    return {"failed": ctx.event.data["function_id"]}


@_fn("sem-with-handler", "sem/with-handler", on_failure=_on_failure)
def with_handler(ctx: inngest.ContextSync) -> None:
    """Fails; its on-failure handler must run."""
    raise inngest.NonRetriableError("no way")


@client.create_function(
    fn_id="sem-cron", trigger=inngest.TriggerCron(cron="*/30 * * * *"), retries=0
)
def cron(ctx: inngest.ContextSync) -> dict[str, Any]:
    """A scheduled function."""
    return {"event": ctx.event.name, "cron": ctx.event.data["cron"]}


@_fn("sem-listener", "sem/from-app")
def listener(ctx: inngest.ContextSync) -> Any:
    """Triggered by an event app code sent with the Inngest client."""
    return ctx.step.run("echo", lambda: ctx.event.data["value"])


def _slow_then_fast() -> int:
    calls["slow"] += 1
    if calls["slow"] == 1:
        time.sleep(0.6)
    return calls["slow"]


@_fn("sem-slow", "sem/slow", retries=2)
def slow(ctx: inngest.ContextSync) -> int:
    """First try outlives the (shortened) gateway timeout."""
    return ctx.step.run("slow-step", _slow_then_fast)


@_fn("sem-counter", "sem/counter", retries=1)
def counter(ctx: inngest.ContextSync) -> int:
    """Counts its step executions: for re-run and replay."""

    def bump() -> int:
        calls["counter"] += 1
        return 7

    return ctx.step.run("bump", bump)


@_fn("sem-big", "sem/big")
def big(ctx: inngest.ContextSync) -> int:
    """Returns a step output of the size the event asks for."""
    size = int(ctx.event.data["bytes"])  # type: ignore[arg-type]
    return len(ctx.step.run("blob", lambda: "x" * size))


FUNCTIONS = [
    big,
    parallel, doomed, resilient, retry_after, with_handler, cron, listener, slow, counter
]  # fmt: skip


def _driver(event_api: EventAPI, **kw: Any) -> InngestDriver:
    from jobmatch.app import create_app

    handler = Mangum(create_app(DEPS, functions=FUNCTIONS), lifespan="off")
    return InngestDriver(handler, signing_key=TEST_SIGNING_KEY, event_api=event_api, **kw)


@pytest.fixture
def sem(event_api: EventAPI) -> InngestDriver:
    calls.clear()
    return _driver(event_api)


def test_parallel_steps_are_planned_then_run_one_request_each(sem: InngestDriver) -> None:
    [run] = sem.send("sem/parallel")
    assert run.status == "completed"
    assert run.output == [1, 2, 3]
    assert sorted(run.step_ids[:2]) == ["left", "right"]
    assert run.step_ids[2] == "sum"
    planned = [e for e in run.exchanges if e.step_id != "step"]
    assert len(planned) == 3  # left, right, and sum (immediate execution is off now)
    assert all(e.body["ctx"]["disable_immediate_execution"] for e in run.exchanges[1:])


def test_stack_is_sent_in_memoization_order(sem: InngestDriver) -> None:
    [run] = sem.send("sem/parallel")
    last = run.exchanges[-1].body
    assert last["ctx"]["stack"]["stack"] == [s.hashed_id for s in run.steps]
    assert set(last["steps"]) == {s.hashed_id for s in run.steps}


def test_step_exhausting_retries_fails_the_run(sem: InngestDriver) -> None:
    runs = sem.send("sem/doomed")
    run = runs[0]
    assert run.status == "failed"
    assert calls["doomed"] == 3
    assert run.step("doomed-step").op == "StepFailed"
    assert run.step("doomed-step").attempts == 3
    assert run.error is not None
    assert "upstream is down" in run.error["message"]
    assert any(r.event["name"] == FAILED_EVENT for r in runs) is False  # no handler defined


def test_caught_step_error_lets_the_run_continue(sem: InngestDriver) -> None:
    [run] = sem.send("sem/resilient")
    assert run.status == "completed"
    assert run.output == {"fallback": "handled ValueError"}
    assert calls["doomed"] == 2
    assert run.step("doomed-step").error is not None


def test_retry_after_is_recorded_and_the_request_retried(sem: InngestDriver) -> None:
    [run] = sem.send("sem/retry-after")
    assert run.status == "completed"
    assert run.output == "done"
    assert len(run.retry_after) == 1
    assert run.retries == 1
    assert calls["rate"] == 2


def test_failure_runs_the_on_failure_handler(sem: InngestDriver) -> None:
    runs = sem.send("sem/with-handler")
    by_fn = {r.function_id: r for r in runs}
    assert by_fn["jobmatch-sem-with-handler"].status == "failed"
    handler_run = by_fn["jobmatch-sem-with-handler-failure"]
    assert handler_run.event["name"] == FAILED_EVENT
    assert handler_run.output == {"failed": "jobmatch-sem-with-handler"}
    assert calls["on-failure"] == 1


def test_cron_runs_with_the_scheduled_timer_event(sem: InngestDriver) -> None:
    run = sem.run_cron("sem-cron")
    assert run.status == "completed"
    assert run.output == {"event": CRON_EVENT, "cron": "*/30 * * * *"}


def test_drain_runs_functions_for_events_app_code_sent(sem: InngestDriver) -> None:
    ids = client.send_sync(inngest.Event(name="sem/from-app", data={"value": "hello"}))
    assert len(ids) == 1
    [run] = sem.drain()
    assert run.output == "hello"
    assert run.event["id"] == ids[0]
    assert sem.drain() == []


def test_in_band_sync_learns_the_same_functions(event_api: EventAPI) -> None:
    in_band = _driver(event_api).sync(in_band=True)
    out_of_band = _driver(event_api).sync(in_band=False)
    assert set(in_band) == set(out_of_band)
    assert in_band["jobmatch-sem-doomed"].retries == 2


def test_gateway_timeout_is_retried_while_the_step_already_ran(event_api: EventAPI) -> None:
    calls.clear()
    driver = _driver(event_api, gateway_timeout_seconds=0.4)
    [run] = driver.send("sem/slow")
    assert run.exchanges[0].gateway_timeout
    assert run.exchanges[0].status == 504
    assert run.status == "completed"
    assert calls["slow"] == 2  # the step ran twice: why every step must be idempotent
    assert run.output == 2


def test_a_crashing_handler_is_a_500_and_retried(event_api: EventAPI) -> None:
    real = _driver(event_api)
    crashes = Counter[str]()

    def flaky_lambda(event: dict[str, Any], context: Any) -> Any:
        if event["requestContext"]["http"]["method"] == "POST" and not crashes["n"]:
            crashes["n"] += 1
            raise MemoryError("Runtime exited")
        return real.handler(event, context)

    driver = InngestDriver(flaky_lambda, signing_key=TEST_SIGNING_KEY, event_api=event_api)
    [run] = driver.send("sem/counter")
    assert run.status == "completed"
    assert run.exchanges[0].status == 500
    assert run.exchanges[0].exception is not None


def test_rerun_executes_every_step_again(sem: InngestDriver) -> None:
    [first] = sem.send("sem/counter")
    second = sem.rerun(first)
    assert second.run_id != first.run_id
    assert second.output == first.output == 7
    assert calls["counter"] == 2


def test_replay_step_sends_the_same_request_again(sem: InngestDriver) -> None:
    [run] = sem.send("sem/counter")
    response = sem.replay_step(run, "bump")
    assert response.status == 206
    [op] = response.json()
    assert op["id"] == run.step("bump").hashed_id
    assert op["data"] == 7
    assert calls["counter"] == 2


def test_budget_figures_are_recorded_per_request(sem: InngestDriver) -> None:
    [run] = sem.send("sem/parallel")
    assert run.requests == len(run.exchanges) >= 4
    assert all(e.request_bytes > 0 and e.response_bytes > 0 for e in run.exchanges)
    assert run.max_request_bytes >= run.exchanges[0].request_bytes
    assert run.max_seconds > 0


@pytest.mark.parametrize(
    ("size", "error"),
    [
        pytest.param(4_500_000, "InngestLimitExceeded", id="step-output-over-4-MiB"),
        pytest.param(6_500_000, "PayloadTooLarge", id="lambda-response-over-6-MB"),
    ],
)
def test_oversized_step_output_fails_the_run(sem: InngestDriver, size: int, error: str) -> None:
    [run] = sem.send("sem/big", {"bytes": size})
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["name"] == error


def test_step_output_under_the_limits_is_fine(sem: InngestDriver) -> None:
    [run] = sem.send("sem/big", {"bytes": 100_000})
    assert run.output == 100_000
