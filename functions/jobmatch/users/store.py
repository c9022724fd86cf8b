"""The SQL of free-signup users: who they are, by id or email, and their flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from jobmatch.db.models import User, UserPreferences
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.users.preferences import Preferences


@dataclass(frozen=True)
class UserRef:
    """What a matching event needs to know about a user."""

    id: int
    email: str
    is_premium: bool


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


@dataclass(frozen=True)
class Contact:
    """Where a user's notices go."""

    email: str
    name: str | None
    webhook_url: str | None


def contact_of(uow: UnitOfWork, user_id: int) -> Contact | None:
    """The user's email, name and webhook; None when the user no longer exists."""
    user = uow.get(User, user_id)
    return None if user is None else Contact(user.email, user.name, user.webhook_url)
