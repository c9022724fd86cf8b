"""Shared by the tender tests: the recorded feed, served, and settings pointing at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobmatch_devkit.ocds_publisher import OCDSPublisher, load_fixture_releases

if TYPE_CHECKING:
    from jobmatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "ocds"
# Published OCDS 1.0 and 1.1 release packages (provenance in its README.md).
STANDARD_EXAMPLES = FIXTURES / "standard"
# The ocids the recorded feed compiles to. 100107 (an amount of "about one
# million"), 100108 (an empty endDate) and 100109 (currency "Rand") are dirty and
# kept; 100110's only release has no date: malformed, skipped.
FIXTURE_OCIDS = {f"ocds-9t57fa-1001{n:02d}" for n in range(1, 10)}
FIXTURE_RELEASES = 13
FIXTURE_INVALID_FIELDS = {
    "tender.tenderPeriod.endDate": 1,
    "tender.value.amount": 1,
    "tender.value.currency": 1,
}


def standard_releases(name: str) -> list[dict[str, Any]]:
    """The releases of one published package under `STANDARD_EXAMPLES`, as sent."""
    releases: list[dict[str, Any]] = json.loads((STANDARD_EXAMPLES / name).read_text())["releases"]
    assert all(isinstance(r, dict) for r in releases)
    return releases


def fixture_publisher(*, page_counts: bool = True) -> OCDSPublisher:
    """The recorded March 2025 feed (13 releases, 9 tenders, one malformed release)."""
    return OCDSPublisher(load_fixture_releases(FIXTURES), page_counts=page_counts)


def tender_settings(settings: Settings, publisher: OCDSPublisher, **overrides: object) -> Settings:
    """`settings` pointed at `publisher`: small pages, fast backoff (and `overrides`)."""
    return settings.model_copy(
        update={
            "ocds_base_url": publisher.url,
            "ocds_page_size": 4,
            "ocds_pagination": "page",
            "ocds_releases_path": "/api/OCDSReleases",
            "ocds_backoff_seconds": 0.01,
            "ocds_max_attempts": 4,
            "ocds_page_budget_seconds": 10.0,
            "tender_sync_max_window_days": 31,
            **overrides,
        }
    )
