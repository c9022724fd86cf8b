"""Every Inngest function the app serves, in one list."""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.workflows import matching, notifications, tenders


def create_all_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The functions served at /api/inngest; each family module creates its own."""
    return [
        *matching.create_functions(deps),
        *tenders.create_functions(deps),
        *notifications.create_functions(deps),
    ]
