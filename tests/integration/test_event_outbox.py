"""The event outbox on the embedded PostgreSQL and the test event API: events are
recorded with the rows, sent after the commit, kept when refused, flushed oldest
first with their recorded ids, never by two flushes at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import inngest
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import OutboxEvent
from jobmatch.db.session import Database, session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.events import outbox_store
from jobmatch.events.outbox import OutboxFlushRequested, flush, publish
from jobmatch.settings import Settings

pytestmark = pytest.mark.integration


def _event(n: int) -> inngest.Event:
    return inngest.Event(name="test/outbox", data={"n": n}, id=f"outbox-test-{n}")


def _rows() -> dict[str, OutboxEvent]:
    with session_scope() as uow:
        return {r.event_id: r for r in uow.scalars(select(OutboxEvent))}


@pytest.fixture
def refused(event_api: EventAPI) -> Iterator[EventAPI]:
    """The event API answering 401 to every send (the test's outage)."""
    event_api.event_key = "not-our-key"
    yield event_api
    event_api.event_key = None


def test_published_events_are_sent_after_the_commit_with_their_ids(
    db: None, deps: Dependencies, event_api: EventAPI
) -> None:
    with deps.unit_of_work() as uow:
        ids = publish(uow, deps.inngest, [_event(1), inngest.Event(name="test/outbox", data={})])
        assert event_api.received() == []  # nothing leaves before the commit
    assert ids[0] == "outbox-test-1"
    assert ids[1]  # an event without an id is given one
    assert [e["id"] for e in event_api.received()] == ids
    assert {r.event_id: r.status for r in _rows().values()} == dict.fromkeys(ids, "sent")


def test_a_rolled_back_unit_records_and_sends_nothing(
    db: None, deps: Dependencies, event_api: EventAPI
) -> None:
    def failing_route() -> None:
        with deps.unit_of_work() as uow:
            publish(uow, deps.inngest, [_event(1)])
            raise RuntimeError("the route failed after recording")

    with pytest.raises(RuntimeError):
        failing_route()
    assert event_api.received() == []
    assert _rows() == {}


def test_a_refused_send_keeps_the_event_pending_and_the_commit_stands(
    db: None, deps: Dependencies, refused: EventAPI
) -> None:
    with deps.unit_of_work() as uow:
        publish(uow, deps.inngest, [_event(1)])
    row = _rows()["outbox-test-1"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Event key not found" in (row.last_error or "")


def test_what_a_refused_send_left_pending_goes_with_the_next_published_events(
    db: None, deps: Dependencies, event_api: EventAPI
) -> None:
    event_api.event_key = "not-our-key"
    try:
        with deps.unit_of_work() as uow:
            publish(uow, deps.inngest, [_event(1)])
    finally:
        event_api.event_key = None
    with deps.unit_of_work() as uow:
        publish(uow, deps.inngest, [_event(2)])
    assert [e["id"] for e in event_api.received()] == ["outbox-test-2", "outbox-test-1"]
    assert {r.status for r in _rows().values()} == {"sent"}


class _HungSender:
    """An event API that takes every request and answers none until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.answered = False

    def send_sync(self, events: list[inngest.Event]) -> list[str]:
        self.release.wait(10)
        self.answered = True
        raise ConnectionError("the event API never answered")


def test_a_hung_event_api_holds_the_answer_no_longer_than_the_wait(
    db: None, deps: Dependencies
) -> None:
    hung = _HungSender()
    try:
        with deps.unit_of_work() as uow:
            publish(uow, hung, [_event(1)], wait=0.2)
        assert not hung.answered  # the unit of work ended with the send still out
    finally:
        hung.release.set()
    row = _rows()["outbox-test-1"]
    assert (row.status, row.last_error) == ("pending", "TimeoutError: ")


def test_the_same_id_published_twice_is_recorded_once(db: None, deps: Dependencies) -> None:
    for _ in range(2):
        with deps.unit_of_work() as uow:
            publish(uow, deps.inngest, [_event(1)])
    assert list(_rows()) == ["outbox-test-1"]


def _pending_out_of_order(count: int) -> list[str]:
    """`count` pending rows inserted newest first (the table's physical order is the
    reverse of their age): the ids oldest first."""
    now = datetime.now(UTC)
    with session_scope() as uow:
        outbox_store.record(uow, [(f"e{n}", "test/outbox", {"n": n}) for n in range(count)])
        for n in range(count):
            uow.execute(
                update(OutboxEvent)
                .where(OutboxEvent.event_id == f"e{n}")
                .values(created_at=now - timedelta(minutes=n))
            )
    return [f"e{n}" for n in reversed(range(count))]


@pytest.fixture
def table_order(database: str, settings: Settings) -> Iterator[Database]:
    """The test database read without index scans: a query without its own order
    returns rows as the table holds them (here: newest first), not in the pending
    index's order, so the flush's ordering is what the test sees."""
    options = quote("-c enable_indexscan=off -c enable_bitmapscan=off")
    url = f"{database}&options={options}"
    planner = Database(settings.model_copy(update={"database_url": SecretStr(url)}))
    yield planner
    planner.dispose()


def test_flush_sends_the_oldest_pending_first_in_bounded_batches(
    db: None, deps: Dependencies, event_api: EventAPI, table_order: Database
) -> None:
    oldest_first = _pending_out_of_order(5)
    assert flush(table_order.unit_of_work, deps.inngest, limit=2) == 2
    assert [e["id"] for e in event_api.received()] == oldest_first[:2]
    assert flush(table_order.unit_of_work, deps.inngest, limit=2) == 2
    assert flush(table_order.unit_of_work, deps.inngest, limit=2) == 1
    assert flush(table_order.unit_of_work, deps.inngest, limit=2) == 0
    assert [e["id"] for e in event_api.received()] == oldest_first


class _HeldSender:
    """Sends through the real client, but holds the first send until released."""

    def __init__(self, client: inngest.Inngest) -> None:
        self.client = client
        self.entered = threading.Event()
        self.release = threading.Event()

    def send_sync(self, events: list[inngest.Event]) -> list[str]:
        self.entered.set()
        self.release.wait(5)
        return self.client.send_sync(events)


def test_two_flushes_at_once_never_send_one_event_twice(
    db: None, deps: Dependencies, event_api: EventAPI
) -> None:
    _pending_out_of_order(3)
    held = _HeldSender(deps.inngest)
    first: list[int] = []
    # Another container's flush: its own engine (each holds one connection).
    other = Database(deps.settings)
    worker = threading.Thread(target=lambda: first.append(flush(other.unit_of_work, held)))
    worker.start()
    try:
        assert held.entered.wait(5)
        # The first flush holds its rows (claimed, not yet sent): the second takes none.
        second = flush(deps.unit_of_work, deps.inngest)
    finally:
        held.release.set()
        worker.join(10)
        other.dispose()
    assert (first, second) == ([3], 0)
    ids = [e["id"] for e in event_api.received()]
    assert sorted(ids) == ["e0", "e1", "e2"]


def test_a_resend_carries_the_recorded_id_so_inngest_drops_it(
    deps: Dependencies, driver: InngestDriver, event_api: EventAPI
) -> None:
    """The send succeeded but its mark was lost (the connection dropped): the next
    flush sends the row again, with the same id, and only one run starts."""
    driver.sync()
    with deps.unit_of_work() as uow:
        publish(uow, deps.inngest, [OutboxFlushRequested().to_event(id="flush-once")])
    with session_scope() as uow:
        uow.execute(update(OutboxEvent).values(status="pending"))
    assert flush(deps.unit_of_work, deps.inngest) == 1
    assert [e["id"] for e in event_api.received()] == ["flush-once", "flush-once"]
    runs = driver.drain()
    assert len([r for r in runs if r.function_id.endswith("flush-event-outbox")]) == 1
    assert len(driver.duplicates) == 1


def _aged(age: timedelta, status: str) -> None:
    with session_scope() as uow:
        uow.execute(
            update(OutboxEvent).values(
                status=status, created_at=datetime.now(UTC) - age, sent_at=datetime.now(UTC) - age
            )
        )


def test_the_flush_function_sends_the_backlog_and_prunes_old_sent_rows(
    deps: Dependencies, driver: InngestDriver, event_api: EventAPI
) -> None:
    with session_scope() as uow:
        outbox_store.record(uow, [("old-sent", "test/outbox", {})])
    _aged(timedelta(days=4), "sent")
    _pending_out_of_order(3)
    run = driver.run_cron("flush-event-outbox")
    assert run.status == "completed", run.error
    out: dict[str, Any] = run.output
    assert (out["sent"], out["pruned"], out["more"]) == (3, 1, False)
    assert out["oldest_pending_seconds"] >= 120  # e2 was recorded two minutes ago
    assert set(_rows()) == {"e0", "e1", "e2"}
    assert {r.status for r in _rows().values()} == {"sent"}


def test_a_second_flush_while_one_runs_is_skipped(driver: InngestDriver) -> None:
    """The singleton: two triggers at the same moment make one run, not two flushes
    side by side."""
    driver.sync()
    runs = driver.send_events([{"name": OutboxFlushRequested.NAME, "data": {}} for _ in range(2)])
    assert sorted(r.status for r in runs) == ["completed", "skipped"]
