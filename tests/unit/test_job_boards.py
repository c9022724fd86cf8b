"""Board postings into the import shape, the board client's paging and retries,
and board tokens from Common Crawl index lines: no database, no network."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from jobmatch.deadline import Deadline
from jobmatch.discovery.crawl import board_ref, distinct_boards, latest_crawl
from jobmatch.ingestion.boards import Board, BoardClient, BoardMalformedError
from jobmatch.ingestion.html_text import html_to_text
from jobmatch.ingestion.postings import ashby_postings, greenhouse_postings, lever_postings
from jobmatch.jobs.importing import JobInput, job_hash
from jobmatch.outbound import UpstreamRejectedError, UpstreamUnavailableError
from jobmatch.settings import get_settings
from tests.jobboards_support import BOARDS, CDX, CRAWL, board_json, fixture_boards, index_pages


def by_id(jobs: list[Any]) -> dict[str, Any]:
    return {j.external_id: j for j in jobs}


def test_ashby_postings_keep_yearly_published_pay_and_skip_unlisted() -> None:
    board = ashby_postings(board_json("ashby_board.json"), "Lumenfield")
    assert board is not None
    assert (len(board.jobs), board.malformed, board.excluded) == (5, 0, 1)
    jobs = by_id(board.jobs)
    backend = jobs["3f9c2a71-8d4e-4b6a-9e21-5c7d0a1b2e34"]
    assert backend.source == "ashby"
    assert backend.company == "Lumenfield"
    assert backend.title == "Senior Backend Engineer (m/f/d) - Payments"
    assert (backend.country, backend.remote) == ("DE", False)  # Hybrid is not remote
    # Equity is listed first; the salary component is the one kept.
    assert (backend.salary_min, backend.salary_max, backend.currency) == (70000, 110000, "EUR")
    assert backend.posted_date == date(2025, 8, 4)
    assert backend.description.startswith("About the role\nYou will own the services")
    remote = jobs["7a1e4c92-0b3d-4f8e-a6c5-91d2e3f4a5b6"]
    assert (remote.remote, remote.country, remote.currency) == (True, "GB", "GBP")
    withheld = jobs["c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f"]  # employer hides the numbers
    assert (withheld.salary_min, withheld.salary_max) == (None, None)
    hourly = jobs["8e9fa0b1-c2d3-4e4f-9a5b-6c7d8e9f0a1b"]  # 1 HOUR: not a yearly salary
    assert (hourly.salary_min, hourly.currency) == (None, None)
    sparse = jobs["5b6c7d8e-9f01-4a23-b456-c789d0e1f2a3"]  # optional fields missing
    assert (sparse.country, sparse.remote, sparse.salary_min) == (None, False, None)


def test_greenhouse_content_is_unescaped_once_and_prospect_posts_are_excluded() -> None:
    board = greenhouse_postings(board_json("greenhouse_jobs.json"), "brightpath")
    assert board is not None
    assert (len(board.jobs), board.malformed, board.excluded) == (4, 0, 1)
    jobs = by_id(board.jobs)
    remote = jobs["7104455003"]
    assert remote.company == "BrightPath"  # the board's own name wins over the token
    assert remote.remote
    assert "<" not in remote.description
    assert "&lt;" not in remote.description
    german = jobs["7104470003"]
    assert "Österreich & der Schweiz." in german.description  # &amp;amp; -> &
    assert "&nbsp;" not in german.description
    assert german.country == "DE"
    pm = jobs["7104461003"]  # a currency_range custom field, amounts as strings
    assert (pm.salary_min, pm.salary_max, pm.currency, pm.country) == (150000, 185000, "USD", "US")
    assert pm.external_url == "https://www.brightpath.example/careers/open-roles?gh_jid=7104461003"
    assert pm.posted_date == date(2025, 8, 1)  # first_published, not updated_at
    intern = jobs["7104480003"]  # hourly pay only in the HTML: no salary
    assert intern.salary_min is None


def test_lever_postings_join_lists_and_keep_yearly_ranges() -> None:
    board = lever_postings(board_json("lever_postings.json"), "Kestrel Works")
    assert board is not None
    assert (len(board.jobs), board.malformed) == (5, 0)
    jobs = by_id(board.jobs)
    frontend = jobs["2c0f8e1a-4b7d-4e3f-9a6c-1d2e3f4a5b6c"]
    assert (frontend.country, frontend.salary_min, frontend.currency) == ("CA", 135000, "CAD")
    assert "What you'll do" in frontend.description
    assert "equal opportunity employer" in frontend.description
    assert frontend.posted_date == date(2025, 7, 31)  # createdAt in milliseconds
    assert jobs["5e3a1b4d-7c0f-4a6e-8b9d-4f5a6b7c8d9e"].remote
    assert jobs["8a6d4e7b-0f3c-4d9a-b2e1-7c8d9e0f1a2b"].salary_min is None  # per-hour-wage
    assert jobs["b9e7f0a1-2c3d-4e5f-8a9b-0c1d2e3f4a5b"].country is None


@pytest.mark.parametrize(
    ("fixture", "parse", "valid", "malformed"),
    [
        ("ashby_board_malformed.json", ashby_postings, 1, 10),
        ("greenhouse_jobs_malformed.json", greenhouse_postings, 1, 8),
        ("lever_postings_malformed.json", lever_postings, 1, 9),
    ],
)
def test_malformed_postings_are_skipped_and_counted(
    fixture: str, parse: Any, valid: int, malformed: int
) -> None:
    board = parse(board_json(fixture), "Acme")
    assert (len(board.jobs), board.malformed) == (valid, malformed)
    # Ids of postings still on the board are known even when malformed, so they are
    # not taken for postings that left.
    assert set(board.seen_ids) >= {j.external_id for j in board.jobs}


def test_the_whole_board_malformed_is_none() -> None:
    assert ashby_postings(board_json("ashby_board_malformed_envelope.json"), "A") is None
    assert lever_postings({"ok": False}, "A") is None


def test_text_postgresql_cannot_store_is_dropped_and_fields_fit_their_columns() -> None:
    posting = board_json("lever_postings.json")[0]
    posting["text"] = "Backend\x00 Engineer " + "x" * 400
    posting["descriptionPlain"] = "ok\ud800 text"
    [job] = lever_postings([posting], "Acme").jobs  # type: ignore[union-attr]
    assert "\x00" not in job.title
    assert len(job.title) == 300
    assert job.description.startswith("ok text")


def test_html_to_text_keeps_blocks_and_drops_scripts() -> None:
    html = "<h2>Role</h2><p>Build&nbsp;APIs</p><ul><li>Python</li><li>SQL</li></ul>"
    html += "<script>track()</script>"
    assert html_to_text(html) == "Role\n\nBuild APIs\n\n- Python\n- SQL"


def test_a_posting_has_the_import_route_s_hash() -> None:
    [job] = lever_postings([board_json("lever_postings.json")[1]], "Acme").jobs  # type: ignore[union-attr]
    scraped = JobInput(
        source="lever", title="Other", company="X", location="", external_id=job.external_id
    )
    assert job_hash(job) == job_hash(scraped)


# --------------------------------------------------------------------- the client
class Clock:
    """Monotonic time that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(handler: Any, **overrides: Any) -> tuple[BoardClient, Clock]:
    settings = get_settings().model_copy(
        update={"lever_page_size": 2, "board_backoff_seconds": 0.5, **overrides}
    )
    clock = Clock()
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return BoardClient(http, settings, sleep=clock.sleep), clock


