"""Step bodies of `flush-event-outbox`: report the backlog, send a batch, prune."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from jobmatch.events import outbox_store as store
from jobmatch.events.outbox import EventSender, flush
from jobmatch.observability import metrics
from jobmatch.step_contract import StepDeps, StepInput, step_body


class OutboxDeps(StepDeps, Protocol):
    """A step's dependencies plus the Inngest client the outbox sends with."""

    @property
    def inngest(self) -> EventSender:
        """The app's Inngest client."""
        ...


class FlushBatch(StepInput):
    """At most `limit` pending events, oldest first."""

    limit: int


class Retention(StepInput):
    """Sent rows older than `hours` go, at most `limit` of them per step."""

    hours: int
    limit: int


@step_body
def report_backlog(deps: StepDeps) -> float:
    """The age in seconds of the oldest pending event, also as the metric the
    outbox alarm watches (0 when nothing is pending)."""
    with deps.unit_of_work() as uow:
        age = store.oldest_pending_age(uow)
    metrics.add_metric(name="OutboxOldestPendingSeconds", unit="Seconds", value=age)
    return age


@step_body
def flush_batch(deps: OutboxDeps, inp: FlushBatch) -> int:
    """Send the oldest `limit` pending events; how many. A refused send fails the
    step (Inngest retries it); its rows stay pending."""
    return flush(deps.unit_of_work, deps.inngest, limit=inp.limit)


@step_body
def prune_sent(deps: StepDeps, inp: Retention) -> int:
    """Delete up to `limit` rows sent more than `hours` ago; how many."""
    with deps.unit_of_work() as uow:
        return store.delete_sent(uow, timedelta(hours=inp.hours), inp.limit)
