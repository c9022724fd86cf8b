"""Every Inngest function the app serves, in one list."""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.workflows import (
    alerts,
    discovery,
    engagement,
    jobs,
    matching,
    notifications,
    outbox,
    roles,
    skills,
    tenders,
)


def create_all_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The functions served at /api/inngest; each family module creates its own."""
    return [
        *matching.create_functions(deps),
        *tenders.create_functions(deps),
        *notifications.create_functions(deps),
        *engagement.create_functions(deps),
        *alerts.create_functions(deps),
        *roles.create_functions(deps),
        *jobs.create_functions(deps),
        *skills.create_functions(deps),
        *discovery.create_functions(deps),
        *outbox.create_functions(deps),
    ]


def function_ids(deps: Dependencies) -> list[str]:
    """The ids Inngest knows the served functions by (`<app id>-<fn id>`, and
    `<...>-failure` for on-failure handlers): what a sync must register, exactly.
    The deploy workflow checks the deployed app against this list."""
    functions = create_all_functions(deps)
    return sorted(fid for fn in functions for fid in (fn.id, fn.on_failure_fn_id) if fid)
