"""One deadline per step, which every slow call inside the step respects.

A step has `step_budget_seconds` (20 s) before API Gateway's 30 s cut makes
Inngest see a failure and run it again. Per-call timeouts do not add up to that:
rule-based scoring, a Bedrock connect and read, and a publisher's retries could
each stay inside their own timeout and together outrun the step. So a step body
creates one `Deadline` when it starts and hands it (or a `part` of it) to each
slow call: scoring stops when its part is spent, the LLM gets what is left or is
skipped, an embedding batch or a page fetch gives up when the step's time is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time (`clock`) by which the work must be done."""

    ends_at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline `seconds` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.ends_at - self.clock())

    @property
    def expired(self) -> bool:
        """Whether the time is up."""
        return self.remaining() <= 0.0

    def part(self, seconds: float | None = None, *, keep: float = 0.0) -> Deadline:
        """A deadline for one part of the work: at most `seconds` from now, and
        `keep` seconds before this one, left for what comes after the part."""
        ends_at = self.ends_at - keep
        if seconds is not None:
            ends_at = min(ends_at, self.clock() + seconds)
        return Deadline(ends_at, self.clock)
