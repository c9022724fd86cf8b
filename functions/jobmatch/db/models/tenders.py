"""Tenders: compiled OCDS state, the sync cursor, job logs and alert subscriptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin


class Tender(TimestampMixin, Base):
    """One contracting process (ocid) in its compiled state: what the newest releases
    say, not their history. `first_job_log_id` is the sync that first saw it, which
    is what "new since the last alert" means."""

    __tablename__ = "tenders"
    __table_args__ = (
        CheckConstraint("category_source IN ('rules', 'ai')", name="category_source"),
        Index(
            "ix_tenders_missing_category",
            "published_at",
            postgresql_where=text("detailed_category IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ocid: Mapped[str] = mapped_column(String(200), unique=True)
    release_id: Mapped[str] = mapped_column(String(200))
    release_date: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    release_tag: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(40))
    buyer_id: Mapped[str | None] = mapped_column(String(200))
    buyer_name: Mapped[str | None] = mapped_column(Text)
    value_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    value_currency: Mapped[str | None] = mapped_column(String(3))
    classification_scheme: Mapped[str | None] = mapped_column(String(40))
    classification_id: Mapped[str | None] = mapped_column(String(60))
    classification_description: Mapped[str | None] = mapped_column(Text)
    detailed_category: Mapped[str | None] = mapped_column(String(60), index=True)
    category_source: Mapped[str | None] = mapped_column(String(10))
    # Per merged field, the stamp (date|release id) of the release that supplied it.
    field_dates: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    # none_as_null: a release without items stores SQL NULL ("no value"), not JSON null.
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    tender_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tender_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_job_log_id: Mapped[int | None] = mapped_column(Integer, index=True)


class SyncState(Base):
    """A named cursor: everything published up to `cursor` has been compiled."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    cursor: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class JobLog(Base):
    """One run of a background job as people see it. (job_type, run_id) is unique, so a
    retried create step finds the row its first try wrote instead of adding one."""

    __tablename__ = "job_logs"
    __table_args__ = (
        UniqueConstraint("job_type", "run_id", name="uq_job_logs_job_type_run_id"),
        CheckConstraint("status IN ('RUNNING', 'SUCCESS', 'FAILED')", name="status"),
        Index("ix_job_logs_status_started_at", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type: Mapped[str] = mapped_column(String(60))
    run_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), server_default="RUNNING")
    triggered_by: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)


class TenderAlertSubscription(TimestampMixin, Base):
    """Someone who wants an email when new tenders match categories or keywords."""

    __tablename__ = "tender_alert_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