def fetch(board_client: BoardClient, clock: Clock, board: Board) -> Any:
    """Fetch with the step's 12 s for the board."""
    return board_client.fetch(board, Deadline.after(12.0, clock))


def test_lever_is_read_page_by_page_until_a_short_page() -> None:
    postings = board_json("lever_postings.json")
    asked: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        skip, limit = int(request.url.params["skip"]), int(request.url.params["limit"])
        asked.append((request.url.params["skip"], request.url.params["limit"]))
        page = postings[skip : skip + limit]
        if skip == 2:  # the board changed while paging: a posting shows up twice
            page = [postings[1], *page[1:]]
        return httpx.Response(200, json=page)

    lever, clock = client(handler)
    fetched = fetch(lever, clock, Board(1, "Kestrel", "lever", "kestrelworks"))
    assert asked == [("0", "2"), ("2", "2"), ("4", "2")]
    assert fetched.complete
    assert len(fetched.postings.jobs) == 4  # one id twice, one missed: de-duplicated
    capped, clock = client(handler, lever_max_pages=2)
    assert not fetch(capped, clock, Board(1, "K", "lever", "kestrelworks")).complete


def test_retry_after_is_honoured_within_the_budget_and_handed_on_beyond_it() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"jobs": []}),
    ]
    ashby, clock = client(lambda request: answers.pop(0))
    fetch(ashby, clock, Board(1, "A", "ashby", "a"))
    assert clock.slept == [3.0]

    long_wait, clock = client(lambda request: httpx.Response(429, headers={"Retry-After": "600"}))
    with pytest.raises(UpstreamUnavailableError) as caught:
        fetch(long_wait, clock, Board(1, "A", "ashby", "a"))
    assert caught.value.retry_after == 600.0
    assert clock.slept == []

    down, clock = client(lambda request: httpx.Response(502), board_max_attempts=3)
    with pytest.raises(UpstreamUnavailableError, match="3 attempts"):
        fetch(down, clock, Board(1, "A", "greenhouse", "g"))
    assert len(clock.slept) == 2
    assert clock.slept[1] > clock.slept[0]  # exponential backoff
    slow, clock = client(lambda request: httpx.Response(503), board_backoff_seconds=5.0)
    with pytest.raises(UpstreamUnavailableError, match="2 attempts"):
        fetch(slow, clock, Board(1, "A", "greenhouse", "g"))  # 5 s, then 10 s > what is left
    assert len(clock.slept) == 1  # the second wait would end past the deadline
    assert clock.now < 12.0


