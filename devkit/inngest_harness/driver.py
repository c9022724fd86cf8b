"""`InngestDriver`: plays Inngest Cloud against the Lambda handler, in-process.

Written from Inngest's SDK spec and what Inngest sends over the wire, not from
our code. Every request is an API Gateway v2 event whose body is signed the way
Inngest signs it; the driver keeps each run's memoized steps and stack, handles
206 ops (StepRun / StepPlanned / StepError / StepFailed / Sleep / WaitForEvent /
InvokeFunction), 200 (done) and errors (retried up to the function's limit
unless `X-Inngest-No-Retry: true`; `Retry-After` recorded, never slept on), and
routes every event the app sends (through the `EventAPI`) to the functions it
triggers until nothing is left to do.

    driver = InngestDriver(handler, signing_key=KEY, event_api=event_api)
    [run] = driver.send("app/user.created", {"user_id": 1})
    assert run.status == "completed"

Simplifications (see devkit README): runs execute one after another, never
concurrently; concurrency / throttle / debounce / batching / cancellation /
idempotency configs are ignored; `wait_for_event` matches only events arriving
after the wait began (as Inngest) and times out only on `expire_waits()`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from inngest_harness import expressions
from inngest_harness.apigw import DOMAIN_NAME, http_event, lambda_context
from inngest_harness.catalog import (
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
from inngest_harness.records import (
    Exchange,
    HandlerResponse,
    Run,
    SleepRecord,
    StepRecord,
    WaitState,
)
from inngest_harness.signing import (
    SIGNATURE_HEADER,
    canonical_json,
    response_signature_valid,
    signature,
)

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# Lambda's synchronous invocation limit, request and response.
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
# API Gateway HTTP API integration timeout: Inngest sees a 504 after this.
GATEWAY_TIMEOUT_SECONDS = 30.0
# Inngest's limits: one step's output, a run's whole state, steps per run.
STEP_OUTPUT_LIMIT = 4 * 1024 * 1024
RUN_STATE_LIMIT = 32 * 1024 * 1024
MAX_STEPS_PER_RUN = 1000
# A run that never ends (a non-deterministic function) must not hang a test.
MAX_REQUESTS_PER_RUN = 2000
_EXECUTED_OPS = ("StepRun", "Step", "StepError", "StepFailed")


class DriverError(RuntimeError):
    """The app did something Inngest would reject (failed sync, unknown function...)."""


def _error_of(body: Any, status: int) -> dict[str, Any]:
    """The `{name, message, stack}` error of an SDK error response."""
    if isinstance(body, dict) and "message" in body:
        return {k: body[k] for k in ("name", "message", "stack", "code") if k in body}
    return {"name": "Error", "message": f"HTTP {status}: {body!r}"}


class InngestDriver:
    """Plays Inngest Cloud against a Lambda handler `handler(event, context)`.

    Stable API: `sync()`, `send(name, data)`, `send_events(events)`, `drain()`,
    `run_cron(fn_id)`, `invoke(fn_id, data)`, `expire_waits()`, `rerun(run)`,
    `replay(exchange)`, `replay_step(run, step_id)`, `request(...)` (one raw
    call), `function(fn_id)`, and the attributes `functions`, `runs`.
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
    ) -> None:
        self.handler = handler
        self.signing_key = signing_key
        self.event_api = event_api
        self.server_kind = server_kind
        self.serve_path = serve_path
        self.gateway_timeout_seconds = gateway_timeout_seconds
        self.functions: dict[str, FunctionInfo] = {}
        self.app_id: str | None = None
        self.runs: list[Run] = []
        self._queue: deque[dict[str, Any]] = deque()
        self._touched: list[Run] = []
        self._request_version = 2

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
        the configs come back in the response. A sync that did not really register
        raises `DriverError` (the SDK answers 200 even then).
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
        configs = payload["functions"]
        self.functions = {info.id: info for info in map(FunctionInfo.from_config, configs)}
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
        """Send one event; run everything it triggers, transitively, until quiet.

        Returns every run started or resumed meanwhile, in order (including runs
        started by `step.send_event`, `step.invoke`, `inngest_client.send` and
        on-failure handlers).
        """
        return self.send_events([new_event(name, data)])

    def send_events(self, events: Iterable[dict[str, Any]]) -> list[Run]:
        """Like `send` for ready-made events (name, data, id, ts)."""
        self._touched = []
        self._queue.extend(events)
        return self._pump()

    def drain(self) -> list[Run]:
        """Run what the events app code sent to the EventAPI trigger (e.g. API routes)."""
        self._touched = []
        return self._pump()

    def run_cron(self, fn_id: str) -> Run:
        """Fire a cron-triggered function now, as its schedule would."""
        info = self.function(fn_id)
        if not info.crons:
            raise DriverError(f"{info.id} has no cron trigger")
        self._touched = []
        run = self._start(info, new_event(CRON_EVENT, {"cron": info.crons[0]}))
        self._pump()
        return run

    def invoke(self, fn_id: str, data: dict[str, Any] | None = None) -> Run:
        """Run one function directly with `data`, as `step.invoke` would."""
        info = self.function(fn_id)
        self._touched = []
        run = self._start(info, new_event(INVOKE_EVENT, data))
        self._pump()
        return run

    def expire_waits(self) -> list[Run]:
        """Fast-forward past every pending `wait_for_event` timeout (resolves to None)."""
        self._touched = []
        for run in [r for r in self.runs if r.status == "waiting"]:
            self._resume(run, None)
        return self._pump()

    def rerun(self, run: Run) -> Run:
        """Run the same function on the same event again from scratch (idempotency)."""
        self._touched = []
        again = self._start(self.function(run.function_id), dict(run.event))
        self._pump()
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

    # -------------------------------------------------------------------- loop
    def _pump(self) -> list[Run]:
        """Dispatch queued and newly arrived events until none are left."""
        while True:
            if self.event_api is not None:
                self._queue.extend(self.event_api.take())
            if not self._queue:
                break
            event = self._queue.popleft()
            for run in [r for r in self.runs if r.status == "waiting"]:
                if self._wait_matches(run, event):
                    self._resume(run, event)
            if not self.functions:
                self.sync()
            for info in list(self.functions.values()):
                if info.triggered_by(event):
                    self._start(info, event)
        unique = {id(run): run for run in self._touched}
        return list(unique.values())

    def _wait_matches(self, run: Run, event: dict[str, Any]) -> bool:
        wait = run.waiting
        if wait is None or wait.event != event["name"]:
            return False
        if not wait.if_exp:
            return True
        return expressions.evaluate(wait.if_exp, {"event": run.event, "async": event})

    def _start(self, info: FunctionInfo, event: dict[str, Any], parent: Run | None = None) -> Run:
        run = Run(
            run_id=uuid.uuid4().hex,
            function_id=info.id,
            event=event,
            parent_run_id=parent.run_id if parent else None,
        )
        self.runs.append(run)
        self._execute(run)
        return run

    def _resume(self, run: Run, event: dict[str, Any] | None) -> None:
        wait = run.waiting
        if wait is None:
            return
        run.waiting, run.status = None, "running"
        self._memoize(run, wait.hashed_id, wait.step_id, "WaitForEvent", event, memo=event)
        self._execute(run)

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

    def _execute(self, run: Run) -> None:
        """Call the function until it completes, fails or parks on a wait."""
        info = self.function(run.function_id)
        self._touched.append(run)
        planned: deque[str] = deque()
        attempt = 0
        while run.status == "running":
            if run.requests >= MAX_REQUESTS_PER_RUN:
                self._fail(run, {"name": "DriverError", "message": "too many requests"})
                return
            exchange, response = self._call(info, run, planned[0] if planned else "step", attempt)
            run.attempts = max(run.attempts, attempt + 1)
            too_big = max(exchange.request_bytes, exchange.response_bytes) > LAMBDA_PAYLOAD_LIMIT
            if too_big:
                self._fail(run, {"name": "PayloadTooLarge", "message": "over Lambda's 6 MB"})
                return
            body = response.json() if response.body and response.status in (200, 206) else None
            if response.status == 200:
                run.status, run.output = "completed", body
                return
            if response.status == 206 and isinstance(body, list):
                exchange.ops = [(str(op.get("op")), str(op.get("id"))) for op in body]
                retry = self._handle_ops(run, info, body, planned, attempt)
            else:
                retry = self._should_retry(run, info, response, attempt)
                if not retry:
                    return
            attempt = attempt + 1 if retry else 0
            run.retries += 1 if retry else 0

    def _should_retry(
        self, run: Run, info: FunctionInfo, response: HandlerResponse, attempt: int
    ) -> bool:
        """A function-level error: retry unless no-retry, auth failure or out of attempts."""
        try:
            body = response.json()
        except ValueError:
            body = response.body.decode(errors="replace")
        error = _error_of(body, response.status)
        if response.exception:
            error["exception"] = response.exception
        if "retry-after" in response.headers:
            run.retry_after.append(response.headers["retry-after"])
        no_retry = response.headers.get("x-inngest-no-retry") == "true"
        if response.status in (401, 403, 404) or no_retry or attempt + 1 >= info.max_attempts:
            self._fail(run, error)
            return False
        return True

    def _fail(self, run: Run, error: dict[str, Any]) -> None:
        """Mark the run failed and emit `inngest/function.failed` as Inngest does."""
        run.status, run.error = "failed", error
        if run.event["name"] != FAILED_EVENT:
            data = {
                "function_id": run.function_id,
                "run_id": run.run_id,
                "error": error,
                "event": run.event,
            }
            self._queue.append(new_event(FAILED_EVENT, data))

    def _handle_ops(
        self,
        run: Run,
        info: FunctionInfo,
        ops: list[dict[str, Any]],
        planned: deque[str],
        attempt: int,
    ) -> bool:
        """Apply a 206's ops to the run. True when the same request must be retried."""
        if len(ops) > 1:
            run.disable_immediate_execution = True
        for op in ops:
            hashed_id, kind = str(op["id"]), op.get("op")
            if kind == "StepPlanned":
                if hashed_id not in planned:
                    planned.append(hashed_id)
                continue
            if kind == "StepError" and attempt + 1 < info.max_attempts:
                return True
            if planned and planned[0] == hashed_id:
                planned.popleft()
            if not self._apply_op(run, op, attempt):
                return False
        return False

    def _apply_op(self, run: Run, op: dict[str, Any], attempt: int) -> bool:
        """Memoize (or park on) one reported step. False when the run stops here."""
        hashed_id, step_id, kind = str(op["id"]), user_step_id(op), str(op.get("op"))
        opts = op.get("opts") or {}
        problem = self._limit_problem(run, op)
        if problem is not None:
            self._fail(run, {"name": "InngestLimitExceeded", "message": problem})
            return False
        if kind in ("StepRun", "Step"):
            data = op.get("data")
            self._memoize(
                run, hashed_id, step_id, "StepRun", data, memo={"data": data}, attempts=attempt + 1
            )
        elif kind in ("StepError", "StepFailed"):
            error = op.get("error") or {"name": "Error", "message": "step failed"}
            self._memoize(
                run, hashed_id, step_id, kind, None, memo={"error": error}, error=error,
                attempts=attempt + 1,
            )  # fmt: skip
        elif kind == "Sleep":
            run.sleeps.append(SleepRecord(step_id, sleep_seconds(op)))
            self._memoize(run, hashed_id, step_id, "Sleep", None, memo=None)
        elif kind == "WaitForEvent":
            event = str(opts.get("event") or op.get("name"))
            run.waiting = WaitState(hashed_id, step_id, event, opts.get("if"), opts.get("timeout"))
            run.status = "waiting"
            return False
        elif kind == "InvokeFunction":
            self._invoke(run, hashed_id, step_id, opts)
        else:
            self._fail(run, {"name": "DriverError", "message": f"unsupported op {kind!r}"})
            return False
        return True

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
        """Run the invoked function to its end and memoize its output or error."""
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
            child = None
            error: dict[str, Any] | None = {"name": "Error", "message": str(exc)}
        else:
            child = self._start(info, new_event(INVOKE_EVENT, data), parent=run)
            error = child.error if child.status == "failed" else None
        if child is not None and child.status == "completed":
            self._memoize(
                run, hashed_id, step_id, "InvokeFunction", child.output, memo={"data": child.output}
            )
        elif child is not None and child.status != "failed":
            message = f"invoked {child.function_id} is {child.status}: the driver cannot wait"
            self._fail(run, {"name": "DriverError", "message": message})
        else:
            error = error or {"name": "Error", "message": "invoked function failed"}
            self._memoize(
                run, hashed_id, step_id, "InvokeFunction", None, memo={"error": error}, error=error
            )

    def _call(
        self, info: FunctionInfo, run: Run, step_id: str, attempt: int
    ) -> tuple[Exchange, HandlerResponse]:
        """One call request as Inngest's executor sends it."""
        query = {**info.query, "fnId": info.id, "stepId": step_id}
        body = {
            "event": run.event,
            "events": [run.event],
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
