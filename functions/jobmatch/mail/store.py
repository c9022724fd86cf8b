"""The mail store: the outbox rows, the suppression list and the opt-outs.

Mail policy lives here once: `may_mail` is the one statement of who may be mailed
(not suppressed, not opted out of the category), as a condition other stores put
into their set-based reads (the digest's due users, a batch's alert recipients),
and `is_suppressed` / `is_unsubscribed` ask it for one message (`Mailer.send`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from jobmatch.db.models import MailSuppression, MailUnsubscribe, OutboxMessage, User
from jobmatch.mail.suppression import Suppression
from jobmatch.mail.unsubscribe import ALL, Opt

# What mail is written through: a unit of work (which is a session). Transitional
# (issue #19): senders that still hold a plain session keep working; this becomes
# `UnitOfWork` once every sender holds one.
MailSession = Session


def may_mail(
    user_id: ColumnElement[int] | InstrumentedAttribute[int],
    email: ColumnElement[str] | InstrumentedAttribute[str],
    category: str,
) -> ColumnElement[bool]:
    """The condition that the user (`user_id`, `email`: columns of the caller's
    query) may get mail of `category`: the address is not suppressed and the user
    did not opt out of the category (nor of everything)."""
    return and_(
        ~exists().where(MailSuppression.email == email),
        ~exists().where(
            MailUnsubscribe.user_id == user_id,
            MailUnsubscribe.category.in_([category, ALL]),
        ),
    )


def is_suppressed(uow: MailSession, address: str) -> bool:
    """Whether mail to `address` must not be sent."""
    return bool(
        uow.scalar(select(exists().where(MailSuppression.email == address.strip().lower())))
    )


def is_unsubscribed(uow: MailSession, user_id: int, category: str) -> bool:
    """Whether the user opted out of `category` (or of everything)."""
    return bool(
        uow.scalar(
            select(
                exists().where(
                    MailUnsubscribe.user_id == user_id,
                    MailUnsubscribe.category.in_([category, ALL]),
                )
            )
        )
    )


def suppress(uow: MailSession, items: Sequence[Suppression]) -> int:
    """Add the addresses (a complaint overrides an earlier bounce record); how many."""
    for item in items:
        values = {"reason": item.reason, "detail": item.detail}
        stmt = insert(MailSuppression).values(email=item.email, **values)
        if item.reason == "complaint":
            uow.execute(stmt.on_conflict_do_update(index_elements=["email"], set_=values))
        else:
            uow.execute(stmt.on_conflict_do_nothing(index_elements=["email"]))
    return len(items)


def record_unsubscribe(uow: MailSession, opt: Opt) -> bool:
    """Record the opt-out (again is fine); False when the user no longer exists."""
    if not uow.scalar(select(exists().where(User.id == opt.user_id))):
        return False
    uow.execute(
        insert(MailUnsubscribe)
        .values(user_id=opt.user_id, category=opt.category)
        .on_conflict_do_nothing()
    )
    return True


def claim_outbox(uow: MailSession, key: str, row: Mapping[str, Any]) -> str:
    """The outbox row of `key`, recorded `pending` with `row`'s columns unless it
    exists, then locked until the unit of work ends; its status."""
    uow.execute(
        insert(OutboxMessage)
        .values(idempotency_key=key, status="pending", **row)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    return uow.scalars(
        select(OutboxMessage.status).where(OutboxMessage.idempotency_key == key).with_for_update()
    ).one()


def set_outbox_status(
    uow: MailSession,
    key: str,
    status: str,
    *,
    provider_message_id: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record what became of the (claimed) message of `key`."""
    values: dict[str, Any] = {"status": status}
    if provider_message_id is not None:
        values["provider_message_id"] = provider_message_id
    if sent_at is not None:
        values["sent_at"] = sent_at
    uow.execute(update(OutboxMessage).where(OutboxMessage.idempotency_key == key).values(values))
