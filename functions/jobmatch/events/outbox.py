"""Send Inngest events through the outbox: recorded with the rows, sent after commit.

A route or step that writes rows and announces them calls `publish(uow, client,
events)` inside its unit of work. Each event is recorded (`event_outbox`: name,
data, id) in the same transaction as the rows, so either both are committed or
neither is; once the transaction is committed, the unit of work sends what it
recorded (`flush`). An event the event API does not take stays pending and is
sent by the next flush: the scheduled `flush-event-outbox` function (every
minute, oldest first, in bounded batches). Every send carries the recorded id,
so a row sent twice (the send succeeded, the mark did not) is dropped by Inngest's
de-duplication. What the caller answers therefore no longer depends on the event
API once its rows are committed.

This is the event twin of `mail.outbox`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import ClassVar, Protocol

import inngest

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events import EventModel
from jobmatch.events import outbox_store as store
from jobmatch.observability import logger, metrics

# Inngest accepts up to 5,000 events (3 MB) per call; a flush sends at most this
# many in one call, so one step or one after-commit action stays a few seconds.
FLUSH_BATCH = 500
# After sending its own events, a request or step also sends this many of the
# oldest that earlier sends left pending (the scheduled flush takes the rest).
BACKLOG_BATCH = 50
# How long a request waits for the event API after its commit. The SDK's own send
# retries a 5xx or a dropped connection up to 5 times, 5 s each at worst: a hung
# event API would otherwise hold the answer past API Gateway's 30 s.
REQUEST_SEND_SECONDS = 3.0

OpenUnit = Callable[[], AbstractContextManager[UnitOfWork]]


class EventSender(Protocol):
    """What sends events (the app's `inngest.Inngest`)."""

    def send_sync(self, events: list[inngest.Event]) -> list[str]:
        """Send `events`; their ids as the event API answers them."""
        ...


class BoundedSender:
    """`client`'s sends, waited for at most `seconds` each. A send still going on
    then is left to finish on its own (its rows stay pending: a later flush sends
    them again with the same ids, which Inngest drops if this one arrived)."""

    _threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="outbox-send")

    def __init__(self, client: EventSender, seconds: float) -> None:
        self.client = client
        self.seconds = seconds

    def send_sync(self, events: list[inngest.Event]) -> list[str]:
        """Send `events`; TimeoutError when the event API takes longer than allowed."""
        future = self._threads.submit(self.client.send_sync, events)
        try:
            return future.result(self.seconds)
        except TimeoutError:
            future.cancel()  # not started yet (both threads busy): it never will
            raise


def publish(
    uow: UnitOfWork,
    client: EventSender,
    events: Sequence[inngest.Event],
    *,
    wait: float = REQUEST_SEND_SECONDS,
) -> list[str]:
    """Record `events` in `uow`'s transaction and send them once it is committed,
    waiting at most `wait` seconds for the event API; their ids. An event without an
    id gets one now, recorded with it, so every later send carries the same id."""
    ids = [event.id or uuid.uuid4().hex for event in events]
    store.record(uow, [(i, e.name, dict(e.data)) for i, e in zip(ids, events, strict=True)])
    if ids:
        sender = BoundedSender(client, wait)
        uow.after_commit(lambda: _send_recorded(uow, sender, ids))
    return ids


def _send_recorded(uow: UnitOfWork, client: EventSender, ids: list[str]) -> None:
    """After the commit: send the events just recorded, then (the event API being
    up) a bounded batch of the oldest an earlier send left pending."""
    flush(lambda: store.reopened(uow), client, event_ids=ids)
    flush(lambda: store.reopened(uow), client, limit=BACKLOG_BATCH)


def flush(
    open_unit: OpenUnit,
    client: EventSender,
    *,
    event_ids: Sequence[str] | None = None,
    limit: int = FLUSH_BATCH,
) -> int:
    """Send at most `limit` pending events (of `event_ids` when given), oldest first,
    in one call with their recorded ids, and mark them sent; how many were sent. If
    the event API refuses, the rows stay pending with the error and it is raised."""
    claimed: list[store.StoredEvent] = []
    try:
        with open_unit() as uow:
            claimed = store.claim_pending(uow, limit, event_ids)
            if not claimed:
                return 0
            client.send_sync(
                [inngest.Event(name=e.name, data=e.data, id=e.event_id) for e in claimed]
            )
            store.mark_sent(uow, [e.row_id for e in claimed])
    except Exception as exc:
        if claimed:
            logger.warning(
                "events left pending in the outbox",
                extra={"events": len(claimed), "error": type(exc).__name__},
            )
            metrics.add_metric(name="OutboxSendFailures", unit="Count", value=1)
            with open_unit() as uow:
                store.mark_failed(uow, [e.row_id for e in claimed], f"{type(exc).__name__}: {exc}")
        raise
    metrics.add_metric(name="OutboxEventsSent", unit="Count", value=len(claimed))
    return len(claimed)


class OutboxFlushRequested(EventModel):
    """`system/event-outbox.flush`: flush the outbox now (an operator, after an
    outage), besides the minute's cron."""

    NAME: ClassVar[str] = "system/event-outbox.flush"
