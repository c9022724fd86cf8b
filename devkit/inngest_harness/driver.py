"""`InngestDriver`: plays Inngest Cloud against a Lambda handler, in-process.

Written from Inngest's SDK spec and what Inngest sends over the wire, not from
any app's code. Every request is an API Gateway v2 event whose body is signed the
way Inngest signs it; the driver keeps each run's memoized steps and stack,
handles 206 ops (StepRun / StepPlanned / StepError / StepFailed / Sleep /
WaitForEvent / InvokeFunction), 200 (done) and errors (retried up to the
function's limit unless `X-Inngest-No-Retry: true`), and routes every event the
app sends (through the `EventAPI`) to the functions it triggers.

Runs execute interleaved in virtual time (see `scheduler`), under the flow
control each function registered at sync (see `flow`): concurrency, throttle,
rate limit, debounce, priority, singleton, batching, cancel-on, idempotency keys,
timeouts, and event-id de-duplication within 24 hours.

    driver = InngestDriver(handler, signing_key=KEY, event_api=event_api)
    [run] = driver.send("app/user.created", {"user_id": 1})
    assert run.status == "completed"
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from inngest_harness import expressions
from inngest_harness.apigw import DOMAIN_NAME, http_event, lambda_context
from inngest_harness.catalog import (
    CANCELLED_EVENT,
    CRON_EVENT,
    FAILED_EVENT,
    INVOKE_EVENT,
    SERVE_PATH,
    FunctionInfo,
    new_event,
    sleep_seconds,
    user_step_id,
)
from inngest_harness.eventapi import EventAPI
from inngest_harness.flow import (
    DEDUPE_WINDOW_SECONDS,
    Gcra,
    UnsupportedConfigError,
    clamp_priority,
    time_string_seconds,
)
from inngest_harness.limits import (
    GATEWAY_TIMEOUT_SECONDS,
    LAMBDA_PAYLOAD_LIMIT,
    MAX_REQUESTS_PER_RUN,
    MAX_STEPS_PER_RUN,
    RUN_STATE_LIMIT,
    STEP_OUTPUT_LIMIT,
)
from inngest_harness.records import (
    Exchange,
    HandlerResponse,
    Run,
    RunStatus,
    SleepRecord,
    StepRecord,
    WaitState,
)
from inngest_harness.scheduler import Item, Scheduler, Slot
from inngest_harness.signing import (
    SIGNATURE_HEADER,
    canonical_json,
    response_signature_valid,
    signature,
)

LambdaHandler = Callable[[dict[str, Any], Any], Any]
_EXECUTED_OPS = ("StepRun", "Step", "StepError", "StepFailed")
# Retry backoff without a Retry-After: 10 s, 20 s, 40 s... at most an hour (virtual).
_BACKOFF_BASE, _BACKOFF_MAX = 10.0, 3600.0


class DriverError(RuntimeError):
    """The app did something Inngest would reject (failed sync, unknown function...)."""


@dataclass
class _Pending:
    """Events held by a debounce or a batch until its window closes."""

    events: list[dict[str, Any]]
    first_at: float
    fire_at: float = 0.0


def _error_of(body: Any, status: int) -> dict[str, Any]:
    """The `{name, message, stack}` error of an SDK error response."""
    if isinstance(body, dict) and "message" in body:
        return {k: body[k] for k in ("name", "message", "stack", "code") if k in body}
    return {"name": "Error", "message": f"HTTP {status}: {body!r}"}


def _retry_after_seconds(value: str) -> float | None:
    """Seconds of a Retry-After header: delta seconds or an HTTP date."""
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class InngestDriver:
    """Plays Inngest Cloud against a Lambda handler `handler(event, context)`.

    Stable API: `sync()`, `send(name, data)`, `send_events(events)`, `drain()`,
    `run_cron(fn_id)`, `invoke(fn_id, data)`, `expire_waits()`, `rerun(run)`,
    `replay(exchange)`, `replay_step(run, step_id)`, `request(...)` (one raw
    call), `function(fn_id)`, and the attributes `functions`, `runs`.
    Concurrent work: `enqueue(...)` / `enqueue_events(...)` then
    `run_until_idle()`, `advance(seconds)`; history: `runs` (with virtual
    times), `runs_of(fn_id)`, `max_concurrency(fn_id, key)`, `duplicates`, `now`.
    """

    def __init__(
        self,
        handler: LambdaHandler,
        *,
        signing_key: str | None,
        event_api: EventAPI | None = None,
        server_kind: str = "cloud",
        serve_path: str = SERVE_PATH,
        gateway_timeout_seconds: float = GATEWAY_TIMEOUT_SECONDS,
        seed: int | None = None,
        step_seconds: float = 1.0,
        account_concurrency: int | None = None,
    ) -> None:
        self.handler = handler
        self.signing_key = signing_key
        self.event_api = event_api
        self.server_kind = server_kind
        self.serve_path = serve_path
        self.gateway_timeout_seconds = gateway_timeout_seconds
        self.account_concurrency = account_concurrency
        self.functions: dict[str, FunctionInfo] = {}
        self.app_id: str | None = None
        self.runs: list[Run] = []
        # Events ignored because an event with the same id arrived within 24 h.
        self.duplicates: list[dict[str, Any]] = []
        self.clock = Scheduler(seed=seed, step_seconds=step_seconds)
        self._arrivals: deque[dict[str, Any]] = deque()
        self._active: dict[str, Run] = {}
        self._by_id: dict[str, Run] = {}
        self._touched: dict[str, Run] = {}
        self._event_ids: dict[str, float] = {}
        self._gcras: dict[tuple[str, str], Gcra] = {}
        self._singletons: dict[tuple[str, str], Run] = {}
        self._debounces: dict[tuple[str, str], _Pending] = {}
        self._batches: dict[tuple[str, str], _Pending] = {}
        self._request_version = 2

    @property
    def now(self) -> float:
        """Virtual seconds since the driver was created."""
        return self.clock.now

    # ----------------------------------------------------------------- transport
    def request(
        self,
        method: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        signing_key: str | None = None,
        timestamp: int | None = None,
        path: str | None = None,
    ) -> HandlerResponse:
        """One request to the serve path through API Gateway, signed like Inngest.

        `signing_key` / `timestamp` override what is signed with (rotation, forgery
        and replay tests); `sign=False` sends no signature. A handler exception
        becomes API Gateway's 500 (with `exception` set), as Lambda errors do.
        """
        raw = canonical_json(body) if body is not None else b""
        sent = {"x-inngest-server-kind": self.server_kind, "user-agent": "inngest-driver"}
        if body is not None:
            sent["content-type"] = "application/json"
        key = signing_key or self.signing_key
        if sign and key:
            sent[SIGNATURE_HEADER.lower()] = signature(raw, key, timestamp)
        sent.update({k.lower(): v for k, v in (headers or {}).items()})
        event = http_event(
            method,
            path or self.serve_path,
            body=raw.decode() if body is not None else None,
            headers=sent,
            query=query,
        )
        size = len(json.dumps(event))
        started = time.perf_counter()
        try:
            raw_response = self.handler(event, lambda_context())
        except Exception as exc:  # noqa: BLE001 - Lambda turns any error into a 500
            seconds = time.perf_counter() - started
            body_500 = b'{"message":"Internal Server Error"}'
            return HandlerResponse(500, {}, body_500, size, seconds, repr(exc))
        response = HandlerResponse.from_lambda(raw_response)
        response.request_bytes, response.seconds = size, time.perf_counter() - started
        return response

    # --------------------------------------------------------------------- sync
    def sync(self, *, in_band: bool | None = None) -> dict[str, FunctionInfo]:
        """Register the app as Inngest does and learn its functions.

        Out-of-band (default with an EventAPI): PUT the serve path; the SDK POSTs
        its configs to `INNGEST_BASE_URL/fn/register`, captured by the EventAPI.
        In-band (default without): a signed PUT with `X-Inngest-Sync-Kind: in_band`;
        the configs come back in the response. A sync that did not really register,
        or registers an option the driver does not implement, raises `DriverError`.
        """
        use_in_band = self.event_api is None if in_band is None else in_band
        if use_in_band:
            url = f"https://{DOMAIN_NAME}{self.serve_path}"
            response = self.request(
                "PUT", body={"url": url}, headers={"x-inngest-sync-kind": "in_band"}
            )
            payload = response.json()
            if (
                response.status != 200
                or not isinstance(payload, dict)
                or "functions" not in payload
            ):
                raise DriverError(f"in-band sync failed: {response.status} {payload!r}")
            self.app_id = payload.get("app_id")
        else:
            if self.event_api is None:
                raise DriverError("out-of-band sync needs an EventAPI to receive /fn/register")
            before = len(self.event_api.registrations())
            response = self.request("PUT", sign=False)
            registrations = self.event_api.registrations()[before:]
            if response.status != 200 or not registrations:
                raise DriverError(f"sync did not register: {response.status} {response.body!r}")
            payload = registrations[-1].body
            self.app_id = payload.get("appname")
        try:
            infos = [FunctionInfo.from_config(config) for config in payload["functions"]]
        except UnsupportedConfigError as exc:
            raise DriverError(str(exc)) from exc
        self.functions = {info.id: info for info in infos}
        return self.functions

    def function(self, fn_id: str) -> FunctionInfo:
        """A registered function by composite id (`app-fn`) or local id (`fn`)."""
        if not self.functions:
            self.sync()
        for candidate in (fn_id, f"{self.app_id}-{fn_id}"):
            if candidate in self.functions:
                return self.functions[candidate]
        raise DriverError(f"function {fn_id!r} not registered; have {sorted(self.functions)}")

    # ------------------------------------------------------------------ events
    def send(self, name: str, data: dict[str, Any] | None = None) -> list[Run]:
        """Send one event; run everything it triggers, transitively, until idle.

        Returns every run created, started or resumed meanwhile, in order (including
        runs started by `step.send_event`, `step.invoke`, `inngest_client.send`,
        on-failure handlers, and runs skipped or debounced by flow control).
        """
        return self.send_events([new_event(name, data)])

    def send_events(self, events: Iterable[dict[str, Any]]) -> list[Run]:
        """Send several events at the same (virtual) moment, then run until idle.

        Their runs execute concurrently, interleaved step by step under each
        function's flow control.
        """
        self.enqueue_events(events)
        return self.run_until_idle()

    def enqueue(self, name: str, data: dict[str, Any] | None = None, **extra: Any) -> None:
        """Let one event arrive now without running anything yet (`id=`, `ts=` allowed)."""
        self.enqueue_events([{**new_event(name, data), **extra}])

    def enqueue_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Let ready-made events arrive now; `run_until_idle()` or `advance()` runs them."""
        self._arrivals.extend(events)

    def drain(self) -> list[Run]:
        """Run what the events app code sent to the EventAPI trigger (e.g. API routes)."""
        return self.run_until_idle()

    def run_until_idle(self) -> list[Run]:
        """Run the queue until nothing is left to do but wait for the outside world.

        Sleeps, retry backoffs, throttle delays, debounce and batch windows are
        fast-forwarded; `wait_for_event` timeouts are not (`advance`, `expire_waits`).
        Returns the runs created, started or resumed meanwhile.
        """
        self._touched = {}
        self._loop(until=None)
        return list(self._touched.values())

    def advance(self, seconds: float) -> list[Run]:
        """Let `seconds` of virtual time pass, doing everything due, waits' timeouts too."""
        self._touched = {}
        self._loop(until=self.clock.now + seconds)
        return list(self._touched.values())

    def run_cron(self, fn_id: str) -> Run:
        """Fire a cron-triggered function now, as its schedule would."""
        info = self.function(fn_id)
        if not info.crons:
            raise DriverError(f"{info.id} has no cron trigger")
        self._touched = {}
        run = self._admit(info, new_event(CRON_EVENT, {"cron": info.crons[0]}))
        self._loop(until=None)
        if run is None:
            raise DriverError(f"{info.id}: the cron event is held by debounce or batching")
        return run

    def invoke(self, fn_id: str, data: dict[str, Any] | None = None) -> Run:
        """Run one function directly with `data`, as `step.invoke` would."""
        info = self.function(fn_id)
        self._touched = {}
        run = self._create(info, [new_event(INVOKE_EVENT, data)])
        self._loop(until=None)
        return run

    def expire_waits(self) -> list[Run]:
        """Time out every pending `wait_for_event` now (resolves to None), then run."""
        self._touched = {}
        for run in [r for r in self._active.values() if r.status == "waiting"]:
            self._resume(run, None)
        self._loop(until=None)
        return list(self._touched.values())

    def rerun(self, run: Run) -> Run:
        """Run the same function on the same event(s) again from scratch (idempotency)."""
        self._touched = {}
        again = self._create(self.function(run.function_id), list(run.events or [run.event]))
        self._loop(until=None)
        return again

    def replay(self, exchange: Exchange) -> HandlerResponse:
        """Send exactly the same call request again, re-signed, as a retry would be."""
        info = self.function(exchange.function_id)
        return self.request("POST", query=exchange.query, body=exchange.body, path=info.path)

    def replay_step(self, run: Run, step_id: str) -> HandlerResponse:
        """Execute one step a second time with the state it first ran with."""
        record = run.step(step_id)
        for exchange in reversed(run.exchanges):
            if any(h == record.hashed_id and op in _EXECUTED_OPS for op, h in exchange.ops):
                return self.replay(exchange)
        raise DriverError(f"no request of run {run.run_id} executed step {step_id!r}")

    # ----------------------------------------------------------------- history
    def runs_of(self, fn_id: str, *statuses: RunStatus) -> list[Run]:
        """The runs of one function (optionally only those with these statuses)."""
        info = self.function(fn_id)
        return [
            r
            for r in self.runs
            if r.function_id == info.id and (not statuses or r.status in statuses)
        ]

    def max_concurrency(self, fn_id: str, key: str | None = None) -> int:
        """Most requests of a function in flight at once (per concurrency key value)."""
        return self.clock.peaks[(self.function(fn_id).id, key or "")]

    # -------------------------------------------------------------------- loop
    def _loop(self, *, until: float | None) -> None:
        """Dispatch, land, fire and start until idle (or until virtual time `until`)."""
        clock, external = self.clock, until is not None
        while True:
            if self.event_api is not None:
                self._arrivals.extend(self.event_api.take())
            if self._arrivals:
                self._dispatch(self._arrivals.popleft())
                continue
            flight = clock.landed()
            if flight is not None:
                flight.land()
                continue
            timer = clock.due_timer(external=external)
            if timer is not None:
                timer.action()
                continue
            item = self._pick()
            if item is not None:
                self._begin(item)
                continue
            extra = [self._throttled_until(i) for i in clock.due() if i.first]
            upcoming = clock.next_time(external=external, extra=extra)
            if upcoming is None or (until is not None and upcoming > until):
                clock.now = max(clock.now, until or clock.now)
                return
            clock.now = upcoming

    def _pick(self) -> Item | None:
        """The best ready request whose slots and throttle allow it to start now."""
        for item in self.clock.due():
            if not self.clock.fits(item.run):
                continue
            if item.first and self._throttled_until(item) > self.clock.now:
                continue
            self.clock.items.remove(item)
            return item
        return None

    def _throttled_until(self, item: Item) -> float:
        throttle = self.function(item.run.function_id).flow.throttle
        if throttle is None:
            return self.clock.now
        gcra = self._gcra("throttle", item.run.function_id, lambda: Gcra.for_throttle(throttle))
        return gcra.allowed_at(item.run.keys.get("throttle", ""), self.clock.now)

    def _gcra(self, kind: str, fn_id: str, make: Callable[[], Gcra]) -> Gcra:
        return self._gcras.setdefault((kind, fn_id), make())

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, event: dict[str, Any]) -> None:
        """An event arrives: de-duplicate, resume waits, cancel, trigger functions."""
        now, event_id = self.clock.now, str(event.get("id") or "")
        if event_id:
            seen = self._event_ids.get(event_id)
            if seen is not None and now - seen < DEDUPE_WINDOW_SECONDS:
                self.duplicates.append(event)
                return
            self._event_ids[event_id] = now
        for run in list(self._active.values()):
            if run.status == "waiting" and self._wait_matches(run, event):
                self._resume(run, event)
            elif run.active and self._cancels(run, event):
                self._cancel(run, f"cancelled by {event['name']}")
        if not self.functions:
            self.sync()
        for info in list(self.functions.values()):
            if info.triggered_by(event):
                self._admit(info, event)

    def _wait_matches(self, run: Run, event: dict[str, Any]) -> bool:
        wait = run.waiting
        if wait is None or wait.event != event["name"]:
            return False
        return not wait.if_exp or expressions.matches(
            wait.if_exp, {"event": run.event, "async": event}
        )

    def _cancels(self, run: Run, event: dict[str, Any]) -> bool:
        for cancel in self.function(run.function_id).flow.cancel:
            if cancel.event != event["name"]:
                continue
            if cancel.timeout is not None and self.clock.now - run.queued_at > cancel.timeout:
                continue
            scope = {"event": run.event, "async": event}
            if not cancel.if_exp or expressions.matches(cancel.if_exp, scope):
                return True
        return False

    def _key(self, info: FunctionInfo, expression: str | None, event: dict[str, Any]) -> str:
        """A flow-control key's value; one the driver cannot evaluate is an error."""
        if not expression:
            return ""
        try:
            return expressions.key_of(expression, event)
        except expressions.ExpressionError as exc:
            raise DriverError(f"{info.id}: {exc}") from exc

    def _admit(self, info: FunctionInfo, event: dict[str, Any]) -> Run | None:
        """Rate limit, idempotency, batching and debounce decide if and when a run exists."""
        flow, now = info.flow, self.clock.now
        if flow.rate_limit is not None:
            rate = flow.rate_limit
            gcra = self._gcra("rate", info.id, lambda: Gcra.for_rate_limit(rate))
            if not gcra.try_take(self._key(info, rate.key, event), now):
                return self._record(info, [event], "skipped", "rate limit")
        if flow.idempotency:
            gcra = self._gcra("idem", info.id, lambda: Gcra.once_per(DEDUPE_WINDOW_SECONDS))
            if not gcra.try_take(self._key(info, flow.idempotency, event), now):
                return self._record(info, [event], "skipped", "idempotency key seen within 24 h")
        if flow.batch is not None:
            return self._batch(info, event)
        if flow.debounce is not None:
            self._debounce(info, event)
            return None
        return self._create(info, [event])

    def _batch(self, info: FunctionInfo, event: dict[str, Any]) -> Run | None:
        batch = info.flow.batch
        assert batch is not None
        if batch.if_exp and not expressions.matches(batch.if_exp, {"event": event}):
            return self._create(info, [event])
        key = (info.id, self._key(info, batch.key, event))
        pending = self._batches.get(key)
        if pending is None:
            pending = self._batches[key] = _Pending([], self.clock.now)
            self.clock.at(self.clock.now + batch.timeout, lambda: self._flush(info, key, pending))
        pending.events.append(event)
        if len(pending.events) >= batch.max_size:
            return self._flush(info, key, pending)
        return None

    def _flush(self, info: FunctionInfo, key: tuple[str, str], pending: _Pending) -> Run | None:
        if self._batches.get(key) is not pending:
            return None
        del self._batches[key]
        return self._create(info, pending.events)

    def _debounce(self, info: FunctionInfo, event: dict[str, Any]) -> None:
        debounce, now = info.flow.debounce, self.clock.now
        assert debounce is not None
        key = (info.id, self._key(info, debounce.key, event))
        pending = self._debounces.get(key)
        if pending is None:
            pending = self._debounces[key] = _Pending([event], now)
        else:
            self._record(info, pending.events, "debounced", "replaced by a later event")
            pending.events = [event]
        fire_at = now + debounce.period
        if debounce.timeout is not None:
            fire_at = min(fire_at, pending.first_at + debounce.timeout)
        pending.fire_at = fire_at
        self.clock.at(fire_at, lambda: self._fire_debounce(info, key, pending))

    def _fire_debounce(self, info: FunctionInfo, key: tuple[str, str], pending: _Pending) -> None:
        if self._debounces.get(key) is pending and pending.fire_at <= self.clock.now:
            del self._debounces[key]
            self._create(info, pending.events)

    # -------------------------------------------------------------------- runs
    def _record(
        self, info: FunctionInfo, events: list[dict[str, Any]], status: RunStatus, reason: str
    ) -> Run:
        """A run that never starts (skipped, debounced), kept in the history."""
        now = self.clock.now
        run = Run(
            run_id=uuid.uuid4().hex,
            function_id=info.id,
            event=events[0],
            events=list(events),
            status=status,
            reason=reason,
            queued_at=now,
            ended_at=now,
        )
        self.runs.append(run)
        self._touched[run.run_id] = run
        return run

    def _create(
        self, info: FunctionInfo, events: list[dict[str, Any]], parent: Run | None = None
    ) -> Run:
        """A new run, queued under its priority, singleton, concurrency and timeouts."""
        flow, now, event = info.flow, self.clock.now, events[0]
        singleton_key = None
        if flow.singleton is not None:
            singleton_key = (info.id, self._key(info, flow.singleton.key, event))
            current = self._singletons.get(singleton_key)
            if current is not None and current.active:
                if flow.singleton.mode == "skip":
                    return self._record(info, events, "skipped", f"singleton: {current.run_id}")
                self._cancel(current, "singleton: replaced by a newer run")
        run = Run(
            run_id=uuid.uuid4().hex,
            function_id=info.id,
            event=event,
            events=list(events),
            parent_run_id=parent.run_id if parent else None,
            queued_at=now,
        )
        if singleton_key is not None:
            run.singleton_key = singleton_key
            self._singletons[singleton_key] = run
        if flow.priority:
            try:
                factor = expressions.value(flow.priority, {"event": event})
            except expressions.ExpressionError:
                factor = 0  # assumed: an expression error gives no priority
            run.priority = clamp_priority(factor)
        run.slots = self._slots(info, event)
        if flow.throttle is not None:
            run.keys["throttle"] = self._key(info, flow.throttle.key, event)
        if flow.timeouts is not None and flow.timeouts.start is not None:
            self.clock.at(now + flow.timeouts.start, lambda: self._time_out(run, "queued"))
        self.runs.append(run)
        self._active[run.run_id] = run
        self._by_id[run.run_id] = run
        self._touched[run.run_id] = run
        self.clock.enqueue(run, now, first=True)
        return run

    def _slots(self, info: FunctionInfo, event: dict[str, Any]) -> list[Slot]:
        slots: list[Slot] = []
        for limit in info.flow.concurrency:
            key = self._key(info, limit.key, event)
            slot = (limit.scope, info.id if limit.scope == "fn" else "", key)
            self.clock.limits[slot] = limit.limit
            slots.append(slot)
        if self.account_concurrency is not None:
            slot = ("account-plan", "", "")
            self.clock.limits[slot] = self.account_concurrency
            slots.append(slot)
        return slots

    def _time_out(self, run: Run, *statuses: str) -> None:
        if run.status in statuses or (not statuses and run.active):
            self._cancel(run, "timeouts")

    def _begin(self, item: Item) -> None:
        """Send the run's next request; its response lands `step_seconds` later."""
        run, info, now = item.run, self.function(item.run.function_id), self.clock.now
        if item.first:
            if info.flow.throttle is not None:
                throttle = info.flow.throttle
                gcra = self._gcra("throttle", info.id, lambda: Gcra.for_throttle(throttle))
                gcra.take(run.keys.get("throttle", ""), now)
            run.started_at, run.start_order = now, self.clock.next_start_order()
            if info.flow.timeouts is not None and info.flow.timeouts.finish is not None:
                self.clock.at(now + info.flow.timeouts.finish, lambda: self._time_out(run))
        run.status = "running"
        self._touched[run.run_id] = run
        if run.requests >= MAX_REQUESTS_PER_RUN:
            self._fail(run, {"name": "DriverError", "message": "too many requests"})
            return
        target = run.planned[0] if run.planned else "step"
        exchange, response = self._call(info, run, target, run.attempt)
        exchange.started_at = now
        exchange.ended_at = self.clock.fly(run, lambda: self._land(run, info, exchange, response))

    def _land(
        self, run: Run, info: FunctionInfo, exchange: Exchange, response: HandlerResponse
    ) -> None:
        """Apply one response: memoize, park, retry, fail or complete the run."""
        if run.status != "running":
            return  # cancelled while the request was in flight: Inngest drops the result
        run.attempts = max(run.attempts, run.attempt + 1)
        if max(exchange.request_bytes, exchange.response_bytes) > LAMBDA_PAYLOAD_LIMIT:
            self._fail(run, {"name": "PayloadTooLarge", "message": "over Lambda's 6 MB"})
            return
        body = response.json() if response.body and response.status in (200, 206) else None
        if response.status == 200:
            self._end(run, "completed", output=body)
            return
        if "retry-after" in response.headers:
            run.retry_after.append(response.headers["retry-after"])
        slept = len(run.sleeps)
        if response.status == 206 and isinstance(body, list):
            exchange.ops = [(str(op.get("op")), str(op.get("id"))) for op in body]
            retry = self._handle_ops(run, info, body)
        else:
            retry = self._should_retry(run, info, response)
        delay = max((s.seconds for s in run.sleeps[slept:]), default=0.0)
        if retry:
            retry_after = _retry_after_seconds(response.headers.get("retry-after", ""))
            delay = retry_after if retry_after is not None else _BACKOFF_BASE * 2**run.attempt
            delay = min(delay, _BACKOFF_MAX)
            run.attempt, run.retries = run.attempt + 1, run.retries + 1
        elif run.status == "running":
            run.attempt = 0
        if run.status == "running" and not run.invoking:
            run.status = "sleeping" if delay else "running"
            self.clock.enqueue(run, self.clock.now + delay)
        elif run.status == "running":
            run.status = "invoking"

    def _end(
        self,
        run: Run,
        status: RunStatus,
        *,
        output: Any = None,
        error: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Finish a run: free its singleton, wake the run that invoked it."""
        run.status, run.output, run.error, run.reason = status, output, error, reason
        run.ended_at = self.clock.now
        self._active.pop(run.run_id, None)
        self.clock.drop(run)
        if run.singleton_key and self._singletons.get(run.singleton_key) is run:
            del self._singletons[run.singleton_key]
        parent = self._by_id.get(run.parent_run_id or "")
        if parent is not None:
            self._invoked(parent, run)

    def _fail(self, run: Run, error: dict[str, Any]) -> None:
        """Mark the run failed and emit `inngest/function.failed` as Inngest does."""
        self._end(run, "failed", error=error)
        if run.event["name"] != FAILED_EVENT:
            data = {
                "function_id": run.function_id,
                "run_id": run.run_id,
                "error": error,
                "event": run.event,
            }
            self._arrivals.append(new_event(FAILED_EVENT, data))

    def _cancel(self, run: Run, reason: str) -> None:
        """Stop a run (what is in flight finishes, unused); emit `function.cancelled`."""
        if not run.active:
            return
        self._touched[run.run_id] = run
        self._end(run, "cancelled", reason=reason)
        data = {"function_id": run.function_id, "run_id": run.run_id, "event": run.event}
        self._arrivals.append(new_event(CANCELLED_EVENT, data))

    def _resume(self, run: Run, event: dict[str, Any] | None) -> None:
        wait = run.waiting
        if wait is None:
            return
        run.waiting, run.status = None, "running"
        self._memoize(run, wait.hashed_id, wait.step_id, "WaitForEvent", event, memo=event)
        self._touched[run.run_id] = run
        self.clock.enqueue(run, self.clock.now)

    def _memoize(
        self,
        run: Run,
        hashed_id: str,
        step_id: str,
        op: str,
        output: Any,
        *,
        memo: Any,
        error: dict[str, Any] | None = None,
        attempts: int = 1,
    ) -> None:
        run.memo[hashed_id] = memo
        run.stack.append(hashed_id)
        run.steps.append(StepRecord(step_id, hashed_id, op, output, error, attempts))

    def _should_retry(self, run: Run, info: FunctionInfo, response: HandlerResponse) -> bool:
        """A function-level error: retry unless no-retry, auth failure or out of attempts."""
        try:
            body = response.json()
        except ValueError:
            body = response.body.decode(errors="replace")
        error = _error_of(body, response.status)
        if response.exception:
            error["exception"] = response.exception
        no_retry = response.headers.get("x-inngest-no-retry") == "true"
        if response.status in (401, 403, 404) or no_retry or run.attempt + 1 >= info.max_attempts:
            self._fail(run, error)
            return False
        return True

    def _handle_ops(self, run: Run, info: FunctionInfo, ops: list[dict[str, Any]]) -> bool:
        """Apply a 206's ops to the run. True when the same request must be retried."""
        if len(ops) > 1:
            run.disable_immediate_execution = True
        for op in ops:
            hashed_id, kind = str(op["id"]), op.get("op")
            if kind == "StepPlanned":
                if hashed_id not in run.planned:
                    run.planned.append(hashed_id)
                continue
            if kind == "StepError" and run.attempt + 1 < info.max_attempts:
                return True
            if run.planned and run.planned[0] == hashed_id:
                run.planned.popleft()
            if not self._apply_op(run, op):
                return False
        return False

    def _apply_op(self, run: Run, op: dict[str, Any]) -> bool:
        """Memoize (or park on) one reported step. False when the run stops here."""
        hashed_id, step_id, kind = str(op["id"]), user_step_id(op), str(op.get("op"))
        opts = op.get("opts") or {}
        problem = self._limit_problem(run, op)
        if problem is not None:
            self._fail(run, {"name": "InngestLimitExceeded", "message": problem})
            return False
        attempts = run.attempt + 1
        if kind in ("StepRun", "Step"):
            data = op.get("data")
            memo = {"data": data}
            self._memoize(run, hashed_id, step_id, "StepRun", data, memo=memo, attempts=attempts)
        elif kind in ("StepError", "StepFailed"):
            error = op.get("error") or {"name": "Error", "message": "step failed"}
            self._memoize(
                run, hashed_id, step_id, kind, None, memo={"error": error}, error=error,
                attempts=attempts,
            )  # fmt: skip
        elif kind == "Sleep":
            run.sleeps.append(SleepRecord(step_id, sleep_seconds(op)))
            self._memoize(run, hashed_id, step_id, "Sleep", None, memo=None)
        elif kind == "WaitForEvent":
            self._park(run, hashed_id, step_id, op, opts)
            return False
        elif kind == "InvokeFunction":
            self._invoke(run, hashed_id, step_id, opts)
        else:
            self._fail(run, {"name": "DriverError", "message": f"unsupported op {kind!r}"})
            return False
        return True

    def _park(
        self, run: Run, hashed_id: str, step_id: str, op: dict[str, Any], opts: dict[str, Any]
    ) -> None:
        """Wait for an event; its timeout fires only when time is advanced explicitly."""
        event = str(opts.get("event") or op.get("name"))
        timeout = opts.get("timeout")
        wait = WaitState(hashed_id, step_id, event, opts.get("if"), timeout)
        run.waiting, run.status = wait, "waiting"
        seconds = time_string_seconds(str(timeout)) if timeout else 0.0
        if seconds:

            def expire() -> None:
                if run.waiting is wait:
                    self._resume(run, None)

            self.clock.at(self.clock.now + seconds, expire, external=True)

    @staticmethod
    def _limit_problem(run: Run, op: dict[str, Any]) -> str | None:
        """Which of Inngest's limits memoizing this op would break, if any."""
        if len(run.steps) >= MAX_STEPS_PER_RUN:
            return f"more than {MAX_STEPS_PER_RUN} steps in one run"
        output = len(json.dumps(op.get("data")))
        if output > STEP_OUTPUT_LIMIT:
            return f"step {user_step_id(op)!r} output is {output} bytes (limit 4 MiB)"
        if len(json.dumps(run.memo)) + output > RUN_STATE_LIMIT:
            return "run state over 32 MiB"
        return None

    def _invoke(self, run: Run, hashed_id: str, step_id: str, opts: dict[str, Any]) -> None:
        """Start the invoked function; the run parks until it ends."""
        payload = opts.get("payload") or {}
        data = dict(payload.get("data") or {})
        data["_inngest"] = {
            "source_app_id": self.app_id,
            "source_fn_id": run.function_id,
            "source_fn_v": 1,
            "invoke_correlation_id": f"{run.run_id}.{hashed_id}",
        }
        try:
            info = self.function(str(opts.get("function_id")))
        except DriverError as exc:
            error = {"name": "Error", "message": str(exc)}
            self._memoize(
                run, hashed_id, step_id, "InvokeFunction", None, memo={"error": error}, error=error
            )
            return
        child = self._create(info, [new_event(INVOKE_EVENT, data)], parent=run)
        run.invoking[hashed_id] = (step_id, child.run_id)
        if not child.active:
            self._invoked(run, child)

    def _invoked(self, parent: Run, child: Run) -> None:
        """An invoked run ended: memoize its output (or error) in the parent."""
        for hashed_id, (step_id, child_id) in list(parent.invoking.items()):
            if child_id != child.run_id:
                continue
            del parent.invoking[hashed_id]
            if child.status == "completed":
                memo: dict[str, Any] = {"data": child.output}
                self._memoize(parent, hashed_id, step_id, "InvokeFunction", child.output, memo=memo)
            else:
                error = child.error or {"name": "Error", "message": f"invoked run {child.status}"}
                self._memoize(
                    parent, hashed_id, step_id, "InvokeFunction", None, memo={"error": error},
                    error=error,
                )  # fmt: skip
        if parent.status == "invoking" and not parent.invoking:
            parent.status = "running"
            self._touched[parent.run_id] = parent
            self.clock.enqueue(parent, self.clock.now)

    def _call(
        self, info: FunctionInfo, run: Run, step_id: str, attempt: int
    ) -> tuple[Exchange, HandlerResponse]:
        """One call request as Inngest's executor sends it."""
        query = {**info.query, "fnId": info.id, "stepId": step_id}
        body = {
            "event": run.event,
            "events": list(run.events or [run.event]),
            "steps": dict(run.memo),
            "ctx": {
                "run_id": run.run_id,
                "attempt": attempt,
                "max_attempts": info.max_attempts,
                "disable_immediate_execution": run.disable_immediate_execution,
                "use_api": False,
                "stack": {"stack": list(run.stack), "current": len(run.stack)},
            },
            "version": self._request_version,
            "use_api": False,
        }
        headers = {"x-request-id": uuid.uuid4().hex}
        response = self.request("POST", query=query, body=body, headers=headers, path=info.path)
        version = response.headers.get("x-inngest-req-version", "")
        self._request_version = int(version) if version.isdigit() else self._request_version
        signed = (
            response_signature_valid(
                response.body, response.headers.get(SIGNATURE_HEADER.lower()), self.signing_key
            )
            if self.signing_key
            else None
        )
        exchange = Exchange(
            function_id=info.id,
            step_id=step_id,
            attempt=attempt,
            query=query,
            body=body,
            status=response.status,
            request_bytes=response.request_bytes,
            response_bytes=len(response.body),
            seconds=response.seconds,
            response_signed=signed,
            exception=response.exception,
        )
        if response.seconds > self.gateway_timeout_seconds:
            # The gateway gave up; Inngest retries while the work went on (or finished).
            exchange.gateway_timeout, exchange.status = True, 504
            response = HandlerResponse(504, {}, b'{"message":"Service Unavailable"}')
        run.exchanges.append(exchange)
        return exchange, response
