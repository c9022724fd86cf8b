"""What Inngest knows about an app after a sync, and the events it makes itself.

A function's registered config says which events start it (name plus optional
expression), which crons, how many retries each request gets and which URL to
call. Inngest also sends its own events: cron ticks, invocations, failures.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inngest_harness import expressions

SERVE_PATH = "/api/inngest"
# Inngest retries a request 4 times when the function does not say otherwise.
DEFAULT_RETRIES = 4
CRON_EVENT = "inngest/scheduled.timer"
INVOKE_EVENT = "inngest/function.invoked"
FAILED_EVENT = "inngest/function.failed"

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_TIME_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")


@dataclass
class FunctionInfo:
    """A function as registered: composite id, triggers, retries, where to call it."""

    id: str
    name: str
    triggers: list[dict[str, Any]]
    retries: int
    path: str
    query: dict[str, str]

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
            if not expression or expressions.evaluate(expression, {"event": event}):
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
        )


def new_event(name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event as Inngest stores it: name, data, a fresh id and a ms timestamp."""
    return {"name": name, "data": data or {}, "id": uuid.uuid4().hex, "ts": int(time.time() * 1000)}


def time_string_seconds(text: str) -> float:
    """Seconds of an Inngest time string such as `1h30m` or `300ms`."""
    return sum(float(n) * _UNITS[unit] for n, unit in _TIME_PART.findall(text))


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
