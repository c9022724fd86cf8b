"""Tenders: compiled tenders, sync cursor, job logs, alert subscriptions.

Revision ID: 0003_tenders
Revises: 0001_base

`tenders.ocid` is unique: the sync upserts on it. The partial index on
`published_at WHERE detailed_category IS NULL` serves enrich-today and the backfill
("missing a category, published in a range"); `first_job_log_id` serves alerts
("new in this sync"). `job_logs (job_type, run_id)` is unique so a retried
create-job-log step does not write a second row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_tenders"
down_revision = "0001_base"
branch_labels = ("tenders",)
depends_on = None

EMPTY = sa.text("'{}'")
NOW = sa.func.now()


def timestamps() -> list[sa.Column[object]]:
    """created_at / updated_at as `TimestampMixin` declares them."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)
        for name in ("created_at", "updated_at")
    ]


def ts(name: str, nullable: bool = True) -> sa.Column[object]:
    """A timestamptz column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tenders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ocid", sa.String(200), nullable=False),
        sa.Column("release_id", sa.String(200), nullable=False),
        ts("release_date", nullable=False),
        sa.Column("release_tag", postgresql.ARRAY(sa.Text()), server_default=EMPTY, nullable=False),
        ts("published_at", nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(40)),
        sa.Column("buyer_id", sa.String(200)),
        sa.Column("buyer_name", sa.Text()),
        sa.Column("value_amount", sa.Numeric(20, 2)),
        sa.Column("value_currency", sa.String(3)),
        sa.Column("classification_scheme", sa.String(40)),
        sa.Column("classification_id", sa.String(60)),
        sa.Column("classification_description", sa.Text()),
        sa.Column("detailed_category", sa.String(60)),
        sa.Column("category_source", sa.String(10)),
        sa.Column("field_dates", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("items", postgresql.JSONB()),
        ts("tender_start"),
        ts("tender_end"),
        sa.Column("first_job_log_id", sa.Integer()),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_tenders"),
        sa.UniqueConstraint("ocid", name="uq_tenders_ocid"),
        sa.CheckConstraint("category_source IN ('rules', 'ai')", name="ck_tenders_category_source"),
    )
    for column in ("release_date", "published_at", "detailed_category", "first_job_log_id"):
        op.create_index(f"ix_tenders_{column}", "tenders", [column])
    op.create_index(
        "ix_tenders_missing_category",
        "tenders",
        ["published_at"],
        postgresql_where=sa.text("detailed_category IS NULL"),
    )

    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(60), nullable=False),
        ts("cursor"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sync_state"),
    )

    op.create_table(
        "job_logs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_type", sa.String(60), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), server_default="RUNNING", nullable=False),
        sa.Column("triggered_by", sa.String(120)),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        ts("finished_at"),
        sa.Column("counts", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("meta", postgresql.JSONB(), server_default=EMPTY, nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_job_logs"),
        sa.UniqueConstraint("job_type", "run_id", name="uq_job_logs_job_type_run_id"),
        sa.CheckConstraint("status IN ('RUNNING', 'SUCCESS', 'FAILED')", name="ck_job_logs_status"),
    )
    op.create_index("ix_job_logs_status_started_at", "job_logs", ["status", "started_at"])

    op.create_table(
        "tender_alert_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.Text()), server_default=EMPTY, nullable=False),
        sa.Column("keywords", postgresql.ARRAY(sa.Text()), server_default=EMPTY, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_tender_alert_subscriptions"),
    )
    op.create_index("ix_tender_alert_subscriptions_email", "tender_alert_subscriptions", ["email"])


def downgrade() -> None:
    op.drop_table("tender_alert_subscriptions")
    op.drop_table("job_logs")
    op.drop_table("sync_state")
    op.drop_table("tenders")
