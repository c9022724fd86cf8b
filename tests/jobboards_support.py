"""Shared by the job pipeline tests: the board and index fixtures, served by one
fake on 127.0.0.1, settings pointing at it, and rows the tests start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobmatch_devkit.job_boards import FakeJobBoards

if TYPE_CHECKING:
    from jobmatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
BOARDS = FIXTURES / "jobboards"
CDX = FIXTURES / "cdx"
CRAWL = "CC-MAIN-2025-33"

# The boards the fixtures belong to, and how many jobs each yields (postings kept
# after the unlisted Ashby one and the Greenhouse prospect post are excluded).
FIXTURE_BOARDS: dict[tuple[str, str], str] = {
    ("ashby", "lumenfield"): "ashby_board.json",
    ("greenhouse", "brightpath"): "greenhouse_jobs.json",
    ("lever", "kestrelworks"): "lever_postings.json",
    ("lever-eu", "nordlicht-energie"): "lever_postings_eu.json",
}
FIXTURE_JOBS = {"lumenfield": 5, "brightpath": 4, "kestrelworks": 5, "nordlicht-energie": 1}


def board_json(name: str) -> Any:
    """A board fixture's JSON."""
    return json.loads((BOARDS / name).read_text())


def index_pages() -> list[list[str]]:
    """The two recorded index pages, as NDJSON lines."""
    return [
        [line for line in (CDX / f"cdx_page{n}.ndjson").read_text().splitlines() if line]
        for n in (0, 1)
    ]


def fixture_boards() -> FakeJobBoards:
    """The fake serving every fixture board and the recorded index (not started)."""
    boards = FakeJobBoards()
    for (prefix, token), name in FIXTURE_BOARDS.items():
        boards.add_board(prefix, token, board_json(name))
    boards.set_index(json.loads((CDX / "cdx_collinfo.json").read_text()), index_pages())
    return boards


def board_settings(settings: Settings, boards: FakeJobBoards, **overrides: object) -> Settings:
    """`settings` pointed at the fake: fast backoff, no pause between index pages."""
    return settings.model_copy(
        update={
            **boards.api_urls(),
            "board_backoff_seconds": 0.01,
            "board_max_attempts": 3,
            "board_fetch_budget_seconds": 10.0,
            "cdx_backoff_seconds": 0.01,
            "cdx_pause_seconds": 0,
            **overrides,
        }
    )


def add_company(
    provider: str,
    token: str,
    *,
    name: str | None = None,
    region: str = "global",
    active: bool = True,
) -> int:
    """A company row; its id."""
    from jobmatch.db.models import Company
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        company = Company(
            name=name or token.title(),
            provider=provider,
            board_token=token,
            region=region,
            discovered_via="test",
            active=active,
        )
        session.add(company)
        session.flush()
        return company.id


def add_fixture_companies() -> dict[str, int]:
    """The four fixture boards as active companies: token -> id."""
    return {
        token: add_company(
            prefix.removesuffix("-eu"), token, region="eu" if prefix.endswith("-eu") else "global"
        )
        for prefix, token in FIXTURE_BOARDS
    }