def test_a_missing_board_and_a_broken_body_are_not_retried() -> None:
    calls: list[str] = []

    def missing(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(404, text="Not Found")

    gone, clock = client(missing)
    with pytest.raises(UpstreamRejectedError) as caught:
        fetch(gone, clock, Board(1, "A", "ashby", "a"))
    assert caught.value.status == 404
    assert len(calls) == 1
    broken, clock = client(lambda request: httpx.Response(200, text='{"jobs": ['))
    with pytest.raises(BoardMalformedError):
        fetch(broken, clock, Board(1, "A", "ashby", "a"))


def test_eu_boards_are_read_from_the_eu_hosts() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, json={"jobs": []} if "greenhouse" in request.url.host else [])

    eu, clock = client(handler)
    fetch(eu, clock, Board(1, "N", "lever", "nordlicht-energie", "eu"))
    fetch(eu, clock, Board(2, "S", "greenhouse", "stadtwerk-digital", "eu"))
    assert seen == ["api.eu.lever.co", "boards-api.eu.greenhouse.io"]


# ---------------------------------------------------------------- discovery tokens
def test_board_tokens_from_the_index_pages() -> None:
    [page0, page1] = index_pages()
    boards, rejected = distinct_boards(json.loads(line)["url"] for line in page0)
    found = {(b.provider, b.token.lower(), b.region) for b in boards}
    assert found == {
        ("ashby", "lumenfield", "global"),
        ("ashby", "orbit-health", "global"),
        ("greenhouse", "brightpath", "global"),
        ("greenhouse", "globex", "global"),
        ("greenhouse", "stadtwerk-digital", "eu"),
        ("lever", "kestrelworks", "global"),
        ("lever", "nordlicht-energie", "eu"),
    }
    assert rejected == 4  # robots.txt twice, Ashby's api, the greenhouse root
    more, _ = distinct_boards(json.loads(line)["url"] for line in page1)
    assert {b.token for b in more} - {b.token for b in boards} == {
        "tessera-labs",
        "quillon",
        "vantage-robotics",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://jobs.lever.co/",
        "https://jobs.lever.co/robots.txt",
        "https://boards.greenhouse.io/embed/job_board",
        "https://jobs.ashbyhq.com/%3Cscript%3E",
        "https://example.com/acme",
        "not a url at all",
    ],
)
def test_urls_that_name_no_board(url: str) -> None:
    assert board_ref(url) is None


def test_the_latest_crawl_is_the_highest_id_not_the_first() -> None:
    listed = json.loads((CDX / "cdx_collinfo.json").read_text())
    assert latest_crawl(listed) == "CC-MAIN-2025-33"
    assert latest_crawl(list(reversed(listed))) == "CC-MAIN-2025-33"
    assert latest_crawl([{"id": "CC-MAIN-2024-51"}, {"id": "CC-MAIN-2025-05"}]) == "CC-MAIN-2025-05"
    with pytest.raises(ValueError, match="no CC-MAIN"):
        latest_crawl({"not": "a list"})


def test_the_fake_boards_and_index_answer_errors_as_the_vendors_do() -> None:
    with fixture_boards() as fake:
        ashby = httpx.get(f"{fake.url}/ashby/posting-api/job-board/nobody")
        lever = httpx.get(f"{fake.url}/lever/v0/postings/nobody?mode=json")
        host = "boards.eu.greenhouse.io"
        none = httpx.get(f"{fake.url}/cdx/{CRAWL}-index", params={"url": f"{host}/*"})
        pages = httpx.get(
            f"{fake.url}/cdx/{CRAWL}-index",
            params={"url": "jobs.lever.co/*", "showNumPages": "true"},
        )
        past = httpx.get(
            f"{fake.url}/cdx/{CRAWL}-index", params={"url": "jobs.lever.co/*", "page": "2"}
        )
    assert (ashby.status_code, ashby.text) == (404, (BOARDS / "ashby_404.txt").read_text().strip())
    assert ashby.headers["content-type"] == "text/plain"
    assert (lever.status_code, lever.json()) == (404, board_json("lever_404.json"))
    recorded = json.loads((CDX / "cdx_404_no_captures.json").read_text())["message"]
    assert none.status_code == 404
    assert none.json()["message"] == recorded.replace("jobs.ashbyhq.com", host)
    assert set(pages.json()) == set(json.loads((CDX / "cdx_numpages.json").read_text()))
    assert (past.status_code, past.json()) == (
        400,
        json.loads((CDX / "cdx_400_page_invalid.json").read_text()),
    )
