"""Company discovery in PostgreSQL: the boards a crawl turned up, inserted as
inactive companies, and how far discovery got through each host's index pages.
Every function runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import Company, DiscoveryCursor
from jobmatch.discovery.crawl import BoardRef


@dataclass(frozen=True)
class HostCursor:
    """How far discovery got through one host's index pages in one crawl."""

    pages: int
    next_page: int


def insert_discovered(uow: Session, boards: Sequence[BoardRef], crawl: str) -> list[int]:
    """Insert the boards found in `crawl` as inactive companies, unless their
    (provider, token) is known in any letter case; the ids of those inserted."""
    if not boards:
        return []
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
    return list(
        uow.scalars(insert(Company).values(rows).on_conflict_do_nothing().returning(Company.id))
    )


def host_cursor(uow: Session, crawl: str, host: str) -> HostCursor | None:
    """Where discovery stands on `host` in `crawl`, or None before its first look."""
    row = uow.get(DiscoveryCursor, (crawl, host))
    return None if row is None else HostCursor(row.pages, row.next_page)


def start_host(uow: Session, crawl: str, host: str, pages: int) -> HostCursor:
    """Save a host's page count with the cursor at 0 (unless a concurrent first look
    saved it already); the cursor as saved."""
    uow.execute(
        insert(DiscoveryCursor)
        .values(crawl_id=crawl, host=host, pages=pages, next_page=0)
        .on_conflict_do_nothing()
    )
    cursor = host_cursor(uow, crawl, host)
    assert cursor is not None
    return cursor


def next_page(uow: Session, crawl: str, host: str) -> int | None:
    """The next page to read of `host` in `crawl` (None: no cursor yet)."""
    return uow.scalar(
        select(DiscoveryCursor.next_page).where(
            DiscoveryCursor.crawl_id == crawl, DiscoveryCursor.host == host
        )
    )


def page_read(uow: Session, crawl: str, host: str, page: int, added: int, *, end: bool) -> None:
    """Move the cursor past `page` (if it still stands on it) and count the companies
    it added; `end`: the page was past the index's end, the host is done."""
    values: dict[str, Any] = {
        "next_page": page if end else page + 1,
        "companies_added": DiscoveryCursor.companies_added + added,
    }
    if end:
        values["pages"] = page
    uow.execute(
        update(DiscoveryCursor)
        .where(
            DiscoveryCursor.crawl_id == crawl,
            DiscoveryCursor.host == host,
            DiscoveryCursor.next_page == page,
        )
        .values(**values)
    )
