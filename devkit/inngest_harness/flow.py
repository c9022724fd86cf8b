"""Flow control as a function registers it, and the rate arithmetic Inngest uses.

Read from the function configs of the sync payload (what the SDK sends over the
wire, not its Python objects), so a setting the SDK drops or renames is a setting
the harness does not enforce either. A config key the harness does not know
raises `UnsupportedConfigError`: a test must not pass because a new flow-control
option was silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Priority factors are clamped to Inngest's default range, in seconds.
PRIORITY_RANGE = (-600, 600)
# Event ids and idempotency keys are remembered for 24 hours.
DEDUPE_WINDOW_SECONDS = 24 * 3600.0
# Keys of a function config the harness understands (flow control or not).
_KNOWN = {
    "id", "name", "triggers", "steps",
    "concurrency", "throttle", "rateLimit", "debounce", "priority", "singleton",
    "batchEvents", "cancel", "idempotency", "timeouts",
}  # fmt: skip


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


def time_string_seconds(text: str) -> float:
    """Seconds of an Inngest time string such as `1h30m` or `300ms`."""
    return sum(float(n) * _UNITS[unit] for n, unit in _TIME_PART.findall(text))


class UnsupportedConfigError(ValueError):
    """A function config with an option the harness does not implement."""


def _seconds(value: Any) -> float | None:
    """Seconds of a duration as the SDK serializes it (`"1m"`, or a number of ms)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) / 1000
    return time_string_seconds(str(value))


@dataclass(frozen=True)
class Concurrency:
    """At most `limit` steps executing at once per key value, within `scope`."""

    limit: int
    key: str | None = None
    scope: str = "fn"


@dataclass(frozen=True)
class Throttle:
    """Run starts paced to `limit` per `period` (`1 + burst` at once); excess waits."""

    limit: int
    period: float
    burst: int = 1
    key: str | None = None


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` runs per `period` per key; excess events are skipped."""

    limit: int
    period: float
    key: str | None = None


@dataclass(frozen=True)
class Debounce:
    """Start one run with the last event once `period` passes without another."""

    period: float
    key: str | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class Singleton:
    """One active run per key: `skip` the new one or `cancel` the old one."""

    mode: str
    key: str | None = None


@dataclass(frozen=True)
class Batch:
    """Runs take up to `max_size` events, started when full or `timeout` after the first."""

    max_size: int
    timeout: float
    key: str | None = None
    if_exp: str | None = None


@dataclass(frozen=True)
class CancelOn:
    """An event named `event` (matching `if_exp`) cancels the run within `timeout`."""

    event: str
    if_exp: str | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class Timeouts:
    """Cancel a run not started within `start` or not finished within `finish`."""

    start: float | None = None
    finish: float | None = None


@dataclass(frozen=True)
class FlowControl:
    """Everything a function registered about when and how its runs execute."""

    concurrency: tuple[Concurrency, ...] = ()
    throttle: Throttle | None = None
    rate_limit: RateLimit | None = None
    debounce: Debounce | None = None
    priority: str | None = None
    singleton: Singleton | None = None
    batch: Batch | None = None
    cancel: tuple[CancelOn, ...] = ()
    idempotency: str | None = None
    timeouts: Timeouts | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FlowControl:
        """Read one function config of a sync payload."""
        unknown = sorted(k for k, v in config.items() if k not in _KNOWN and v not in (None, []))
        if unknown:
            raise UnsupportedConfigError(f"{config.get('id')}: unsupported options {unknown}")
        throttle, rate, debounce = config.get("throttle"), config.get("rateLimit"), None
        if config.get("debounce"):
            d = config["debounce"]
            debounce = Debounce(
                _req(_seconds(d["period"])), d.get("key"), _seconds(d.get("timeout"))
            )
        batch = config.get("batchEvents")
        timeouts = config.get("timeouts")
        return cls(
            concurrency=tuple(
                Concurrency(int(c["limit"]), c.get("key"), c.get("scope") or "fn")
                for c in config.get("concurrency") or []
            ),
            throttle=Throttle(
                int(throttle["limit"]),
                _req(_seconds(throttle["period"])),
                int(throttle.get("burst") or 0),
                throttle.get("key"),
            )
            if throttle
            else None,
            rate_limit=RateLimit(
                int(rate["limit"]), _req(_seconds(rate["period"])), rate.get("key")
            )
            if rate
            else None,
            debounce=debounce,
            priority=(config.get("priority") or {}).get("run"),
            singleton=Singleton(config["singleton"]["mode"], config["singleton"].get("key"))
            if config.get("singleton")
            else None,
            batch=Batch(
                int(batch["maxSize"]),
                _req(_seconds(batch.get("timeout"))),
                batch.get("key"),
                batch.get("if"),
            )
            if batch
            else None,
            cancel=tuple(
                CancelOn(c["event"], c.get("if"), _seconds(c.get("timeout")))
                for c in config.get("cancel") or []
            ),
            idempotency=config.get("idempotency") or None,
            timeouts=Timeouts(_seconds(timeouts.get("start")), _seconds(timeouts.get("finish")))
            if timeouts
            else None,
        )


def _req(value: float | None) -> float:
    if value is None:
        raise UnsupportedConfigError("a required duration is missing")
    return value


@dataclass
class Gcra:
    """The generic cell rate algorithm Inngest paces throttles and rate limits with.

    `capacity` starts may happen at once; after that one per `interval` seconds.
    State is one theoretical arrival time per key.
    """

    interval: float
    capacity: int
    tat: dict[str, float] = field(default_factory=dict)

    def allowed_at(self, key: str, now: float) -> float:
        """The earliest time (>= now) at which a start under `key` conforms."""
        tat = max(self.tat.get(key, now), now)
        return max(now, tat - (self.capacity - 1) * self.interval)

    def take(self, key: str, now: float) -> None:
        """Record a start at `now` (which must conform)."""
        self.tat[key] = max(self.tat.get(key, now), now) + self.interval

    def try_take(self, key: str, now: float) -> bool:
        """Take if a start conforms now; False (and nothing recorded) otherwise."""
        if self.allowed_at(key, now) > now:
            return False
        self.take(key, now)
        return True

    @classmethod
    def for_throttle(cls, throttle: Throttle) -> Gcra:
        """One start per `period / limit`, plus `burst` extra at once.

        As Inngest's throttling guide describes its GCRA: the period is cut into
        `limit` windows and, without a burst, one run starts per window. So at most
        `limit + burst + 1` runs start in any one period.
        """
        return cls(throttle.period / throttle.limit, 1 + throttle.burst)

    @classmethod
    def for_rate_limit(cls, rate: RateLimit) -> Gcra:
        """`limit` at once, then `limit` per `period`."""
        return cls(rate.period / rate.limit, rate.limit)

    @classmethod
    def once_per(cls, seconds: float) -> Gcra:
        """One start per key per `seconds` (idempotency keys)."""
        return cls(seconds, 1)


def clamp_priority(factor: Any) -> int:
    """A priority expression's value as Inngest uses it: whole seconds within the range."""
    if isinstance(factor, bool) or not isinstance(factor, int | float):
        return 0
    low, high = PRIORITY_RANGE
    return max(low, min(high, int(factor)))
