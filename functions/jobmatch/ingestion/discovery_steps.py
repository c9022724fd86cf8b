"""Step bodies of company discovery: JSON in, own session, small JSON out.

Progress lives in `discovery_cursors` (crawl, host -> next page), advanced in the
same transaction that inserts a page's new companies, so a run that dies after
any page is continued by the next run from the page after it, and a page
replayed by a retry finds the cursor past it and changes nothing. New companies
are inserted inactive; the ingest run that first fetches their board activates
them (or records why not).
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import DiscoveryCursor
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import legacy_step_body
from jobmatch.ingestion import repository
from jobmatch.ingestion.discovery import CdxClient, distinct_boards
from jobmatch.settings import Settings


@legacy_step_body
def latest_crawl(settings: Settings, http: httpx.Client) -> str:
    """The newest crawl's id (one request: collinfo.json is rate-limited hard)."""
    return CdxClient(http, settings).latest_crawl(_fetch_deadline(settings))


def _fetch_deadline(settings: Settings) -> Deadline:
    """One index request's part of the step's deadline (the rest is for the save)."""
    return Deadline.after(settings.step_budget_seconds).part(settings.cdx_page_budget_seconds)


@legacy_step_body
def host_cursor(crawl: str, host: str, settings: Settings, http: httpx.Client) -> dict[str, int]:
    """Where this host stands in this crawl: {pages, next}. The first time, the page
    count is asked for and saved with the cursor at 0."""
    with session_scope() as session:
        row = session.get(DiscoveryCursor, (crawl, host))
        if row is not None:
            return {"pages": row.pages, "next": row.next_page}
    pages = CdxClient(http, settings).page_count(crawl, host, _fetch_deadline(settings))
    with session_scope() as session:
        session.execute(
            insert(DiscoveryCursor)
            .values(crawl_id=crawl, host=host, pages=pages, next_page=0)
            .on_conflict_do_nothing()
        )
        row = session.get(DiscoveryCursor, (crawl, host))
        assert row is not None
        return {"pages": row.pages, "next": row.next_page}


@legacy_step_body
def discover_page(
    crawl: str, host: str, page: int, settings: Settings, http: httpx.Client
) -> dict[str, Any]:
    """Read one index page, add the companies not known yet (inactive), move the
    cursor past the page: {added: [company ids], boards, rejected, end}."""
    with session_scope() as session:
        done = session.scalar(
            select(DiscoveryCursor.next_page).where(
                DiscoveryCursor.crawl_id == crawl, DiscoveryCursor.host == host
            )
        )
    if done is not None and done > page:
        return {"added": [], "boards": 0, "rejected": 0, "end": False}
    urls = CdxClient(http, settings).page_urls(crawl, host, page, _fetch_deadline(settings))
    boards, rejected = distinct_boards(urls or [])
    rows = [
        {
            "name": b.token,
            "provider": b.provider,
            "board_token": b.token,
            "region": b.region,
            "discovered_via": f"commoncrawl:{crawl}",
            "active": False,
        }
        for b in boards
    ]
    with session_scope() as session:
        added = [c["id"] for c in repository.insert_companies(session, rows)]
        values: dict[str, Any] = {
            "next_page": page + 1,
            "companies_added": DiscoveryCursor.companies_added + len(added),
        }
        if urls is None:  # past the index's end: this host is done
            values["pages"] = page
            values["next_page"] = page
        session.execute(
            update(DiscoveryCursor)
            .where(
                DiscoveryCursor.crawl_id == crawl,
                DiscoveryCursor.host == host,
                DiscoveryCursor.next_page == page,
            )
            .values(**values)
        )
    return {"added": added, "boards": len(boards), "rejected": rejected, "end": urls is None}
