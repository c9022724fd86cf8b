"""Base: the pgvector extension and the mail outbox.

Revision ID: 0001_base
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def timestamps() -> list[sa.Column[object]]:
    """created_at / updated_at as `TimestampMixin` declares them."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
        for name in ("created_at", "updated_at")
    ]


revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("meta", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_mail_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_mail_outbox_idempotency_key"),
    )
    op.create_index("ix_mail_outbox_to_address", "mail_outbox", ["to_address"])
    op.create_index("ix_mail_outbox_kind", "mail_outbox", ["kind"])


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.execute("DROP EXTENSION IF EXISTS vector")
