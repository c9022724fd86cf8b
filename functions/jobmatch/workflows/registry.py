"""Every Inngest function the app serves, in one list."""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.workflows import matching, notifications, tenders


def all_functions() -> list[inngest.Function[Any]]:
    """The functions served at /api/inngest; each family module lists its own."""
    return [*matching.FUNCTIONS, *tenders.FUNCTIONS, *notifications.FUNCTIONS]


def function_ids() -> list[str]:
    """The ids Inngest knows the served functions by (`<app id>-<fn id>`, and
    `<...>-failure` for on-failure handlers): what a sync must register, exactly.
    The deploy workflow checks the deployed app against this list."""
    return sorted(fid for fn in all_functions() for fid in (fn.id, fn.on_failure_fn_id) if fid)
