"""Job pipeline: companies and their boards, the scraper queue, skills, discovery.

Revision ID: 0007_ingestion
Revises: 0004_match_columns

`jobs` gains the board it came from (`company_id`), when it was last listed and
when it left its board (`last_seen_at`, `vanished_at`), when it expired, and when
its skills were extracted. Indexes serve the pipeline's bounded chunks: live jobs
by age (expiry), expired jobs by date (cleanup), active jobs without skill tags
(daily extraction), and `user_matches.job_hash` (removing an expired job's
matches). Every existing global role is queued for the scraper.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0007_ingestion"
down_revision = "0004_match_columns"
branch_labels = None
depends_on = None

DIM = 256
JOB_AGE_SQL = "LEAST(imported_at, (posted_date::timestamp AT TIME ZONE 'UTC'))"
NOW = sa.func.now()


def timestamps() -> list[sa.Column[object]]:
    """created_at / updated_at as `TimestampMixin` declares them."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)
        for name in ("created_at", "updated_at")
    ]


def when(name: str) -> sa.Column[object]:
    """A nullable timestamptz."""
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(253)),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("board_token", sa.String(100), nullable=False),
        sa.Column("region", sa.String(10), server_default="global", nullable=False),
        sa.Column("discovered_via", sa.String(60), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="false", nullable=False),
        when("last_fetched_at"),
        sa.Column("last_error", sa.Text()),
        when("last_error_at"),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_companies"),
        sa.CheckConstraint(
            "provider IN ('ashby', 'greenhouse', 'lever')", name="ck_companies_provider"
        ),
        sa.CheckConstraint("region IN ('global', 'eu')", name="ck_companies_region"),
    )
    op.create_index(
        "uq_companies_provider_token",
        "companies",
        ["provider", sa.text("lower(board_token)")],
        unique=True,
    )
    op.create_index(
        "ix_companies_active_provider",
        "companies",
        ["provider"],
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "scraper_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("scraper", sa.String(100), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column(
            "last_heartbeat_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False
        ),
        when("ended_at"),
        sa.Column("jobs_received", sa.Integer(), server_default="0", nullable=False),
        sa.Column("jobs_created", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scraper_sessions"),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["global_roles.id"],
            name="fk_scraper_sessions_role_id_global_roles",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'stale')", name="ck_scraper_sessions_status"
        ),
    )
    op.create_index(
        "ix_scraper_sessions_active_heartbeat",
        "scraper_sessions",
        ["last_heartbeat_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "role_scrape_queue",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), server_default="queued", nullable=False),
        sa.Column("session_id", sa.String(36)),
        when("claimed_at"),
        when("completed_at"),
        sa.Column("times_scraped", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("role_id", name="pk_role_scrape_queue"),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["global_roles.id"],
            name="fk_role_scrape_queue_role_id_global_roles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scraper_sessions.id"],
            name="fk_role_scrape_queue_session_id_scraper_sessions",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'claimed', 'completed')", name="ck_role_scrape_queue_status"
        ),
    )
    op.create_index(
        "ix_role_scrape_queue_status_completed",
        "role_scrape_queue",
        ["status", "completed_at"],
    )
    op.execute("INSERT INTO role_scrape_queue (role_id) SELECT id FROM global_roles")

    op.create_table(
        "discovery_cursors",
        sa.Column("crawl_id", sa.String(40), nullable=False),
        sa.Column("host", sa.String(100), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("next_page", sa.Integer(), server_default="0", nullable=False),
        sa.Column("companies_added", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("crawl_id", "host", name="pk_discovery_cursors"),
    )

    op.create_table(
        "skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "aliases", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("category", sa.String(120), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column(
            "exact_case",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("embedding", Vector(DIM)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_skills"),
        sa.UniqueConstraint("name", name="uq_skills_name"),
    )
    op.create_index(
        "ix_skills_embedding_hnsw",
        "skills",
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "job_skills",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "skill_id", name="pk_job_skills"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_skills_job_id_jobs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], ["skills.id"], name="fk_job_skills_skill_id_skills", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_job_skills_skill_id", "job_skills", ["skill_id"])

    for column in ("last_seen_at", "vanished_at", "expired_at", "skills_extracted_at"):
        op.add_column("jobs", when(column))
    op.add_column("jobs", sa.Column("company_id", sa.Integer()))
    op.create_foreign_key(
        "fk_jobs_company_id_companies",
        "jobs",
        "companies",
        ["company_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_jobs_company_id", "jobs", ["company_id"])
    op.create_index(
        "ix_jobs_age_live",
        "jobs",
        [sa.text(JOB_AGE_SQL)],
        postgresql_where=sa.text("status IN ('active', 'closed')"),
    )
    op.create_index(
        "ix_jobs_expired_at",
        "jobs",
        ["expired_at"],
        postgresql_where=sa.text("status = 'expired'"),
    )
    op.create_index(
        "ix_jobs_skills_pending",
        "jobs",
        ["id"],
        postgresql_where=sa.text("skills_extracted_at IS NULL AND status = 'active'"),
    )
    op.create_index("ix_user_matches_job_hash", "user_matches", ["job_hash"])


def downgrade() -> None:
    op.drop_index("ix_user_matches_job_hash", table_name="user_matches")
    for index in ("ix_jobs_skills_pending", "ix_jobs_expired_at", "ix_jobs_age_live"):
        op.drop_index(index, table_name="jobs")
    op.drop_index("ix_jobs_company_id", table_name="jobs")
    op.drop_constraint("fk_jobs_company_id_companies", "jobs", type_="foreignkey")
    for column in ("company_id", "skills_extracted_at", "expired_at", "vanished_at"):
        op.drop_column("jobs", column)
    op.drop_column("jobs", "last_seen_at")
    for table in (
        "job_skills",
        "skills",
        "discovery_cursors",
        "role_scrape_queue",
        "scraper_sessions",
        "companies",
    ):
        op.drop_table(table)
