"""Every Inngest function the app serves, in one list."""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.workflows import matching, notifications, tenders


def all_functions() -> list[inngest.Function[Any]]:
    """The functions served at /api/inngest; each family module lists its own."""
    return [*matching.FUNCTIONS, *tenders.FUNCTIONS, *notifications.FUNCTIONS]
