"""Company discovery end to end: a fake Common Crawl index (collinfo.json, the CDX
API with pages) and fake boards on 127.0.0.1, the handler driven like Inngest."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from jobmatch.db.models import Company, DiscoveryCursor, Job
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.job_boards import FakeJobBoards, Fault
from tests.jobboards_support import CRAWL, FIXTURE_JOBS, add_company, board_settings, fixture_boards

pytestmark = pytest.mark.e2e

DISCOVER = "companies/discovery.requested"
NEW_BOARDS = {
    ("ashby", "lumenfield"),
    ("ashby", "orbit-health"),
    ("ashby", "tessera-labs"),
    ("greenhouse", "globex"),
    ("greenhouse", "stadtwerk-digital"),
    ("greenhouse", "quillon"),
    ("lever", "kestrelworks"),
    ("lever", "nordlicht-energie"),
    ("lever", "vantage-robotics"),
}
SERVED = {"lumenfield", "kestrelworks", "nordlicht-energie"}  # boards that exist


@pytest.fixture
def boards(db: None) -> Iterator[FakeJobBoards]:
    with fixture_boards() as server:
        yield server


@pytest.fixture
def driver(
    driver_for: Callable[[Dependencies], InngestDriver], settings: Settings, boards: FakeJobBoards
) -> InngestDriver:
    return driver_for(Dependencies(board_settings(settings, boards)))


def discovered() -> dict[tuple[str, str], Company]:
    with session_scope() as session:
        return {
            (c.provider, c.board_token.lower()): c
            for c in session.scalars(select(Company).where(Company.discovered_via != "test"))
        }


def cursors() -> dict[str, tuple[int, int]]:
    with session_scope() as session:
        rows = session.scalars(select(DiscoveryCursor).where(DiscoveryCursor.crawl_id == CRAWL))
        return {c.host: (c.next_page, c.pages) for c in rows}


def page_requests(boards: FakeJobBoards, host: str, page: int) -> int:
    return len(boards.requests_for(f"url={host}%2F%2A&output=json&fl=url&page={page}"))


def test_discovery_adds_new_companies_once_and_their_first_fetch_decides(
    driver: InngestDriver, boards: FakeJobBoards
) -> None:
    known = add_company("greenhouse", "BrightPath")  # known already, in another case

    run = driver.run_cron("weekly-company-discovery")

    assert run.status == "completed", run.error
    assert run.output["crawl"] == CRAWL
    assert run.output["added"] == len(NEW_BOARDS)
    found = discovered()
    assert set(found) == NEW_BOARDS
    assert found[("greenhouse", "stadtwerk-digital")].region == "eu"
    assert found[("lever", "nordlicht-energie")].region == "eu"
    assert {c.discovered_via for c in found.values()} == {f"commoncrawl:{CRAWL}"}
    # Each new company was probed once: boards that exist are active with their jobs,
    # the others stay inactive with the reason.
    probes = driver.runs_of("ingest-company")
    assert sorted(r.event["data"]["companyId"] for r in probes) == sorted(
        c.id for c in found.values()
    )
    for (_provider, token), company in found.items():
        assert company.active == (token in SERVED), token
        assert (company.last_error is None) == (token in SERVED), token
    with session_scope() as session:
        stored = len(session.scalars(select(Job.id)).all())
    assert stored == sum(FIXTURE_JOBS[t] for t in SERVED)
    assert all(next_page == pages for next_page, pages in cursors().values())
    assert cursors()["boards.eu.greenhouse.io"] == (0, 0)  # no captures: nothing to read
    assert run.step_ids.count("latest-crawl") == 1
    with session_scope() as session:
        brightpath = session.get(Company, known)
        assert brightpath is not None
        assert brightpath.discovered_via == "test"

    # Next week, same crawl: every cursor is done, no page is read again.
    before = len(boards.requests)
    again = driver.send(DISCOVER, {"crawlId": CRAWL})
    [rerun] = [r for r in again if r.function_id.endswith("weekly-company-discovery")]
    assert rerun.output == {"crawl": CRAWL, "pages": 0, "added": 0, "done": True}
    assert len(boards.requests) == before
    assert set(discovered()) == NEW_BOARDS


def test_discovery_resumes_after_a_crash_from_the_last_page_saved(
    driver: InngestDriver, boards: FakeJobBoards
) -> None:
    boards.fail_always("cdx", "jobs.lever.co:1", Fault(503))

    crashed = driver.run_cron("weekly-company-discovery")

    assert crashed.status == "failed"
    assert cursors()["jobs.lever.co"] == (1, 2)  # page 0 saved, page 1 not
    assert ("lever", "kestrelworks") in discovered()
    assert ("lever", "vantage-robotics") not in discovered()
    assert "jobs.eu.lever.co" not in cursors()  # never reached
    ashby_before = discovered()[("ashby", "lumenfield")].id

    boards.heal()
    resumed = driver.send(DISCOVER, {})
    [run] = [r for r in resumed if r.function_id.endswith("weekly-company-discovery")]

    assert run.status == "completed", run.error
    assert page_requests(boards, "jobs.lever.co", 0) == 1  # not read again
    assert page_requests(boards, "jobs.ashbyhq.com", 1) == 1
    assert set(discovered()) == {*NEW_BOARDS, ("greenhouse", "brightpath")}
    assert discovered()[("ashby", "lumenfield")].id == ashby_before
    assert [s for s in run.step_ids if s.startswith("page-")] == [
        "page-jobs.lever.co-1",
        "page-jobs.eu.lever.co-0",
        "page-jobs.eu.lever.co-1",
    ]
