"""What the driver records about runs: one `Run` per function run, its steps and requests.

Kept apart from the driver loop so tests can read (and type) results without
caring how the loop works.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from inngest_harness.apigw import decode_body

RunStatus = Literal[
    "queued",  # created, its first request not sent yet (flow control may hold it)
    "running",  # a request in flight or its next one queued
    "sleeping",
    "waiting",  # parked on wait_for_event
    "invoking",  # parked on step.invoke
    "completed",
    "failed",
    "cancelled",  # singleton cancel mode, cancel-on event, timeouts
    "skipped",  # singleton skip mode, rate limit, idempotency key
    "debounced",  # its event was replaced by a later one before the run started
]
ACTIVE: frozenset[str] = frozenset({"queued", "running", "sleeping", "waiting", "invoking"})


@dataclass
class HandlerResponse:
    """A Lambda proxy response, decoded, with the size of the event that asked for it."""

    status: int
    headers: dict[str, str]
    body: bytes
    request_bytes: int = 0
    seconds: float = 0.0
    exception: str | None = None

    @classmethod
    def from_lambda(cls, raw: dict[str, Any]) -> HandlerResponse:
        """Parse what Mangum returns (`statusCode`, `headers`, `body`, `isBase64Encoded`)."""
        headers = {str(k).lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
        return cls(int(raw["statusCode"]), headers, decode_body(raw))

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None


@dataclass
class Exchange:
    """One call request the driver made and what came back (for budgets and replays).

    `request_bytes` is the whole API Gateway event (what counts against Lambda's
    6 MB), `response_bytes` the response body, `seconds` the handler's wall time.
    """

    function_id: str
    step_id: str
    attempt: int
    query: dict[str, str]
    body: dict[str, Any]
    status: int
    request_bytes: int
    response_bytes: int
    seconds: float
    response_signed: bool | None
    # (op, hashed step id) of every op a 206 reported.
    ops: list[tuple[str, str]] = field(default_factory=list)
    # The handler raised (Lambda error: API Gateway answers 500 and Inngest retries).
    exception: str | None = None
    # Slower than the gateway allows: Inngest saw a 504 while the step went on.
    gateway_timeout: bool = False
    # Virtual time (driver seconds) the request was sent and its response applied.
    started_at: float = 0.0
    ended_at: float = 0.0


@dataclass
class StepRecord:
    """A step as memoized for the run: its user-facing id, op and result."""

    id: str
    hashed_id: str
    op: str
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 1


@dataclass
class SleepRecord:
    """A sleep the driver fast-forwarded instead of waiting."""

    step_id: str
    seconds: float


@dataclass
class WaitState:
    """A `wait_for_event` the run is parked on."""

    hashed_id: str
    step_id: str
    event: str
    if_exp: str | None
    timeout: str | None


@dataclass
class Run:
    """One function run as the driver played it.

    `steps` are in the order Inngest memoized them (the stack); `exchanges` are every
    call request made (`requests` counts them); `attempts` is the most attempts any
    single request needed (1 = never retried), `retries` the total of retried requests.
    Times are the driver's virtual seconds: `queued_at` (created), `started_at` (first
    request sent, None if never), `ended_at` (finished, skipped or cancelled);
    `start_order` counts run starts across the driver (0 first). `reason` says why a
    run was skipped, cancelled or debounced.
    """

    run_id: str
    function_id: str
    event: dict[str, Any]
    status: RunStatus = "queued"
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 1
    retries: int = 0
    steps: list[StepRecord] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    sleeps: list[SleepRecord] = field(default_factory=list)
    retry_after: list[str] = field(default_factory=list)
    waiting: WaitState | None = None
    parent_run_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)
    queued_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    start_order: int | None = None
    reason: str | None = None
    priority: int = 0
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    stack: list[str] = field(default_factory=list, repr=False)
    disable_immediate_execution: bool = False
    # Executor state between requests: planned step targets, the current attempt,
    # pending invocations (hashed step id -> (step id, child run id)).
    planned: deque[str] = field(default_factory=deque, repr=False)
    attempt: int = 0
    invoking: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    slots: list[tuple[str, str, str]] = field(default_factory=list, repr=False)
    # Evaluated flow-control keys (e.g. "throttle"), for the scheduler and for tests.
    keys: dict[str, str] = field(default_factory=dict, repr=False)
    singleton_key: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        """Not finished: queued, running, sleeping or parked."""
        return self.status in ACTIVE

    @property
    def requests(self) -> int:
        """How many call requests the run took."""
        return len(self.exchanges)

    @property
    def step_ids(self) -> list[str]:
        """User-facing step ids in memoization order."""
        return [s.id for s in self.steps]

    def step(self, step_id: str) -> StepRecord:
        """The memoized step with this user-facing id (repeats: `id:1`, `id:2`, ...)."""
        for record in self.steps:
            if record.id == step_id:
                return record
        raise KeyError(f"run {self.function_id} has no step {step_id!r}: {self.step_ids}")

    def output_of(self, step_id: str) -> Any:
        """The memoized output of one step."""
        return self.step(step_id).output

    @property
    def max_response_bytes(self) -> int:
        """Largest response body, for payload budget checks."""
        return max((e.response_bytes for e in self.exchanges), default=0)

    @property
    def max_request_bytes(self) -> int:
        """Largest request event (memoized state grows with every step)."""
        return max((e.request_bytes for e in self.exchanges), default=0)

    @property
    def max_seconds(self) -> float:
        """Slowest single request (the gateway allows 30 s; benchmarks check budgets)."""
        return max((e.seconds for e in self.exchanges), default=0.0)
