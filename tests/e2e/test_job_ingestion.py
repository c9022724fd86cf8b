"""Board ingestion end to end: fake Ashby, Greenhouse and Lever APIs on 127.0.0.1
serving postings of the real APIs' shapes, the Lambda handler driven like Inngest,
the real database."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import Company, Job
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.job_boards import FakeJobBoards, Fault
from tests.conftest import TEST_API_KEY
from tests.jobboards_support import (
    FIXTURE_JOBS,
    add_company,
    add_fixture_companies,
    board_json,
    board_settings,
    fixture_boards,
)

pytestmark = pytest.mark.e2e

INGEST = "jobs/ingest-company"
DriverFor = Callable[[Dependencies], InngestDriver]


@pytest.fixture
def boards(db: None) -> Iterator[FakeJobBoards]:
    with fixture_boards() as server:
        yield server


@pytest.fixture
def deps(settings: Settings, boards: FakeJobBoards) -> Dependencies:
    return Dependencies(board_settings(settings, boards))


@pytest.fixture
def driver(driver_for: DriverFor, deps: Dependencies) -> InngestDriver:
    return driver_for(deps)


def jobs() -> list[Job]:
    with session_scope() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def companies() -> dict[str, Company]:
    with session_scope() as session:
        return {c.board_token: c for c in session.scalars(select(Company))}


def sent(event_api: EventAPI, name: str) -> list[dict[str, Any]]:
    return [e["data"] for e in event_api.received() if e["name"] == name]


def ingest(driver: InngestDriver, company_id: int, provider: str) -> Any:
    [run] = [
        r
        for r in driver.send(INGEST, {"companyId": company_id, "provider": provider})
        if r.function_id.endswith("ingest-company")
    ]
    return run


def test_hourly_run_ingests_every_active_board_and_announces_its_new_jobs(
    driver: InngestDriver, event_api: EventAPI
) -> None:
    ids = add_fixture_companies()
    add_company("greenhouse", "dormant", active=False)  # inactive: not fetched

    hourly = driver.run_cron("hourly-job-ingestion")

    assert hourly.status == "completed", hourly.error
    assert hourly.output == {"companies": 4}
    runs = driver.runs_of("ingest-company")
    assert Counter(r.status for r in runs) == {"completed": 4}
    stored = jobs()
    by_company = Counter(j.company_id for j in stored)
    assert by_company == {ids[token]: n for token, n in FIXTURE_JOBS.items()}
    assert all(j.status == "active" and j.last_seen_at is not None for j in stored)
    # Each board's new jobs, once, to both consumers, as the alerting side reads them.
    new_batches = sent(event_api, "jobs/new-batch")
    assert sorted(b["source"] for b in new_batches) == ["ashby", "greenhouse", "lever", "lever"]
    assert sorted(i for b in new_batches for i in b["jobIds"]) == [j.id for j in stored]
    imported = sent(event_api, "jobs/imported")
    assert sorted(i for b in imported for i in b["job_ids"]) == [j.id for j in stored]
    assert all(j.announced_at is not None for j in jobs())
    assert len(driver.runs_of("match-jobs-to-candidates", "completed")) == 4
    assert len(driver.runs_of("alert-new-jobs", "completed")) == 4  # the alerting side read them
    known = companies()
    assert all(known[t].last_fetched_at is not None for t in ids)
    assert all(known[t].last_error is None for t in ids)
    assert known["dormant"].last_fetched_at is None
    assert max(r.max_response_bytes for r in runs) < 64 * 1024


def test_a_second_hourly_run_in_the_same_hour_starts_no_fetch(driver: InngestDriver) -> None:
    add_fixture_companies()
    driver.run_cron("hourly-job-ingestion")
    again = driver.run_cron("hourly-job-ingestion")
    assert again.status == "completed"
    assert len(driver.runs_of("ingest-company")) == 4  # the same event ids: dropped
    assert len(driver.duplicates) == 4


def test_ingesting_twice_stores_nothing_twice_and_announces_only_new_jobs(
    driver: InngestDriver, boards: FakeJobBoards, event_api: EventAPI
) -> None:
    ids = add_fixture_companies()
    for token, cid in ids.items():
        ingest(driver, cid, companies()[token].provider)
    first = {j.job_hash: j.id for j in jobs()}
    event_api.reset()

    # An hour later Lever's board has one posting more and one fewer.
    postings = board_json("lever_postings.json")
    gone = postings.pop(2)
    fresh = copy.deepcopy(postings[0])
    fresh["id"] = "77777777-4b7d-4e3f-9a6c-1d2e3f4a5b6c"
    fresh["text"] = "Staff Frontend Engineer"
    boards.add_board("lever", "kestrelworks", [*postings, fresh])
    driver.advance(3600)
    runs = [ingest(driver, cid, companies()[token].provider) for token, cid in ids.items()]

    assert [r.status for r in runs] == ["completed"] * 4
    after = jobs()
    assert len(after) == len(first) + 1
    assert {j.job_hash: j.id for j in after if j.job_hash in first} == first
    [new] = [j for j in after if j.job_hash not in first]
    assert new.title == "Staff Frontend Engineer"
    assert sent(event_api, "jobs/new-batch") == [{"jobIds": [new.id], "source": "lever"}]
    assert [e["job_ids"] for e in sent(event_api, "jobs/imported")] == [[new.id]]
    # The posting that left the board is closed, not deleted.
    [closed] = [j for j in after if j.external_url and gone["id"] in j.external_url]
    assert (closed.status, closed.vanished_at is not None) == ("closed", True)
    assert Counter(j.status for j in after) == {"active": len(after) - 1, "closed": 1}
    [lever_run] = [r for r in runs if r.output["provider"] == "lever" and r.output["vanished"]]
    assert lever_run.output["created"] == 1


def test_failing_boards_record_their_error_and_the_others_are_ingested(
    driver: InngestDriver, boards: FakeJobBoards, event_api: EventAPI
) -> None:
    ok = add_company("lever", "nordlicht-energie", region="eu")
    down = add_company("ashby", "lumenfield")
    slow = add_company("greenhouse", "brightpath")
    broken = add_company("lever", "kestrelworks")
    bad_shape = add_company("ashby", "odd-envelope")
    gone = add_company("lever", "left-lever")
    dirty = add_company("ashby", "dirty-postings")
    boards.fail_always("ashby", "lumenfield", Fault(503))
    boards.fail("greenhouse", "brightpath", Fault(429, retry_after="120"))
    boards.fail("lever", "kestrelworks", Fault(broken=True))
    boards.add_board("ashby", "odd-envelope", board_json("ashby_board_malformed_envelope.json"))
    boards.add_board("ashby", "dirty-postings", board_json("ashby_board_malformed.json"))

    driver.run_cron("hourly-job-ingestion")

    runs = {r.event["data"]["companyId"]: r for r in driver.runs_of("ingest-company")}
    known = {c.id: c for c in companies().values()}
    # Others are stored whatever happens to one board.
    assert runs[ok].status == "completed"
    assert runs[dirty].status == "completed"
    assert runs[dirty].output["malformed"] == 10
    assert runs[dirty].output["postings"] == 1
    # 5xx: retried by the client, then by Inngest, then the run fails; error kept.
    assert runs[down].status == "failed"
    assert runs[down].retries == 3
    assert "HTTP 503" in (known[down].last_error or "")
    assert known[down].active
    # 429 with a Retry-After longer than a step: Inngest retries when it says.
    assert runs[slow].status == "completed"
    assert runs[slow].retry_after
    assert known[slow].last_error is None
    assert len(boards.requests_for("/greenhouse/v1/boards/brightpath/jobs")) == 2
    # Broken JSON, a wrong envelope: not retried, recorded; an unknown board: deactivated.
    for company, words in ((broken, "invalid JSON"), (bad_shape, "no jobs list")):
        assert runs[company].status == "failed"
        assert runs[company].retries == 0
        assert words in (known[company].last_error or "")
        assert known[company].active
    assert runs[gone].status == "failed"
    assert "404" in (known[gone].last_error or "")
    assert not known[gone].active
    counts = Counter(j.company_id for j in jobs())
    assert counts == {ok: 1, dirty: 1, slow: 4}
    assert sorted(b["source"] for b in sent(event_api, "jobs/new-batch")) == [
        "ashby",
        "greenhouse",
        "lever",
    ]


def test_a_job_seen_through_the_import_route_and_its_board_is_one_row(
    driver: InngestDriver, deps: Dependencies, event_api: EventAPI
) -> None:
    posting = board_json("greenhouse_jobs.json")["jobs"][0]
    api = ApiClient(driver.handler, api_key=TEST_API_KEY)
    response = api.post(
        "/api/jobs/import",
        {
            "source": "greenhouse",
            "jobs": [
                {"external_id": str(posting["id"]), "title": posting["title"], "company": "BP"}
            ],
        },
    )
    assert response.status == 201, response.body
    [scraped_id] = response.json()["job_ids"]
    driver.drain()
    event_api.reset()

    company = add_company("greenhouse", "brightpath")
    run = ingest(driver, company, "greenhouse")

    assert run.status == "completed", run.error
    stored = jobs()
    assert len(stored) == FIXTURE_JOBS["brightpath"]
    [same] = [j for j in stored if j.id == scraped_id]
    assert same.company_id == company  # the board now owns it; the row is the scraper's
    [batch] = sent(event_api, "jobs/new-batch")
    assert scraped_id not in batch["jobIds"]  # announced once, by the route
    assert len(batch["jobIds"]) == FIXTURE_JOBS["brightpath"] - 1
