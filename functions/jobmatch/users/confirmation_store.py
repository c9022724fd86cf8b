"""The SQL of pending signup changes (`signup_confirmations`): a change awaiting its
owner's confirmation is stored with its token's hash only, and claimed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from jobmatch.db.models import SignupConfirmation, User
from jobmatch.db.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StoredChange:
    """A stored change, with its user's premium flag."""

    id: int
    user_id: int
    is_premium: bool
    request_id: str
    payload: dict[str, Any]
    expires_at: datetime
    used: bool


def count_since(uow: UnitOfWork, user_id: int, since: datetime) -> int:
    """How many changes of this user were stored after `since`."""
    recent = uow.scalar(
        select(func.count())
        .select_from(SignupConfirmation)
        .where(SignupConfirmation.user_id == user_id, SignupConfirmation.created_at > since)
    )
    return int(recent or 0)


def add(
    uow: UnitOfWork,
    *,
    token_hash: str,
    user_id: int,
    request_id: str,
    payload: dict[str, Any],
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Store a pending change."""
    uow.add(
        SignupConfirmation(
            token_hash=token_hash,
            user_id=user_id,
            request_id=request_id,
            payload=payload,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    uow.flush()


def by_token_hash(uow: UnitOfWork, token_hash: str) -> StoredChange | None:
    """The change stored under this token hash, or None."""
    row: Any = uow.execute(
        select(SignupConfirmation, User.is_premium)
        .join(User, User.id == SignupConfirmation.user_id)
        .where(SignupConfirmation.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    change: SignupConfirmation = row[0]
    return StoredChange(
        id=change.id,
        user_id=change.user_id,
        is_premium=row.is_premium,
        request_id=change.request_id,
        payload=change.payload,
        expires_at=change.expires_at,
        used=change.used_at is not None,
    )


def claim(uow: UnitOfWork, change_id: int, now: datetime) -> bool:
    """Mark the change used, unless it was used already or has expired; whether
    this call claimed it."""
    claimed = uow.execute(
        update(SignupConfirmation)
        .where(
            SignupConfirmation.id == change_id,
            SignupConfirmation.used_at.is_(None),
            SignupConfirmation.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignupConfirmation.id)
    ).first()
    return claimed is not None
