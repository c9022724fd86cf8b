"""`user/registered`: create or complete the user, then welcome them.

Our users are keyed by a database id and unique by email. A registration whose
`userId` names an existing user completes that user (a missing name is filled);
if that user has another email, the event contradicts our data and is refused
for good. Otherwise the user is created, or completed, by email (an upsert, so a
repeated or concurrent registration makes one user), and gets an empty
preferences row, so the first matching run has a profile to work from. The
welcome email is keyed per user: a second registration sends no second welcome.
"""

from __future__ import annotations

from typing import Any

import inngest
from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import insert

from jobmatch.alerts.emails import compose
from jobmatch.db.models import User, UserPreferences
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.mail import Mailer
from jobmatch.runs.progress import RunRef, advance


@legacy_step_body
def register_user(
    ref: dict[str, Any], user_id: int, email: str, name: str | None
) -> dict[str, Any]:
    """The user (id, premium, created), created or completed."""
    with session_scope() as session:
        existing = session.get(User, user_id)
        if existing is not None and existing.email != email:
            raise inngest.NonRetriableError(f"user {user_id} is registered with another email")
        row: Any = session.execute(
            insert(User)
            .values(email=email, name=name)
            .on_conflict_do_update(
                index_elements=["email"], set_={"name": func.coalesce(User.name, name)}
            )
            .returning(User.id, User.is_premium, literal_column("(xmax = 0)").label("created"))
        ).one()
        session.execute(
            insert(UserPreferences)
            .values(user_id=row.id, remote_ok=True)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        advance(session, RunRef.from_dict(ref), 1, detail={"user_id": row.id})
    return {"user_id": row.id, "premium": row.is_premium, "created": row.created}


@legacy_step_body
def send_welcome(ref: dict[str, Any], user_id: int, mailer: Mailer) -> bool:
    """The welcome email, once per user; False when it was not sent now."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise inngest.NonRetriableError(f"user {user_id} not found")
        sent = mailer.send(session, compose(user, "welcome", [], f"welcome:{user_id}"))
        advance(session, RunRef.from_dict(ref), 2, done=True, detail={"welcomed": sent})
    return sent
