"""The event outbox: every Inngest event a write announces, kept until it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin

PENDING = "status = 'pending'"


class OutboxEvent(TimestampMixin, Base):
    """One event, recorded in the transaction of the rows it announces.

    `event_id` is the id Inngest de-duplicates on (unique here too: a retried
    request records nothing twice), so sending a row again is harmless. A row is
    `pending` until the event API took it, then `sent`; `attempts` and
    `last_error` say why a pending row is still there."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        # The flush reads the oldest pending rows: a partial index keeps that read
        # as small as the backlog, however many sent rows are kept.
        Index("ix_event_outbox_pending", "created_at", "id", postgresql_where=text(PENDING)),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, object]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), server_default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
