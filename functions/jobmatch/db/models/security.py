"""Who may call the API (scoped API keys) and changes waiting for an owner's consent
(repeat signups to confirm by email).

Neither table holds a secret: an API key and a confirmation token are stored as
their SHA-256 only, so a copy of the database lets nobody call the API or
confirm a change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin


class ApiKey(TimestampMixin, Base):
    """A machine API key: its hash and what it may act for. `scope` is 'platform'
    (admin, import and batch routes, any tenant) or 'tenant' (one tenant's rows
    only). Revoking sets `revoked_at`; the row stays, so logs that name the key's
    id still resolve."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'platform' AND tenant_id IS NULL) OR "
            "(scope = 'tenant' AND tenant_id IS NOT NULL)",
            name="scope_tenant",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignupConfirmation(Base):
    """A repeat signup's change to an existing user, applied only when someone who
    reads the user's mailbox confirms it (`used_at` set then: single use)."""

    __tablename__ = "signup_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
