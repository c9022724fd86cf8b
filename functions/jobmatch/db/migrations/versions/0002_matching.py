"""Matching: roles, jobs, users and preferences, tenants, candidates, matches.

Revision ID: 0002_matching
Revises: 0001_base

Indexes are the ones the matching queries use: HNSW (cosine) on both embedding
columns for similarity search, GIN on candidates.preferred_role_ids for the
`&&` role filter, btree on the job status / role and candidate status / tenant
filters, and candidate_job_matches.job_id for re-matching (and deleting) one job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0002_matching"
down_revision = "0001_base"
branch_labels = ("matching",)
depends_on = None

# The vector width this revision creates; fixed here, not read from the environment,
# so the schema a revision builds never depends on who runs it.
DIM = 256
EMPTY = sa.text("'{}'")


def timestamps() -> list[sa.Column[object]]:
    """created_at / updated_at as `TimestampMixin` declares them."""
    return [
        sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)
        for name in ("created_at", "updated_at")
    ]


def text_array(name: str) -> sa.Column[object]:
    """A NOT NULL text[] defaulting to empty."""
    return sa.Column(name, postgresql.ARRAY(sa.Text()), server_default=EMPTY, nullable=False)


def hnsw(table: str) -> None:
    op.create_index(
        f"ix_{table}_embedding_hnsw",
        table,
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )


def score_columns(names: list[str]) -> list[sa.Column[object]]:
    return [sa.Column(n, sa.Float(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "global_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        text_array("aliases"),
        sa.PrimaryKeyConstraint("id", name="pk_global_roles"),
        sa.UniqueConstraint("name", name="uq_global_roles_name"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("normalized_role_id", sa.Integer(), nullable=True),
        text_array("skills"),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("salary_min", sa.Integer()),
        sa.Column("salary_max", sa.Integer()),
        sa.Column("currency", sa.String(3)),
        sa.Column("experience_min", sa.Integer()),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("external_url", sa.String(1000)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("posted_date", sa.Date()),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("announced_at", sa.DateTime(timezone=True)),
        sa.Column("embedding", Vector(DIM)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("job_hash", name="uq_jobs_job_hash"),
        sa.ForeignKeyConstraint(
            ["normalized_role_id"],
            ["global_roles.id"],
            name="fk_jobs_normalized_role_id_global_roles",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_jobs_normalized_role_id", "jobs", ["normalized_role_id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    hnsw("jobs")

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("is_premium", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("webhook_url", sa.String(1000)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "user_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        text_array("roles"),
        text_array("skills"),
        text_array("locations"),
        text_array("countries"),
        sa.Column("remote_ok", sa.Boolean(), nullable=False),
        sa.Column("salary_min", sa.Integer()),
        sa.Column("experience_years", sa.Integer()),
        sa.Column("embedding", Vector(DIM)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_preferences"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_preferences_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "user_matches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_email", sa.String(320), nullable=False),
        sa.Column("job_hash", sa.String(64), nullable=False),
        *score_columns(
            [
                "score",
                "skill_score",
                "experience_score",
                "location_score",
                "salary_score",
                "semantic_score",
            ]
        ),
        text_array("matched_skills"),
        text_array("missing_skills"),
        text_array("reasons"),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("is_recommended", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_user_matches"),
        sa.UniqueConstraint("user_email", "job_hash", name="uq_user_matches_user_email_job_hash"),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column(
            "preferred_roles",
            postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "preferred_role_ids",
            postgresql.ARRAY(sa.Integer()),
            server_default=EMPTY,
            nullable=False,
        ),
        text_array("skills"),
        sa.Column("experience_years", sa.Integer()),
        sa.Column("location", sa.String(200)),
        sa.Column("country", sa.String(2)),
        sa.Column("remote_ok", sa.Boolean(), nullable=False),
        sa.Column("salary_expectation", sa.Integer()),
        sa.Column("embedding", Vector(DIM)),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_candidates"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_candidates_tenant_id_tenants",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_candidates_tenant_id", "candidates", ["tenant_id"])
    op.create_index("ix_candidates_status", "candidates", ["status"])
    op.create_index(
        "ix_candidates_preferred_role_ids",
        "candidates",
        ["preferred_role_ids"],
        postgresql_using="gin",
    )
    hnsw("candidates")

    op.create_table(
        "candidate_job_matches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        *score_columns(
            [
                "match_score",
                "skill_match_score",
                "experience_match_score",
                "location_match_score",
                "salary_match_score",
                "semantic_similarity",
            ]
        ),
        text_array("matched_skills"),
        text_array("missing_skills"),
        text_array("match_reasons"),
        sa.Column("is_recommended", sa.Boolean(), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_candidate_job_matches"),
        sa.UniqueConstraint(
            "candidate_id", "job_id", name="uq_candidate_job_matches_candidate_id_job_id"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name="fk_candidate_job_matches_candidate_id_candidates",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name="fk_candidate_job_matches_job_id_jobs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_candidate_job_matches_job_id", "candidate_job_matches", ["job_id"])


def downgrade() -> None:
    for table in (
        "candidate_job_matches",
        "candidates",
        "tenants",
        "user_matches",
        "user_preferences",
        "users",
        "jobs",
        "global_roles",
    ):
        op.drop_table(table)
