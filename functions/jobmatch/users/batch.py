"""Which users a batch-matching request names, and the events that match them.

`matching/perform` is the one matching event for free-signup users; a batch is
one event per user (Inngest runs them in parallel and retries each on its own),
premium first and flagged `premium` so the function's priority expression puts
them ahead in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import inngest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jobmatch.db.models import User
from jobmatch.events.matching import MatchingContext, PerformMatching


class UnknownUsersError(LookupError):
    """Some ids or emails name no user; nothing is sent."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"unknown users: {', '.join(missing[:20])}")
        self.missing = missing


@dataclass(frozen=True)
class UserRef:
    """What a matching event needs to know about a user."""

    id: int
    email: str
    is_premium: bool


def resolve_users(session: Session, ids: list[int], emails: list[str]) -> list[UserRef]:
    """The named users (ids and lower-cased emails), premium first, in one query."""
    if not ids and not emails:
        return []
    rows = session.execute(
        select(User.id, User.email, User.is_premium).where(
            or_(User.id.in_(ids), User.email.in_(emails))
        )
    ).all()
    found_ids = {r.id for r in rows}
    found_emails = {r.email for r in rows}
    missing = [str(i) for i in ids if i not in found_ids] + [
        e for e in emails if e not in found_emails
    ]
    if missing:
        raise UnknownUsersError(missing)
    users = [UserRef(r.id, r.email, r.is_premium) for r in rows]
    return sorted(users, key=lambda u: (not u.is_premium, u.id))


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
