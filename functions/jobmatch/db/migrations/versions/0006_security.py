"""Security: scoped API keys and signup changes waiting for the owner's confirmation.

Revision ID: 0006_security
Revises: 0004_match_columns

A branch of its own (label `security`) after the matching tables it points at:
`api_keys.tenant_id` references `tenants`, `signup_confirmations.user_id`
references `users`; both cascade, so deleting a tenant revokes its keys and
deleting a user drops their pending changes. Hashes are unique: the lookup of a
key or a token is one index probe.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_security"
down_revision = "0004_match_columns"
branch_labels = ("security",)
depends_on = None

NOW = sa.func.now()


def ts(name: str, nullable: bool = True) -> sa.Column[object]:
    """A timestamptz column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(100), nullable=False),
        ts("revoked_at"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_api_keys_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "(scope = 'platform' AND tenant_id IS NULL) OR "
            "(scope = 'tenant' AND tenant_id IS NOT NULL)",
            name="ck_api_keys_scope_tenant",
        ),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "signup_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        ts("created_at", nullable=False),
        ts("expires_at", nullable=False),
        ts("used_at"),
        sa.PrimaryKeyConstraint("id", name="pk_signup_confirmations"),
        sa.UniqueConstraint("token_hash", name="uq_signup_confirmations_token_hash"),
        sa.UniqueConstraint("request_id", name="uq_signup_confirmations_request_id"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_signup_confirmations_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_signup_confirmations_user_id", "signup_confirmations", ["user_id"])


def downgrade() -> None:
    op.drop_table("signup_confirmations")
    op.drop_table("api_keys")
