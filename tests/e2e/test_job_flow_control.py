"""The job pipeline's flow control, enforced by the harness from what each function
registers: each test fails when its setting is removed or keyed differently.

- `ingest-company`: concurrency per provider, a throttle per provider, and at most
  one fetch of a board per window (rate limit keyed by company);
- `extract-job-skills` / `extract-skills-chunk`: at most N at once (Bedrock);
- `weekly-company-discovery`: one run at a time (the continuation and the cron
  queue behind a running discovery).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.job_boards import FakeJobBoards
from tests import matching_data as make
from tests.jobboards_support import add_company, board_json, board_settings, fixture_boards

pytestmark = pytest.mark.e2e

DriverFor = Callable[[Dependencies], InngestDriver]
INGEST = "jobs/ingest-company"


@pytest.fixture
def boards(db: None) -> Iterator[FakeJobBoards]:
    with fixture_boards() as server:
        yield server


def many_boards(boards: FakeJobBoards, count: int) -> list[dict[str, Any]]:
    """`count` Ashby and `count` Lever companies with boards; their ingest events."""
    events = []
    for i in range(count):
        for provider, fixture in (("ashby", "ashby_board.json"), ("lever", "lever_postings.json")):
            token = f"{provider}-{i}"
            boards.add_board(provider, token, board_json(fixture))
            company = add_company(provider, token)
            events.append(new_event(INGEST, {"companyId": company, "provider": provider}))
    return events


def ingest_driver(
    driver_for: DriverFor, settings: Settings, boards: FakeJobBoards, **limits: object
) -> InngestDriver:
    return driver_for(Dependencies(board_settings(settings, boards, **limits)))


def test_each_provider_has_its_own_concurrency_limit(
    driver_for: DriverFor, settings: Settings, boards: FakeJobBoards
) -> None:
    driver = ingest_driver(
        driver_for,
        settings,
        boards,
        ingest_concurrency_per_provider=2,
        ingest_per_minute_per_provider=1000,
    )
    runs = driver.send_events(many_boards(boards, 6))
    ingests = [r for r in runs if r.function_id.endswith("ingest-company")]
    assert Counter(r.status for r in ingests) == {"completed": 12}
    assert driver.max_concurrency("ingest-company", key="ashby") == 2
    assert driver.max_concurrency("ingest-company", key="lever") == 2
    assert driver.max_concurrency("ingest-company") == 4  # the providers do not wait on each other


def test_each_provider_is_throttled_apart(
    driver_for: DriverFor, settings: Settings, boards: FakeJobBoards
) -> None:
    driver = ingest_driver(
        driver_for,
        settings,
        boards,
        ingest_concurrency_per_provider=50,
        ingest_per_minute_per_provider=5,
    )
    runs = driver.send_events(many_boards(boards, 10))
    ingests = [r for r in runs if r.function_id.endswith("ingest-company")]
    assert Counter(r.status for r in ingests) == {"completed": 20}  # queued, never dropped
    for provider in ("ashby", "lever"):
        starts = sorted(
            r.started_at or 0 for r in ingests if r.event["data"]["provider"] == provider
        )
        busiest = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)
        assert busiest <= 5 + 2  # five a minute after a small burst
        assert starts[-1] >= 60  # the tenth waited into the next minutes
    every = sorted(r.started_at or 0 for r in ingests)
    both = max(sum(1 for t in every if s <= t < s + 60) for s in every)
    assert both >= 10  # each provider has its own five a minute, at the same time


def test_a_board_is_fetched_once_per_window(
    driver_for: DriverFor, settings: Settings, boards: FakeJobBoards
) -> None:
    driver = ingest_driver(driver_for, settings, boards, ingest_min_minutes_between_fetches=30)
    lumen = add_company("ashby", "lumenfield")
    kestrel = add_company("lever", "kestrelworks")
    burst = [new_event(INGEST, {"companyId": lumen, "provider": "ashby"}) for _ in range(3)]
    burst.append(new_event(INGEST, {"companyId": kestrel, "provider": "lever"}))

    driver.send_events(burst)

    runs = driver.runs_of("ingest-company")
    by_company = {
        c: Counter(r.status for r in runs if r.event["data"]["companyId"] == c)
        for c in (lumen, kestrel)
    }
    assert by_company == {lumen: {"completed": 1, "skipped": 2}, kestrel: {"completed": 1}}
    assert len(boards.requests_for("/ashby/posting-api/job-board/lumenfield")) == 1
    driver.advance(31 * 60)
    driver.send(INGEST, {"companyId": lumen, "provider": "ashby"})
    assert len(driver.runs_of("ingest-company", "completed")) == 3


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("extract-job-skills", "job/extract-skills"),
        ("extract-skills-chunk", "skills/extract-chunk"),
    ],
)
def test_skill_extraction_runs_at_most_five_at_once(
    driver_for: DriverFor, settings: Settings, db: None, function: str, event: str
) -> None:
    with session_scope() as session:
        jobs = [make.job(session, None, embed=False).id for _ in range(12)]
    key = "jobId" if event == "job/extract-skills" else "jobIds"
    events = [new_event(event, {key: j if key == "jobId" else [j]}) for j in jobs]
    driver = driver_for(Dependencies(settings.model_copy(update={"skill_extract_concurrency": 5})))

    runs = driver.send_events(events)

    assert Counter(r.status for r in runs) == {"completed": 12}
    assert driver.max_concurrency(function) == 5


def test_discovery_runs_one_at_a_time(
    driver_for: DriverFor, settings: Settings, boards: FakeJobBoards
) -> None:
    driver = ingest_driver(driver_for, settings, boards)
    events = [new_event("companies/discovery.requested", {}) for _ in range(2)]

    driver.send_events(events)

    runs = driver.runs_of("weekly-company-discovery")
    assert [r.status for r in runs] == ["completed", "completed"]
    assert driver.max_concurrency("weekly-company-discovery") == 1
    first, second = sorted(runs, key=lambda r: r.start_order or 0)
    assert (second.started_at or 0) >= (first.ended_at or 0)  # queued behind, not interleaved
    assert second.output["pages"] == 0
