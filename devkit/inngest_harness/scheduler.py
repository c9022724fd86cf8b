"""Virtual time and the run queue: which request goes next, and when.

Inngest's executor is a queue: each run's next request is an item that becomes
ready at some time (now, after a sleep, after a retry backoff) and is started
when the concurrency slots it needs are free. The driver plays that queue in
virtual time, deterministically:

- every request occupies its run's concurrency slots for `step_seconds` of
  virtual time, so runs genuinely overlap and interleave: run A's step, run B's
  step, A's next step... each against the real handler and database;
- among ready items, the oldest run (minus its priority factor, in seconds)
  goes first, as Inngest scores queue items by their run's start; ties break by
  arrival order or, with a `seed`, by a seeded random draw;
- when nothing can start now, the clock jumps to the next thing that can
  happen (a request ending, a sleep or backoff ending, a debounce or batch
  window closing): no test ever waits in real time.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from inngest_harness.records import Run

# A concurrency slot: (scope, function id or "" when shared, evaluated key or "").
Slot = tuple[str, str, str]


@dataclass
class Item:
    """A run's next request, ready at `ready_at`; `first` if it starts the run."""

    run: Run
    ready_at: float
    first: bool
    order: tuple[float, float]


@dataclass(order=True)
class Timer:
    """Something to do at `at` (a debounce window closing, a wait timing out...).

    `external` timers stand for the outside world taking its time (a
    `wait_for_event` timeout): they fire only when the clock is advanced
    explicitly, never merely because the driver went idle.
    """

    at: float
    seq: int
    action: Callable[[], object] = field(compare=False)
    external: bool = field(default=False, compare=False)


@dataclass(order=True)
class Flight:
    """A request in flight until `ends_at`; `land` applies its response."""

    ends_at: float
    seq: int
    run: Run = field(compare=False)
    land: Callable[[], None] = field(compare=False)


class Scheduler:
    """The clock, the ready queue, requests in flight, timers and concurrency slots."""

    def __init__(self, *, seed: int | None = None, step_seconds: float = 1.0) -> None:
        self.now = 0.0
        self.step_seconds = step_seconds
        self.items: list[Item] = []
        self.limits: dict[Slot, int] = {}
        self._rng = random.Random(seed) if seed is not None else None  # noqa: S311 - a replayable order, not a secret
        self._seq = itertools.count()
        # A run's place among runs queued at the same moment, fixed for its whole life.
        self._rank: dict[str, float] = {}
        self._starts = itertools.count()
        self._flights: list[Flight] = []
        self._timers: list[Timer] = []
        self._in_flight: Counter[Slot] = Counter()
        self._by_function: Counter[tuple[str, str]] = Counter()
        self.peaks: Counter[tuple[str, str]] = Counter()

    # ------------------------------------------------------------------ queue
    def enqueue(self, run: Run, at: float, *, first: bool = False) -> None:
        """Queue the run's next request, ready at `at`."""
        if run.run_id not in self._rank:
            self._rank[run.run_id] = self._rng.random() if self._rng else float(next(self._seq))
        order = (run.queued_at - run.priority, self._rank[run.run_id])
        self.items.append(Item(run, max(at, self.now), first, order))

    def drop(self, run: Run) -> None:
        """Forget the run's queued requests (it was cancelled or ended)."""
        self.items = [item for item in self.items if item.run is not run]

    def due(self) -> list[Item]:
        """Ready items, best first."""
        return sorted((i for i in self.items if i.ready_at <= self.now), key=lambda i: i.order)

    def fits(self, run: Run) -> bool:
        """Whether every concurrency slot the run needs has room now."""
        return all(self._in_flight[s] < self.limits.get(s, 1 << 30) for s in run.slots)

    def next_start_order(self) -> int:
        """0 for the first run to start, 1 for the next..."""
        return next(self._starts)

    # ---------------------------------------------------------------- flights
    def fly(self, run: Run, land: Callable[[], None]) -> float:
        """Occupy the run's slots for one request; `land` runs when it ends."""
        for slot in run.slots:
            self._in_flight[slot] += 1
        for key in {"", *(slot[2] for slot in run.slots)}:
            counter = (run.function_id, key)
            self._by_function[counter] += 1
            self.peaks[counter] = max(self.peaks[counter], self._by_function[counter])
        ends_at = self.now + self.step_seconds
        heapq.heappush(self._flights, Flight(ends_at, next(self._seq), run, land))
        return ends_at

    def landed(self) -> Flight | None:
        """Pop a request whose time is up, releasing its slots."""
        if not self._flights or self._flights[0].ends_at > self.now:
            return None
        flight = heapq.heappop(self._flights)
        for slot in flight.run.slots:
            self._in_flight[slot] -= 1
        for key in {"", *(slot[2] for slot in flight.run.slots)}:
            self._by_function[(flight.run.function_id, key)] -= 1
        return flight

    # ----------------------------------------------------------------- timers
    def at(self, when: float, action: Callable[[], object], *, external: bool = False) -> None:
        """Do `action` at virtual time `when`."""
        heapq.heappush(self._timers, Timer(when, next(self._seq), action, external))

    def due_timer(self, *, external: bool) -> Timer | None:
        """Pop a timer whose time has come (external ones only if allowed)."""
        for timer in sorted(self._timers):
            if timer.at > self.now:
                return None
            if external or not timer.external:
                self._timers.remove(timer)
                heapq.heapify(self._timers)
                return timer
        return None

    def next_time(self, *, external: bool, extra: list[float]) -> float | None:
        """When something next can happen (None: nothing will, the driver is idle)."""
        times = [f.ends_at for f in self._flights]
        times += [t.at for t in self._timers if external or not t.external]
        times += [i.ready_at for i in self.items if i.ready_at > self.now]
        times += [t for t in extra if t > self.now]
        return min(times, default=None)
