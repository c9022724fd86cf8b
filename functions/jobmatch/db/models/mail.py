"""The mail outbox: every message we send, keyed for idempotency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin


class OutboxMessage(TimestampMixin, Base):
    """One email. `idempotency_key` is unique: a retried step finds its message
    already recorded and does not send it again. Offline the outbox is the
    delivery; with SES, `provider_message_id` and `sent_at` record the send. A
    message to a suppressed address or an unsubscribed user is recorded with that
    status and not sent."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Extra headers sent with the message (List-Unsubscribe and its one-click twin).
    headers: Mapped[dict[str, str]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    kind: Mapped[str] = mapped_column(String(60), index=True)
    meta: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    # pending -> sent; or suppressed (bounced/complained address) / unsubscribed.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
