"""Each flow-control setting, as the driver reads it from the sync payload, on a tiny
app that is not jobmatch (`flowapp`). Every setting is checked against a twin
function without it (`plain`, `racy`), so each test shows the difference the
setting makes, in virtual time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from inngest_harness.flow import DEDUPE_WINDOW_SECONDS
from tests.harness import flowapp

LambdaHandler = Any


@pytest.fixture(scope="module")
def app() -> Iterator[tuple[EventAPI, LambdaHandler]]:
    api = EventAPI(event_key=flowapp.EVENT_KEY, signing_keys=(flowapp.SIGNING_KEY,)).start()
    handler, _ = flowapp.build(api.url)
    yield api, handler
    api.stop()


def make_driver(app: tuple[EventAPI, LambdaHandler], **options: Any) -> InngestDriver:
    api, handler = app
    api.reset()
    flowapp.ROWS.clear()
    flowapp.LOG.clear()
    return InngestDriver(handler, signing_key=flowapp.SIGNING_KEY, event_api=api, **options)


@pytest.fixture
def driver(app: tuple[EventAPI, LambdaHandler]) -> InngestDriver:
    return make_driver(app)


def events(name: str, *datas: dict[str, Any]) -> list[dict[str, Any]]:
    return [new_event(name, data) for data in datas]


def test_concurrency_limits_steps_in_flight_per_key(driver: InngestDriver) -> None:
    runs = driver.send_events(
        events("flow/conc", *({"user": "a"} for _ in range(6)), *({"user": "b"} for _ in range(3)))
    )
    assert [r.status for r in runs] == ["completed"] * 9
    assert driver.max_concurrency("concurrent", "a") == 2
    assert driver.max_concurrency("concurrent", "b") == 2
    assert driver.max_concurrency("concurrent") == 4  # two keys, two virtual queues
    driver.send_events(events("flow/plain", *({} for _ in range(6))))
    assert driver.max_concurrency("plain") == 6  # the twin without a limit


def test_throttle_paces_run_starts_and_queues_the_rest(driver: InngestDriver) -> None:
    runs = driver.send_events(events("flow/throttle", *({"n": i} for i in range(7))))
    # limit 2 per 10 s with burst 1: two at once, then one every 5 s; none dropped.
    assert [r.started_at for r in runs] == [0, 0, 5, 10, 15, 20, 25]
    assert {r.status for r in runs} == {"completed"}
    plain = driver.send_events(events("flow/plain", *({} for _ in range(7))))
    assert len({r.started_at for r in plain}) == 1


def test_rate_limit_skips_runs_over_the_limit_per_key(driver: InngestDriver) -> None:
    runs = driver.send_events(events("flow/rate", {"user": "a"}, {"user": "a"}, {"user": "b"}))
    assert [r.status for r in runs] == ["completed", "skipped", "completed"]
    assert runs[1].reason == "rate limit"
    driver.advance(3600)
    [later] = driver.send("flow/rate", {"user": "a"})
    assert later.status == "completed"


def test_debounce_runs_once_with_the_last_event(driver: InngestDriver) -> None:
    for n, wait in [(1, 5), (2, 3), (3, 0)]:
        driver.enqueue("flow/debounce", {"user": "a", "n": n})
        driver.advance(wait)
    driver.enqueue("flow/debounce", {"user": "b", "n": 9})
    runs = driver.run_until_idle()
    done = {r.output: r for r in driver.runs_of("debounced", "completed")}
    assert set(done) == {"3", "9"}
    assert done["3"].started_at == 18  # 10 s after the last event for "a"
    assert [r.event["data"]["n"] for r in driver.runs_of("debounced", "debounced")] == [1, 2]
    assert all(r.status in ("completed", "debounced") for r in runs)


def test_debounce_timeout_caps_the_wait(driver: InngestDriver) -> None:
    for n in range(7):
        driver.enqueue("flow/debounce", {"user": "a", "n": n})
        driver.advance(5)
    first = driver.runs_of("debounced", "completed")[0]
    assert first.started_at == 25  # first event at 0, timeout 25 s
    assert first.event["data"]["n"] == 4  # the latest event by then


def test_priority_lets_later_runs_start_before_queued_ones(driver: InngestDriver) -> None:
    driver.enqueue_events(events("flow/priority", *({"n": f"free{i}"} for i in range(3))))
    driver.advance(1)  # free0 has started; free1 and free2 are queued behind its limit of 1
    driver.enqueue_events(
        events("flow/priority", {"n": "vip0", "vip": True}, {"n": "vip1", "vip": True})
    )
    driver.run_until_idle()
    started = sorted(driver.runs_of("prioritized"), key=lambda r: r.start_order or 0)
    assert [r.output for r in started] == ["free0", "vip0", "vip1", "free1", "free2"]
    assert driver.max_concurrency("prioritized") == 1


def test_singleton_skip_drops_a_second_trigger_per_key(driver: InngestDriver) -> None:
    runs = driver.send_events(
        events("flow/single-skip", {"user": "a"}, {"user": "a"}, {"user": "b"})
    )
    assert [r.status for r in runs] == ["completed", "skipped", "completed"]
    assert runs[1].reason is not None
    assert runs[0].run_id in runs[1].reason
    [again] = driver.send("flow/single-skip", {"user": "a"})  # the first one has finished
    assert again.status == "completed"


def test_singleton_cancel_replaces_the_active_run(driver: InngestDriver) -> None:
    driver.enqueue("flow/single-cancel")
    driver.advance(60)  # the first run is asleep for an hour
    driver.enqueue("flow/single-cancel")
    driver.run_until_idle()
    first, second = driver.runs_of("singleton-cancel")
    assert (first.status, second.status) == ("cancelled", "completed")
    assert [step for run_id, step in flowapp.LOG if run_id == first.run_id] == ["begin"]


def test_cancel_on_event_stops_only_the_matching_run(driver: InngestDriver) -> None:
    driver.enqueue_events(events("flow/cancellable", {"id": 1}, {"id": 2}))
    driver.advance(60)
    driver.enqueue("flow/stop", {"id": 1})
    driver.run_until_idle()
    assert [r.status for r in driver.runs_of("cancellable")] == ["cancelled", "completed"]


def test_finish_timeout_cancels_a_run_still_going(driver: InngestDriver) -> None:
    [run] = driver.send("flow/timeout")
    assert run.status == "cancelled"
    assert run.ended_at == 30
    assert run.reason == "timeouts"


def test_batches_fill_up_or_close_after_their_timeout(driver: InngestDriver) -> None:
    runs = driver.send_events(events("flow/batch", *({"n": i} for i in range(7))))
    assert [r.output for r in runs] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [r.started_at for r in runs] == [0, 0, 5]
    assert len(runs[0].exchanges[0].body["events"]) == 3


def test_idempotency_key_gives_one_run_per_key_per_day(driver: InngestDriver) -> None:
    runs = driver.send_events(
        events("flow/idem", {"order": "o1"}, {"order": "o1"}, {"order": "o2"}, {"order": "o1"})
    )
    assert [r.status for r in runs] == ["completed", "skipped", "completed", "skipped"]
    driver.advance(DEDUPE_WINDOW_SECONDS)
    assert driver.send("flow/idem", {"order": "o1"})[0].status == "completed"


def test_events_with_one_id_trigger_once_within_24_hours(driver: InngestDriver) -> None:
    same = [{**new_event("flow/plain", {"n": i}), "id": "evt-1"} for i in range(10)]
    runs = driver.send_events(same)
    assert [r.output for r in runs] == ["0"]
    assert len(driver.duplicates) == 9
    driver.advance(DEDUPE_WINDOW_SECONDS)
    assert [r.output for r in driver.send_events([{**same[0], "data": {"n": "late"}}])] == ["late"]


def test_interleaved_runs_really_race_on_the_same_rows(driver: InngestDriver) -> None:
    runs = driver.send_events(events("flow/increment", {"row": "r"}, {"row": "r"}))
    assert [r.status for r in runs] == ["completed", "completed"]
    assert flowapp.ROWS["r"] == 1  # a lost update: both read 0 before either wrote
    guarded = driver.send_events(events("flow/increment-guarded", {"row": "g"}, {"row": "g"}))
    assert [r.status for r in guarded] == ["completed", "skipped"]


def test_a_seed_picks_a_replayable_interleaving(app: tuple[EventAPI, LambdaHandler]) -> None:
    def order(seed: int | None) -> list[int]:
        driver = make_driver(app, seed=seed)
        runs = driver.send_events(events("flow/plain", *({"n": i} for i in range(4))))
        index = {r.run_id: i for i, r in enumerate(runs)}
        return [index[run_id] for run_id, _ in flowapp.LOG]

    assert order(None) == [0, 1, 2, 3, 0, 1, 2, 3]  # arrival order
    assert order(7) == order(7)
    assert len({tuple(order(seed)) for seed in range(6)}) > 1


def test_wait_timeouts_fire_only_when_time_is_advanced(driver: InngestDriver) -> None:
    [run] = driver.send("flow/ask", {"id": 1})
    assert run.status == "waiting"
    driver.advance(59)
    assert run.status == "waiting"
    driver.advance(2)
    assert (run.status, run.output) == ("completed", False)
