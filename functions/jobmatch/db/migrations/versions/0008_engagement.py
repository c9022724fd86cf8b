"""Engagement: applications, views, feedback, preference signals, digests, new-job
alerts, mail suppression and unsubscribes, run progress; users' time zones.

Revision ID: 0008_engagement
Revises: 0004_match_columns

Natural keys are unique so every step that writes them can upsert. The view
`user_excluded_jobs` (jobs applied to or disliked) is the one definition of
"never recommend this job to this user again", read by the matching engine, the
match reads and the new-job alerts. `users.timezone` (IANA, default UTC) is
indexed: the hourly digest selects users by the zones where it is 9 AM now.
The GIN index on `user_preferences.roles` serves the alerts' role lookup.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_engagement"
down_revision = "0004_match_columns"
branch_labels = None
depends_on = None

NOW = sa.func.now()
EMPTY_JSON = sa.text("'{}'::jsonb")


def now_column(name: str) -> sa.Column[object]:
    """A timestamptz column defaulting to now()."""
    return sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)


def user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def job_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["job_id"], ["jobs.id"], name=f"fk_{table}_job_id_jobs", ondelete="CASCADE"
    )


def user_job_table(
    table: str, *columns: sa.Column[object], constraints: tuple[sa.Constraint, ...] = ()
) -> None:
    """A table keyed by (user_id, job_id), both cascading, job_id indexed."""
    op.create_table(
        table,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("user_id", "job_id", name=f"pk_{table}"),
        user_fk(table),
        job_fk(table),
        *constraints,
    )
    op.create_index(f"ix_{table}_job_id", table, ["job_id"])


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
    )
    op.create_index("ix_users_timezone", "users", ["timezone"])
    op.add_column(
        "user_preferences",
        sa.Column("field_versions", postgresql.JSONB(), server_default=EMPTY_JSON, nullable=False),
    )
    op.create_index(
        "ix_user_preferences_roles", "user_preferences", ["roles"], postgresql_using="gin"
    )
    op.add_column("mail_outbox", sa.Column("body_html", sa.Text()))
    op.add_column(
        "mail_outbox",
        sa.Column("headers", postgresql.JSONB(), server_default=EMPTY_JSON, nullable=False),
    )

    op.create_table(
        "job_applications",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger()),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        now_column("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_job_applications"),
        sa.UniqueConstraint("user_id", "job_id", name="uq_job_applications_user_id_job_id"),
        user_fk("job_applications"),
        job_fk("job_applications"),
    )
    op.create_index("ix_job_applications_job_id", "job_applications", ["job_id"])
    user_job_table(
        "job_views",
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("total_seconds", sa.Float(), nullable=False),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=False),
    )
    user_job_table(
        "job_feedback",
        sa.Column("feedback", sa.String(10), nullable=False),
        now_column("updated_at"),
        constraints=(
            sa.CheckConstraint("feedback IN ('like', 'dislike')", name="ck_job_feedback_kind"),
        ),
    )
    op.create_table(
        "preference_signals",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        now_column("updated_at"),
        sa.PrimaryKeyConstraint("user_id", "kind", "value", name="pk_preference_signals"),
        sa.CheckConstraint(
            "kind IN ('skill', 'role', 'company')", name="ck_preference_signals_kind"
        ),
        user_fk("preference_signals"),
    )
    op.create_table(
        "mail_suppressions",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(500)),
        now_column("created_at"),
        sa.PrimaryKeyConstraint("email", name="pk_mail_suppressions"),
        sa.CheckConstraint("reason IN ('bounce', 'complaint')", name="ck_mail_suppressions_reason"),
    )
    op.create_table(
        "mail_unsubscribes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        now_column("created_at"),
        sa.PrimaryKeyConstraint("user_id", "category", name="pk_mail_unsubscribes"),
        user_fk("mail_unsubscribes"),
    )
    op.create_table(
        "digest_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest_date", sa.Date(), nullable=False),
        sa.Column("job_count", sa.Integer(), nullable=False),
        now_column("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_digest_log"),
        sa.UniqueConstraint("user_id", "digest_date", name="uq_digest_log_user_id_digest_date"),
        user_fk("digest_log"),
    )
    op.create_table(
        "new_job_alerts",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        now_column("created_at"),
        sa.PrimaryKeyConstraint("batch_id", "user_id", name="pk_new_job_alerts"),
        user_fk("new_job_alerts"),
    )
    op.create_table(
        "run_progress",
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("function_id", sa.String(200), nullable=False),
        sa.Column(
            "event_ids", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("detail", postgresql.JSONB(), server_default=EMPTY_JSON, nullable=False),
        now_column("created_at"),
        now_column("updated_at"),
        sa.PrimaryKeyConstraint("run_id", name="pk_run_progress"),
    )
    op.create_index(
        "ix_run_progress_event_ids", "run_progress", ["event_ids"], postgresql_using="gin"
    )
    op.create_index("ix_run_progress_updated_at", "run_progress", ["updated_at"])
    op.execute("""
        CREATE VIEW user_excluded_jobs AS
            SELECT user_id, job_id FROM job_applications
            UNION
            SELECT user_id, job_id FROM job_feedback WHERE feedback = 'dislike'
    """)


def downgrade() -> None:
    op.execute("DROP VIEW user_excluded_jobs")
    for table in (
        "run_progress",
        "new_job_alerts",
        "digest_log",
        "mail_unsubscribes",
        "mail_suppressions",
        "preference_signals",
        "job_feedback",
        "job_views",
        "job_applications",
    ):
        op.drop_table(table)
    op.drop_column("mail_outbox", "headers")
    op.drop_column("mail_outbox", "body_html")
    op.drop_index("ix_user_preferences_roles", "user_preferences")
    op.drop_column("user_preferences", "field_versions")
    op.drop_index("ix_users_timezone", "users")
    op.drop_column("users", "timezone")
