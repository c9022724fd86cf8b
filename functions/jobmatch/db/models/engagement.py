"""Engagement: what users do with jobs (applications, views, feedback), the
preference signals learnt from it, digests, new-job alerts and run progress.

Every table has a natural key the step bodies upsert on, so a retried step
writes nothing twice: one application per (user, job), one aggregated view row
per (user, job), one feedback per (user, job), one digest per (user, local date),
one alert per (batch, user).

`USER_EXCLUDED_JOBS` is a view (created by the migration, not a table of the
metadata): the jobs never to recommend to a user again (applied to, or
disliked). The matching engine, the match reads and the new-job alerts all read
it, so the rule lives in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base


def _user_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


def _job_fk() -> Mapped[int]:
    return mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class JobApplication(Base):
    """A user applied to a job: once per (user, job); a repeat changes nothing."""

    __tablename__ = "job_applications"
    __table_args__ = (UniqueConstraint("user_id", "job_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class JobView(Base):
    """Significant views of a job by a user, aggregated: how many, how long, when last."""

    __tablename__ = "job_views"

    user_id: Mapped[int] = _user_fk()
    job_id: Mapped[int] = _job_fk()
    view_count: Mapped[int] = mapped_column(Integer)
    total_seconds: Mapped[float] = mapped_column(Float)
    last_viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JobFeedback(Base):
    """A user's current like or dislike of a job (a new one replaces the old)."""

    __tablename__ = "job_feedback"
    __table_args__ = (CheckConstraint("feedback IN ('like', 'dislike')", name="kind"),)

    user_id: Mapped[int] = _user_fk()
    job_id: Mapped[int] = _job_fk()
    feedback: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = _now()


class PreferenceSignal(Base):
    """A learnt weight of one skill, role or company for a user: positive draws the
    user's matches towards jobs with it, negative away (see `engagement.signals`)."""

    __tablename__ = "preference_signals"
    __table_args__ = (CheckConstraint("kind IN ('skill', 'role', 'company')", name="kind"),)

    user_id: Mapped[int] = _user_fk()
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = _now()


class MailSuppression(Base):
    """An address SES reported as bouncing (permanently) or complaining: never mailed again."""

    __tablename__ = "mail_suppressions"
    __table_args__ = (CheckConstraint("reason IN ('bounce', 'complaint')", name="reason"),)

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _now()


class MailUnsubscribe(Base):
    """A user opted out of one category of email (`all`: of every category)."""

    __tablename__ = "mail_unsubscribes"

    user_id: Mapped[int] = _user_fk()
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    created_at: Mapped[datetime] = _now()


class DigestLog(Base):
    """One daily digest per user and local date; the unique key is what keeps a
    retried or restarted digest run from sending a second one."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("user_id", "digest_date"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    digest_date: Mapped[date] = mapped_column(Date)
    job_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()


class NewJobAlert(Base):
    """Who is alerted about which jobs of one `jobs/new-batch`: written by one
    set-based query, then sent in chunks; (batch, user) is the natural key."""

    __tablename__ = "new_job_alerts"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = _user_fk()
    job_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    created_at: Mapped[datetime] = _now()


class RunProgress(Base):
    """How far a run has come, written by its steps in their own transactions: a
    client follows it by run id or by the id of an event that started it."""

    __tablename__ = "run_progress"
    __table_args__ = (
        Index("ix_run_progress_event_ids", "event_ids", postgresql_using="gin"),
        Index("ix_run_progress_updated_at", "updated_at"),
    )

    run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    function_id: Mapped[str] = mapped_column(String(200))
    event_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(20))
    steps_done: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


# The view: (user_id, job_id) pairs never to recommend (see the module docstring).
USER_EXCLUDED_JOBS = table(
    "user_excluded_jobs", Column("user_id", Integer), Column("job_id", BigInteger)
)
