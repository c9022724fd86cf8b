"""The workflow toolkit: the few shapes every family of functions is built from.

- `numbered` / `slices`: step ids and parts for work cut into pieces;
- `paged`: the same step body as steps `name-1`, `name-2`, ... until one handles a
  short batch (or a cap is reached, and the caller continues later);
- `chained`: steps that carry a cursor forward, each input made from the step before;
- `fan_out`: events sent in groups of Inngest's send limit, one step per group;
- `select_and_send`: fan out over rows read in key order, a select and a send
  step per batch;
- `continue_as_new`: hand the rest of the work to a new run of the same function
  by an event with a deterministic id (a replayed step sends the same id: Inngest
  drops it);
- `request_of`: a function triggered by a cron or an event reads one typed request;
- `event_time` / `hour_of`: the triggering event's time, for ids and windows;
- `failure_of` / `on_failure`: what an `on_failure` handler was told, typed, and a
  handler that records it with one step (the run records use it).

Nothing here knows a domain: the families in this package call these with their
own step bodies and events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import inngest

from jobmatch.events import CRON_EVENT
from jobmatch.step_contract import StepBody, StepDeps, StepInput

T = TypeVar("T")
In = TypeVar("In", bound=StepInput)

# Inngest's limit of events in one send.
EVENTS_PER_SEND = 100


def numbered(name: str, index: int, total: int) -> str:
    """`name` for a single step, `name-1`, `name-2`, ... when there are several."""
    return name if total == 1 else f"{name}-{index + 1}"


def slices(items: Sequence[T], size: int) -> list[list[T]]:
    """`items` in consecutive slices of at most `size`."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def paged(
    ctx: inngest.ContextSync,
    name: str,
    deps: StepDeps,
    body: StepBody[In, int],
    inp: In,
    *,
    size: int,
    max_steps: int,
) -> tuple[int, bool]:
    """Run `body(deps, inp)` as steps `name-1`, `name-2`, ... until one handles fewer
    than `size` rows, at most `max_steps` of them: the rows handled in all, and
    whether more may remain (the caller then continues in a new run or a later one).
    The body must make progress by itself (it takes the next rows still to do)."""
    total = 0
    for i in range(max_steps):
        done = body.run(ctx, f"{name}-{i + 1}", deps, inp)
        total += done
        if done < size:
            return total, False
    return total, True


def fan_out(ctx: inngest.ContextSync, name: str, events: Sequence[inngest.Event]) -> int:
    """Send `events`, `EVENTS_PER_SEND` per step (`name`, `name-1`, ...); how many.
    Give each event a deterministic id: a replayed step then sends nothing new."""
    groups = slices(events, EVENTS_PER_SEND)
    for i, group in enumerate(groups):
        ctx.step.send_event(numbered(name, i, len(groups)), group)
    return len(events)


def continue_as_new(ctx: inngest.ContextSync, event: inngest.Event) -> None:
    """Hand the rest of the work to a new run of the same function: `event` (its
    trigger, carrying the cursor) sent once as step `continue`. The event must carry
    a deterministic id (from this run, or from the cursor): a replayed step then
    sends the same id, and Inngest drops it instead of starting a second run."""
    if not event.id:
        raise ValueError("a continuation needs a deterministic event id")
    ctx.step.send_event("continue", [event])


def request_of(ctx: inngest.ContextSync, parse: Callable[[Any], T], on_cron: Callable[[], T]) -> T:
    """The request of a run triggered either by a cron or by an event: `on_cron()`
    for the cron's tick, else the event's data parsed (bad data: NonRetriableError)."""
    return on_cron() if ctx.event.name == CRON_EVENT else parse(ctx.event.data)


def event_time(ctx: inngest.ContextSync) -> datetime:
    """When the triggering event happened (UTC); now when Inngest sent no time."""
    ts = ctx.event.ts
    return datetime.fromtimestamp(ts / 1000, UTC) if ts else datetime.now(UTC)


def hour_of(ctx: inngest.ContextSync) -> str:
    """The hour a run belongs to (its event's time), for hourly event ids."""
    return event_time(ctx).strftime("%Y%m%d%H")


@dataclass(frozen=True)
class Failure:
    """What an `on_failure` handler was told: which run failed, on which event, why."""

    run_id: str
    event_id: str | None
    message: str
    event_data: dict[str, Any]


def failure_of(ctx: inngest.ContextSync) -> Failure:
    """The failed run of an `inngest/function.failed` event (defensive: the payload
    is Inngest's, and a handler that raises on it would leave the run unrecorded)."""
    data = ctx.event.data
    error = data.get("error")
    error = error if isinstance(error, dict) else {}
    original = data.get("event")
    original = original if isinstance(original, dict) else {}
    original_data = original.get("data")
    return Failure(
        run_id=str(data.get("run_id") or ""),
        event_id=str(original["id"]) if original.get("id") else None,
        message=f"{error.get('name', 'Error')}: {error.get('message', 'unknown error')}",
        event_data=original_data if isinstance(original_data, dict) else {},
    )


def chained(
    ctx: inngest.ContextSync,
    name: str,
    deps: StepDeps,
    body: StepBody[In, T],
    first: In,
    next_of: Callable[[In, T], In | None],
    *,
    max_steps: int | None,
    start: int = 1,
) -> tuple[list[T], In | None]:
    """Run `body` as steps `name-<start>`, `name-<start + 1>`, ..., each on the input
    `next_of(input, output)` made from the step before (a cursor carried forward),
    until `next_of` says None or `max_steps` ran (None: no cap): the outputs, and
    the input the next step would have taken (None when the work is done; else the
    caller continues it in a new run, or fails)."""
    outputs: list[T] = []
    inp: In | None = first
    while inp is not None and (max_steps is None or len(outputs) < max_steps):
        out = body.run(ctx, f"{name}-{start + len(outputs)}", deps, inp)
        outputs.append(out)
        inp = next_of(inp, out)
    return outputs, inp


K = TypeVar("K")


def select_and_send(
    ctx: inngest.ContextSync,
    names: tuple[str, str],
    select: Callable[[str, K, int], Sequence[T]],
    key_of: Callable[[T], K],
    start: K,
    events_of: Callable[[Sequence[T]], list[inngest.Event]],
    *,
    size: int,
    limit: int | None = None,
) -> int:
    """Fan out over rows read in key order, one select step and one send step per
    batch (`<select>-1`, `<send>-1`, ...: `names` is that pair). `select(step_id,
    after, n)` runs the step that reads the next at most `n` rows after key `after`
    (`start` first, then `key_of` of a batch's last row); `events_of(rows)` are the
    events for a batch. Stops at a short batch or once `limit` rows were sent (None:
    no cap); how many were."""
    sent, batch, after = 0, 1, start
    while limit is None or sent < limit:
        want = size if limit is None else min(size, limit - sent)
        rows = select(f"{names[0]}-{batch}", after, want)
        if not rows:
            break
        ctx.step.send_event(f"{names[1]}-{batch}", events_of(rows))
        sent, batch, after = sent + len(rows), batch + 1, key_of(rows[-1])
        if len(rows) < want:
            break
    return sent


OnFailure = Callable[[inngest.ContextSync], None]


def on_failure(
    deps: StepDeps, step_id: str, record: StepBody[In, Any], input_of: Callable[[Failure], In]
) -> OnFailure:
    """An `on_failure` handler that records the failed run: step `step_id` runs
    `record` on the input `input_of(failure_of(ctx))` builds."""

    def handler(ctx: inngest.ContextSync) -> None:
        record.run(ctx, step_id, deps, input_of(failure_of(ctx)))

    return handler
