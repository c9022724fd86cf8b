"""Which users a batch-matching request names, and the events that match them.

`matching/perform` is the one matching event for free-signup users; a batch is
one event per user (Inngest runs them in parallel and retries each on its own),
premium first and flagged `premium` so the function's priority expression puts
them ahead in the queue.
"""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events.matching import MatchingContext, PerformMatching
from jobmatch.users import store as users
from jobmatch.users.store import UserRef


class UnknownUsersError(LookupError):
    """Some ids or emails name no user; nothing is sent."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"unknown users: {', '.join(missing[:20])}")
        self.missing = missing


def resolve_users(uow: UnitOfWork, ids: list[int], emails: list[str]) -> list[UserRef]:
    """The named users (ids and lower-cased emails), premium first, in one query."""
    if not ids and not emails:
        return []
    found = users.by_ids_or_emails(uow, ids, emails)
    found_ids = {u.id for u in found}
    found_emails = {u.email for u in found}
    missing = [str(i) for i in ids if i not in found_ids] + [
        e for e in emails if e not in found_emails
    ]
    if missing:
        raise UnknownUsersError(missing)
    return sorted(found, key=lambda u: (not u.is_premium, u.id))


def matching_event(
    user_id: int,
    premium: bool,
    *,
    source: str,
    request_id: str,
    notify: bool = False,
    event_id: str | None = None,
) -> inngest.Event:
    """`matching/perform` for one user, by user id rather than a copy of the
    preferences and jobs: the run reads them fresh from Postgres. `notify` asks for
    the completion email / webhook after the run saved its matches; `event_id`
    makes a resend of the same event a no-op for Inngest."""
    fields: dict[str, Any] = {"source": source, "request_id": request_id}
    if notify:  # left out otherwise, like every default on the wire
        fields["notify"] = True
    context = MatchingContext.model_validate(fields)
    event = PerformMatching(user_id=user_id, premium=premium, context=context)
    return event.to_event(id=event_id)
