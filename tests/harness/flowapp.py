"""A tiny Inngest app, unrelated to jobmatch, with one function per flow-control
setting (and a twin without it), served by FastAPI behind Mangum like any Lambda.

`ROWS` is its "database": a dict the steps read and write, so interleaved runs
really race on the same rows. `LOG` records each step as it executes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import inngest
import inngest.fast_api
from fastapi import FastAPI
from mangum import Mangum

SIGNING_KEY = "signkey-test-" + "0f1e2d3c" * 8
EVENT_KEY = "flow-event-key"
ROWS: dict[str, int] = {}
LOG: list[tuple[str, str]] = []
S = datetime.timedelta(seconds=1)


def build(event_api_url: str) -> tuple[Callable[[dict[str, Any], Any], Any], list[Any]]:
    """The app's Lambda handler and its functions, talking to `event_api_url`."""
    client = inngest.Inngest(
        app_id="flowapp",
        is_production=True,
        signing_key=SIGNING_KEY,
        event_key=EVENT_KEY,
        api_base_url=event_api_url,
        event_api_base_url=event_api_url,
    )

    def two_steps(ctx: inngest.ContextSync) -> str:
        """Two steps, each logged: enough for runs to overlap and interleave."""
        name = str(ctx.event.data.get("n", ""))
        ctx.step.run("first", lambda: LOG.append((ctx.run_id, "first")))
        ctx.step.run("second", lambda: LOG.append((ctx.run_id, "second")))
        return name

    def fn(fn_id: str, event: str, **options: Any) -> Any:
        return client.create_function(
            fn_id=fn_id, trigger=inngest.TriggerEvent(event=event), retries=0, **options
        )(two_steps)

    def increment(ctx: inngest.ContextSync) -> int:
        """Read-modify-write over two steps: a lost update when two runs interleave."""
        row = str(ctx.event.data["row"])
        seen = ctx.step.run("read", lambda: ROWS.get(row, 0))

        def write() -> int:
            ROWS[row] = seen + 1
            return seen + 1

        return ctx.step.run("write", write)

    def sleepy(ctx: inngest.ContextSync) -> str:
        ctx.step.run("begin", lambda: LOG.append((ctx.run_id, "begin")))
        ctx.step.sleep("nap", datetime.timedelta(hours=1))
        ctx.step.run("end", lambda: LOG.append((ctx.run_id, "end")))
        return "slept"

    def batch(ctx: inngest.ContextSync) -> list[Any]:
        return [e.data.get("n") for e in ctx.events]

    def waiter(ctx: inngest.ContextSync) -> bool:
        got = ctx.step.wait_for_event(
            "reply", event="flow/reply", if_exp="event.data.id == async.data.id", timeout=S * 60
        )
        return got is not None

    functions = [
        fn("plain", "flow/plain"),
        fn(
            "concurrent", "flow/conc",
            concurrency=[inngest.Concurrency(limit=2, key="event.data.user")],
        ),
        fn(
            "throttled", "flow/throttle",
            throttle=inngest.Throttle(limit=2, period=S * 10, burst=1),
        ),
        fn(
            "rate-limited", "flow/rate",
            rate_limit=inngest.RateLimit(limit=1, period=S * 3600, key="event.data.user"),
        ),
        fn(
            "debounced", "flow/debounce",
            debounce=inngest.Debounce(period=S * 10, key="event.data.user", timeout=S * 25),
        ),
        fn(
            "prioritized", "flow/priority",
            priority=inngest.Priority(run="event.data.vip == true ? 60 : 0"),
            concurrency=[inngest.Concurrency(limit=1)],
        ),
        fn("idempotent", "flow/idem", idempotency="event.data.order"),
        client.create_function(
            fn_id="singleton-skip", trigger=inngest.TriggerEvent(event="flow/single-skip"),
            singleton=inngest.Singleton(mode="skip", key="event.data.user"), retries=0,
        )(sleepy),
        client.create_function(
            fn_id="singleton-cancel", trigger=inngest.TriggerEvent(event="flow/single-cancel"),
            singleton=inngest.Singleton(mode="cancel"), retries=0,
        )(sleepy),
        client.create_function(
            fn_id="cancellable", trigger=inngest.TriggerEvent(event="flow/cancellable"),
            cancel=[inngest.Cancel(event="flow/stop", if_exp="event.data.id == async.data.id")],
            retries=0,
        )(sleepy),
        client.create_function(
            fn_id="timed-out", trigger=inngest.TriggerEvent(event="flow/timeout"),
            timeouts=inngest.Timeouts(finish=S * 30), retries=0,
        )(sleepy),
        client.create_function(
            fn_id="batched", trigger=inngest.TriggerEvent(event="flow/batch"),
            batch_events=inngest.Batch(max_size=3, timeout=S * 5), retries=0,
        )(batch),
        client.create_function(
            fn_id="racy", trigger=inngest.TriggerEvent(event="flow/increment"), retries=0
        )(increment),
        client.create_function(
            fn_id="guarded", trigger=inngest.TriggerEvent(event="flow/increment-guarded"),
            singleton=inngest.Singleton(mode="skip", key="event.data.row"), retries=0,
        )(increment),
        client.create_function(
            fn_id="waiter", trigger=inngest.TriggerEvent(event="flow/ask"), retries=0
        )(waiter),
    ]  # fmt: skip
    app = FastAPI()
    inngest.fast_api.serve(app, client, functions)
    return Mangum(app, lifespan="off"), functions
