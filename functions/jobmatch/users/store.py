"""The SQL of free-signup users: who they are, their preferences, their flags.

One user per email (lower-cased), one preferences row per user. A new address
creates both with `INSERT .. ON CONFLICT DO NOTHING`, so two concurrent signups
for one email cannot create two users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import SignupConfirmation, User, UserPreferences
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.users.preferences import Preferences, SignupInput


@dataclass(frozen=True)
class UserRef:
    """What a matching event needs to know about a user."""

    id: int
    email: str
    is_premium: bool


@dataclass(frozen=True)
class SignedUpUser(UserRef):
    """A user a signup names, and whether this signup created them."""

    created: bool


@dataclass(frozen=True)
class Contact:
    """Where a user's notices go."""

    email: str
    name: str | None
    webhook_url: str | None


def by_id(uow: UnitOfWork, user_id: int) -> UserRef | None:
    """The user with this id, or None."""
    user = uow.get(User, user_id)
    return None if user is None else UserRef(user.id, user.email, user.is_premium)


def id_of_email(uow: UnitOfWork, email: str) -> int | None:
    """The id of the user with this (lower-cased) email, or None."""
    return uow.scalar(select(User.id).where(User.email == email))


def by_ids(uow: UnitOfWork, user_ids: Sequence[int]) -> list[UserRef]:
    """Those of the users that exist, by id."""
    rows = uow.execute(
        select(User.id, User.email, User.is_premium)
        .where(User.id.in_(list(user_ids)))
        .order_by(User.id)
    ).all()
    return [UserRef(r.id, r.email, r.is_premium) for r in rows]


def by_ids_or_emails(uow: UnitOfWork, ids: Sequence[int], emails: Sequence[str]) -> list[UserRef]:
    """The users with any of these ids or (lower-cased) emails, in one query."""
    rows = uow.execute(
        select(User.id, User.email, User.is_premium).where(
            or_(User.id.in_(list(ids)), User.email.in_(list(emails)))
        )
    ).all()
    return [UserRef(r.id, r.email, r.is_premium) for r in rows]


def contact_of(uow: UnitOfWork, user_id: int) -> Contact | None:
    """The user's email, name and webhook; None when the user no longer exists."""
    user = uow.get(User, user_id)
    return None if user is None else Contact(user.email, user.name, user.webhook_url)


def lock(uow: UnitOfWork, user_id: int) -> None:
    """Lock the user's row until the transaction ends (concurrent requests about
    one user then run one after another)."""
    uow.execute(select(User.id).where(User.id == user_id).with_for_update())


def preferences_of(uow: UnitOfWork, user_id: int) -> Preferences | None:
    """A stored user's preferences; None when the user or their preferences are gone."""
    row = uow.execute(
        select(UserPreferences)
        .join(User, User.id == UserPreferences.user_id)
        .where(UserPreferences.user_id == user_id)
    ).scalar_one_or_none()
    if row is None:
        return None
    return Preferences(
        roles=list(row.roles or []),
        skills=list(row.skills or []),
        locations=list(row.locations or []),
        countries=list(row.countries or []),
        remote_ok=row.remote_ok,
        salary_min=row.salary_min,
        experience_years=row.experience_years,
    )


def _write_preferences(
    uow: UnitOfWork, user_id: int, signup: SignupInput, embedding: list[float]
) -> None:
    values = {**signup.preferences().model_dump(), "embedding": embedding}
    uow.execute(
        insert(UserPreferences)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )


def create_or_find_user(
    uow: UnitOfWork, signup: SignupInput, embedding: list[float]
) -> SignedUpUser:
    """Create the user and preferences if the address is new; otherwise return the
    existing user unchanged (`created` False). The embedding is computed by the
    caller first: the unit of work takes its connection only at the first
    statement, so a slow embedding call holds no database connection."""
    row: Any = uow.execute(
        insert(User)
        .values(email=signup.email, name=signup.name, webhook_url=signup.webhook_url)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id, User.is_premium)
    ).first()
    if row is not None:
        _write_preferences(uow, row.id, signup, embedding)
        return SignedUpUser(row.id, signup.email, row.is_premium, created=True)
    existing: Any = uow.execute(
        select(User.id, User.is_premium).where(User.email == signup.email)
    ).one()
    return SignedUpUser(existing.id, signup.email, existing.is_premium, created=False)


def apply_profile(
    uow: UnitOfWork, user_id: int, signup: SignupInput, embedding: list[float]
) -> None:
    """Replace a user's name, webhook and preferences (a confirmed change)."""
    uow.execute(
        update(User)
        .where(User.id == user_id)
        .values(name=signup.name, webhook_url=signup.webhook_url)
    )
    _write_preferences(uow, user_id, signup, embedding)


def is_retry_of_creation(
    uow: UnitOfWork, user_id: int, signup: SignupInput, *, created_after: datetime
) -> bool:
    """Whether `signup` repeats the signup that created `user_id`: identical to the
    stored user (name, webhook, every preference), the user created after
    `created_after`, and no change confirmed since. A client that retries a signup
    (a timeout, a lost answer) sends the same request again, and the address is then
    known: without this, the retry would be a change stored as pending, and the
    person emailed a link to confirm what they themselves sent. Recognised by this
    fingerprint, not an `Idempotency-Key` header: the clients that retry blindly (a
    browser resubmitting a form, a gateway) send none. Treating it as the first
    signup changes nothing (what it would write is stored), so someone who knows an
    address and its exact preferences gains nothing by it."""
    row = uow.execute(
        select(User, UserPreferences)
        .join(UserPreferences, UserPreferences.user_id == User.id)
        .where(User.id == user_id, User.created_at > created_after)
    ).one_or_none()
    if row is None:
        return False
    confirmed = uow.scalar(
        select(
            exists().where(
                SignupConfirmation.user_id == user_id, SignupConfirmation.used_at.is_not(None)
            )
        )
    )
    if confirmed:
        return False
    user, prefs = row
    stored = SignupInput(
        email=user.email,
        name=user.name,
        roles=list(prefs.roles),
        skills=list(prefs.skills),
        locations=list(prefs.locations),
        countries=list(prefs.countries),
        salary_min=prefs.salary_min,
        experience_years=prefs.experience_years,
        remote_ok=prefs.remote_ok,
        webhook_url=user.webhook_url,
    )
    return stored == signup
