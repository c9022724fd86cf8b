"""What Inngest knows about an app after a sync, and the events it makes itself.

A function's registered config says which events start it (name plus optional
expression), which crons, how many retries each request gets and which URL to
call. Inngest also sends its own events: cron ticks, invocations, failures.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from inngest_harness import expressions
from inngest_harness.flow import FlowControl, time_string_seconds

SERVE_PATH = "/api/inngest"
# Inngest retries a request 4 times when the function does not say otherwise.
DEFAULT_RETRIES = 4
CRON_EVENT = "inngest/scheduled.timer"
INVOKE_EVENT = "inngest/function.invoked"
FAILED_EVENT = "inngest/function.failed"
CANCELLED_EVENT = "inngest/function.cancelled"


@dataclass
class FunctionInfo:
    """A function as registered: composite id, triggers, retries, where to call it."""

    id: str
    name: str
    triggers: list[dict[str, Any]]
    retries: int
    path: str
    query: dict[str, str]
    flow: FlowControl = field(default_factory=FlowControl)

    @property
    def max_attempts(self) -> int:
        """Attempts per request: the first try plus `retries`."""
        return self.retries + 1

    @property
    def crons(self) -> list[str]:
        """The cron schedules among the triggers."""
        return [t["cron"] for t in self.triggers if "cron" in t]

    def triggered_by(self, event: dict[str, Any]) -> bool:
        """Whether an event (name and trigger expression) starts this function."""
        for trigger in self.triggers:
            if trigger.get("event") != event["name"]:
                continue
            expression = trigger.get("expression")
            if not expression or expressions.matches(expression, {"event": event}):
                return True
        return False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FunctionInfo:
        """Read one function config of a sync payload."""
        step = config["steps"]["step"]
        url = urllib.parse.urlsplit(step["runtime"]["url"])
        retries = (step.get("retries") or {}).get("attempts", DEFAULT_RETRIES)
        return cls(
            id=config["id"],
            name=config.get("name") or config["id"],
            triggers=list(config.get("triggers") or []),
            retries=int(retries),
            path=url.path or SERVE_PATH,
            query=dict(urllib.parse.parse_qsl(url.query)),
            flow=FlowControl.from_config(config),
        )


def new_event(name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event as Inngest stores it: name, data, a fresh id and a ms timestamp."""
    return {"name": name, "data": data or {}, "id": uuid.uuid4().hex, "ts": int(time.time() * 1000)}


def sleep_seconds(op: dict[str, Any]) -> float:
    """How long a Sleep op asked for: `opts.duration` (spec) or an ISO `name` (Python SDK)."""
    duration = (op.get("opts") or {}).get("duration")
    if isinstance(duration, str):
        return time_string_seconds(duration)
    try:
        until = datetime.fromisoformat(str(op.get("name") or "").replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return max((until - datetime.now(UTC)).total_seconds(), 0.0)


def user_step_id(op: dict[str, Any]) -> str:
    """The user-facing step id; repeated ids get `:n` like their hash input."""
    userland = op.get("userland") or {}
    base = str(userland.get("id") or op.get("displayName") or op.get("name") or op["id"])
    index = userland.get("index")
    return f"{base}:{index}" if index else base
