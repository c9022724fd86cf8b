"""Where jobs come from: companies with a public job board, the external scraper's
work queue (one row per role) and its sessions, and the Common Crawl discovery
cursor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin

PROVIDERS = ("ashby", "greenhouse", "lever")
QUEUE_STATUSES = ("queued", "claimed", "completed")
SESSION_STATUSES = ("active", "completed", "stale")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Company(TimestampMixin, Base):
    """A company's board on a provider. `board_token` keeps the spelling first seen;
    it is unique per provider whatever its letter case (discovery meets `Acme` and
    `acme`). A discovered company stays inactive until a fetch proves its board
    exists; `region` says which API host serves it (Lever and Greenhouse have an EU
    one)."""

    __tablename__ = "companies"
    __table_args__ = (
        CheckConstraint(_one_of("provider", PROVIDERS), name="provider"),
        CheckConstraint("region IN ('global', 'eu')", name="region"),
        Index(
            "uq_companies_provider_token", "provider", func.lower(text("board_token")), unique=True
        ),
        Index("ix_companies_active_provider", "provider", postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    provider: Mapped[str] = mapped_column(String(20))
    board_token: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(10), default="global", server_default="global")
    discovered_via: Mapped[str] = mapped_column(String(60), default="manual")
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScraperSession(Base):
    """One claim of one role by an external scraper; alive while it sends heartbeats."""

    __tablename__ = "scraper_sessions"
    __table_args__ = (
        CheckConstraint(_one_of("status", SESSION_STATUSES), name="status"),
        Index(
            "ix_scraper_sessions_active_heartbeat",
            "last_heartbeat_at",
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("global_roles.id", ondelete="CASCADE"))
    scraper: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="active")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_heartbeat_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    jobs_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    jobs_created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RoleScrapeQueue(Base):
    """A role's place in the scraper queue: queued -> claimed (by one session) ->
    completed, then queued again by the nightly reset for a fresh scrape."""

    __tablename__ = "role_scrape_queue"
    __table_args__ = (
        CheckConstraint(_one_of("status", QUEUE_STATUSES), name="status"),
        Index("ix_role_scrape_queue_status_completed", "status", "completed_at"),
    )

    role_id: Mapped[int] = mapped_column(
        ForeignKey("global_roles.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(12), default="queued", server_default="queued")
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("scraper_sessions.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    times_scraped: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class DiscoveryCursor(Base):
    """How far company discovery got through one crawl's index for one host: the
    next page to read and the page count the index reported."""

    __tablename__ = "discovery_cursors"

    crawl_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    host: Mapped[str] = mapped_column(String(100), primary_key=True)
    pages: Mapped[int] = mapped_column(Integer)
    next_page: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    companies_added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
