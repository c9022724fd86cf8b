"""Matching: candidate_job_matches takes user_matches' score column names.

Revision ID: 0004_match_columns
Revises: 0002_matching

Both match tables now store a match under the same names, so one mapping writes
and reads them. `semantic` means one thing in both: the 0-100 `semantic_score`
(100 * max(0, cosine similarity)), which is what the engine scores with; the
stored raw cosine is converted. Downgrade divides by 100 again: a negative cosine
was already shown and scored as 0, so it comes back as 0.
"""

from __future__ import annotations

from alembic import op

revision = "0004_match_columns"
down_revision = "0002_matching"
branch_labels = None
depends_on = None

TABLE = "candidate_job_matches"
RENAMES = (
    ("match_score", "score"),
    ("skill_match_score", "skill_score"),
    ("experience_match_score", "experience_score"),
    ("location_match_score", "location_score"),
    ("salary_match_score", "salary_score"),
    ("match_reasons", "reasons"),
)


def upgrade() -> None:
    for old, new in RENAMES:
        op.alter_column(TABLE, old, new_column_name=new)
    op.alter_column(TABLE, "semantic_similarity", new_column_name="semantic_score")
    # Rounded to one decimal, as the engine writes every score.
    op.execute(
        f"UPDATE {TABLE} SET semantic_score = "  # noqa: S608 - TABLE is this file's constant
        "round((100 * greatest(0, semantic_score))::numeric, 1)"
    )


def downgrade() -> None:
    op.execute(f"UPDATE {TABLE} SET semantic_score = semantic_score / 100")  # noqa: S608 - constant
    op.alter_column(TABLE, "semantic_score", new_column_name="semantic_similarity")
    for old, new in RENAMES:
        op.alter_column(TABLE, new, new_column_name=old)
