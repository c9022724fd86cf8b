"""The event outbox: Inngest events recorded with the rows they announce.

Revision ID: 0010_event_outbox
Revises: 0004_match_columns

A route or step that writes rows and announces them records the event here in the
same transaction, then sends it after the commit; what the event API did not take
stays `pending` for the next flush. `event_id` is unique (the id Inngest
de-duplicates on); the partial index serves the flush's "oldest pending first".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_event_outbox"
down_revision = "0004_match_columns"
branch_labels = None
depends_on = None

TABLE = "event_outbox"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event_outbox"),
        sa.UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
    )
    op.create_index("ix_event_outbox_status", TABLE, ["status"])
    op.create_index(
        "ix_event_outbox_pending",
        TABLE,
        ["created_at", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
