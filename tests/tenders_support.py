"""Shared by the tender tests: the recorded feed, served, and settings pointing at it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch_devkit.ocds_publisher import OCDSPublisher, load_fixture_releases

if TYPE_CHECKING:
    from jobmatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "ocds"
# The valid ocids of the recorded feed (100107's only release is malformed).
FIXTURE_OCIDS = {f"ocds-9t57fa-1001{n:02d}" for n in range(1, 10)} - {"ocds-9t57fa-100107"}


def fixture_publisher(*, page_counts: bool = True) -> OCDSPublisher:
    """The recorded March 2025 feed (12 releases, 8 tenders, one malformed release)."""
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
