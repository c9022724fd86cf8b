"""Roles by meaning: taxonomy columns and vectors, role terms, a job's roles.

Revision ID: 0005_roles
Revises: 0004_match_columns

`global_roles` gains where a role sits in its taxonomy (code, group, parent) and a
vector; `role_terms` holds a vector per name and alias; `job_roles` the few roles a
job resolved to (the candidate query joins them); `jobs.role_resolution` says how
(pending until resolved by meaning). Existing jobs keep the role the phrase rule
gave them (an `alias` row, so they are matched as before); those it gave none are
`pending`, and `roles/re-resolve.requested` resolves them by meaning.
`embedding_state` records which model wrote the vectors; it starts empty, and the
first step that embeds records its provider (the one that wrote the existing rows,
unless AI was switched in the same deploy: then send `system/reembed`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0005_roles"
down_revision = "0004_match_columns"
branch_labels = None
depends_on = None

DIM = 256


def hnsw(name: str, table: str, where: str | None = None) -> None:
    op.create_index(
        name,
        table,
        ["embedding"],
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
        postgresql_where=sa.text(where) if where else None,
    )


def upgrade() -> None:
    op.alter_column("global_roles", "name", type_=sa.String(200))
    op.add_column("global_roles", sa.Column("code", sa.String(60)))
    op.add_column(
        "global_roles", sa.Column("description", sa.Text(), server_default="", nullable=False)
    )
    op.add_column("global_roles", sa.Column("group_code", sa.String(20)))
    op.add_column("global_roles", sa.Column("group_name", sa.String(120)))
    op.add_column("global_roles", sa.Column("parent_id", sa.Integer()))
    op.add_column(
        "global_roles",
        sa.Column("source", sa.String(20), server_default="custom", nullable=False),
    )
    op.add_column("global_roles", sa.Column("embedding", Vector(DIM)))
    op.create_unique_constraint("uq_global_roles_code", "global_roles", ["code"])
    op.create_foreign_key(
        "fk_global_roles_parent_id_global_roles",
        "global_roles",
        "global_roles",
        ["parent_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_global_roles_parent_id", "global_roles", ["parent_id"])
    hnsw("ix_global_roles_embedding_hnsw", "global_roles")

    op.create_table(
        "role_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(DIM)),
        sa.PrimaryKeyConstraint("id", name="pk_role_terms"),
        sa.UniqueConstraint("role_id", "term", name="uq_role_terms_role_id_term"),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["global_roles.id"],
            name="fk_role_terms_role_id_global_roles",
            ondelete="CASCADE",
        ),
    )
    hnsw("ix_role_terms_embedding_hnsw", "role_terms")

    op.create_table(
        "job_roles",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "role_id", name="pk_job_roles"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_roles_job_id_jobs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["global_roles.id"],
            name="fk_job_roles_role_id_global_roles",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_job_roles_role_id", "job_roles", ["role_id"])

    op.add_column(
        "jobs",
        sa.Column("role_resolution", sa.String(12), server_default="pending", nullable=False),
    )
    op.add_column("jobs", sa.Column("role_confidence", sa.Float()))
    op.create_index("ix_jobs_role_resolution", "jobs", ["role_resolution"])
    hnsw("ix_jobs_unresolved_embedding_hnsw", "jobs", "role_resolution = 'unresolved'")
    op.execute("""
        INSERT INTO job_roles (job_id, role_id, similarity, rank, method)
        SELECT id, normalized_role_id, 1.0, 1, 'alias' FROM jobs
        WHERE normalized_role_id IS NOT NULL
    """)
    op.execute("UPDATE jobs SET role_resolution = 'alias' WHERE normalized_role_id IS NOT NULL")

    op.create_table(
        "embedding_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("target_model", sa.String(120)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_embedding_state"),
    )


def downgrade() -> None:
    op.drop_table("embedding_state")
    op.drop_index("ix_jobs_unresolved_embedding_hnsw", table_name="jobs")
    op.drop_index("ix_jobs_role_resolution", table_name="jobs")
    op.drop_column("jobs", "role_confidence")
    op.drop_column("jobs", "role_resolution")
    op.drop_table("job_roles")
    op.drop_table("role_terms")
    op.drop_index("ix_global_roles_embedding_hnsw", table_name="global_roles")
    op.drop_index("ix_global_roles_parent_id", table_name="global_roles")
    op.drop_constraint("fk_global_roles_parent_id_global_roles", "global_roles")
    op.drop_constraint("uq_global_roles_code", "global_roles")
    for column in ("embedding", "source", "parent_id", "group_name", "group_code"):
        op.drop_column("global_roles", column)
    op.drop_column("global_roles", "description")
    op.drop_column("global_roles", "code")
    op.execute("DELETE FROM global_roles WHERE length(name) > 120")
    op.alter_column("global_roles", "name", type_=sa.String(120))
