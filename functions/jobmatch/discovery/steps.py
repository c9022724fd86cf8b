"""Step bodies of company discovery: typed input in, one unit of work, small output.

Progress lives in `discovery_cursors` (crawl, host -> next page), advanced in the
same transaction that inserts a page's new companies, so a run that dies after
any page is continued by the next run from the page after it, and a page
replayed by a retry finds the cursor past it and changes nothing. New companies
are inserted inactive; the ingest run that first fetches their board activates
them (or records why not).
"""

from __future__ import annotations

from jobmatch.deadline import Deadline
from jobmatch.discovery import store
from jobmatch.discovery.crawl import CdxClient, distinct_boards
from jobmatch.settings import Settings
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body


class Host(StepInput):
    """One board host's index in one crawl."""

    crawl: str
    host: str


class Page(Host):
    """One index page of a host."""

    page: int


class HostPages(StepOutput):
    """Where a host stands in a crawl: its page count, and the next page to read."""

    pages: int
    next: int


class PageRead(StepOutput):
    """What one index page gave: the companies added, the boards named, the URLs
    naming none, and whether the page was past the index's end."""

    added: list[int]
    boards: int
    rejected: int
    end: bool


def _fetch_deadline(settings: Settings) -> Deadline:
    """One index request's part of the step's deadline (the rest is for the save)."""
    return Deadline.after(settings.step_budget_seconds).part(settings.cdx_page_budget_seconds)


@step_body
def latest_crawl(deps: StepDeps) -> str:
    """The newest crawl's id (one request: collinfo.json is rate-limited hard)."""
    return CdxClient(deps.fetch_http, deps.settings).latest_crawl(_fetch_deadline(deps.settings))


@step_body
def host_cursor(deps: StepDeps, inp: Host) -> HostPages:
    """Where this host stands in this crawl. The first time, the page count is asked
    for and saved with the cursor at 0."""
    with deps.unit_of_work() as uow:
        cursor = store.host_cursor(uow, inp.crawl, inp.host)
    if cursor is None:
        client = CdxClient(deps.fetch_http, deps.settings)
        pages = client.page_count(inp.crawl, inp.host, _fetch_deadline(deps.settings))
        with deps.unit_of_work() as uow:
            cursor = store.start_host(uow, inp.crawl, inp.host, pages)
    return HostPages(pages=cursor.pages, next=cursor.next_page)


@step_body
def discover_page(deps: StepDeps, inp: Page) -> PageRead:
    """Read one index page, add the companies not known yet (inactive), move the
    cursor past the page."""
    with deps.unit_of_work() as uow:
        done = store.next_page(uow, inp.crawl, inp.host)
    if done is not None and done > inp.page:
        return PageRead(added=[], boards=0, rejected=0, end=False)
    client = CdxClient(deps.fetch_http, deps.settings)
    urls = client.page_urls(inp.crawl, inp.host, inp.page, _fetch_deadline(deps.settings))
    boards, rejected = distinct_boards(urls or [])
    with deps.unit_of_work() as uow:
        added = store.insert_discovered(uow, boards, inp.crawl)
        # urls None: past the index's end, this host is done
        store.page_read(uow, inp.crawl, inp.host, inp.page, len(added), end=urls is None)
    return PageRead(added=added, boards=len(boards), rejected=rejected, end=urls is None)
