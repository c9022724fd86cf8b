"""Matching tables: jobs, roles, free-signup users, tenants' candidates, and matches.

Array columns are NOT NULL with an empty default so SQL array operators (`&&`,
`cardinality`) never have to treat NULL specially. Embeddings have `EMBEDDING_DIM`
dimensions (the same for the Bedrock and the offline provider) and an HNSW index
with cosine ops, the operator (`<=>`) the matching queries use. Both match tables
take their score columns from `MatchColumns`, named as `scoring.StoredScores`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin

# The width of every vector column. A schema value cannot come from the environment
# at migration time (a database migrated with one value and read with another breaks
# every insert), so it is a constant; changing it takes a migration.
EMBEDDING_DIM = 256
EMPTY_ARRAY = text("'{}'")

# Candidate statuses that take part in matching.
MATCHABLE_STATUSES = ("approved", "ready_for_assignment")


def text_array() -> Mapped[list[str]]:
    """A NOT NULL text[] column defaulting to empty."""
    return mapped_column(ARRAY(Text), default=list, server_default=EMPTY_ARRAY)


def hnsw_index(table: str) -> Index:
    """The cosine HNSW index on `table.embedding` (pgvector defaults m=16, ef=64)."""
    return Index(
        f"ix_{table}_embedding_hnsw",
        "embedding",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )


class GlobalRole(Base):
    """A canonical role (lower-case name) and the aliases titles are normalised from."""

    __tablename__ = "global_roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    aliases: Mapped[list[str]] = text_array()


class Job(TimestampMixin, Base):
    """A job posting from any source; `job_hash` is its natural key."""

    __tablename__ = "jobs"
    __table_args__ = (hnsw_index("jobs"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    company: Mapped[str] = mapped_column(String(200))
    normalized_role_id: Mapped[int | None] = mapped_column(
        ForeignKey("global_roles.id", ondelete="SET NULL"), index=True
    )
    skills: Mapped[list[str]] = text_array()
    location: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2))
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    salary_min: Mapped[int | None] = mapped_column(Integer)
    salary_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    experience_min: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(60))
    external_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    posted_date: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Set once `jobs/imported` naming this job was accepted by Inngest. An import
    # whose event could not be sent leaves it NULL, and a retry announces it then.
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIM))


class User(TimestampMixin, Base):
    """A free-signup user (email lower-cased before it is stored)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_premium: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    webhook_url: Mapped[str | None] = mapped_column(String(1000))
    # IANA zone name: the daily digest goes out at 9 AM here.
    timezone: Mapped[str] = mapped_column(
        String(64), default="UTC", server_default="UTC", index=True
    )


class UserPreferences(Base):
    """What a free-signup user is looking for (1:1 with users). The GIN index on
    `roles` serves new-job alerts (users whose roles name a new job's role)."""

    __tablename__ = "user_preferences"
    __table_args__ = (Index("ix_user_preferences_roles", "roles", postgresql_using="gin"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    roles: Mapped[list[str]] = text_array()
    skills: Mapped[list[str]] = text_array()
    locations: Mapped[list[str]] = text_array()
    countries: Mapped[list[str]] = text_array()
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    salary_min: Mapped[int | None] = mapped_column(Integer)
    experience_years: Mapped[int | None] = mapped_column(Integer)
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIM))
    # When each field was last changed by a `preference/updated` (event ms): an
    # older edit that arrives late does not overwrite a newer one.
    field_versions: Mapped[dict[str, int]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class MatchColumns:
    """The scores of a match (0-100), its skills and reasons: the same columns, by the
    same names, in `user_matches` and `candidate_job_matches`, so one mapping
    (`scoring.stored_fields`) writes and reads both."""

    score: Mapped[float] = mapped_column(Float)
    skill_score: Mapped[float] = mapped_column(Float)
    experience_score: Mapped[float] = mapped_column(Float)
    location_score: Mapped[float] = mapped_column(Float)
    salary_score: Mapped[float] = mapped_column(Float)
    semantic_score: Mapped[float] = mapped_column(Float)
    matched_skills: Mapped[list[str]] = text_array()
    missing_skills: Mapped[list[str]] = text_array()
    reasons: Mapped[list[str]] = text_array()
    is_recommended: Mapped[bool] = mapped_column(Boolean, default=False)


class UserMatch(MatchColumns, TimestampMixin, Base):
    """A job matched to a free-signup user; upserted on (user_email, job_hash), so a
    later run (the durable one, or an AI re-rank) replaces an earlier one's row."""

    __tablename__ = "user_matches"
    __table_args__ = (UniqueConstraint("user_email", "job_hash"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_email: Mapped[str] = mapped_column(String(320))
    job_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))


class Tenant(Base):
    """A staffing company; its candidates and their matches are visible to it only."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Candidate(TimestampMixin, Base):
    """A tenant's candidate. `preferred_roles` keeps what was given (role ids or names);
    `preferred_role_ids` is its resolution, which the SQL filter uses."""

    __tablename__ = "candidates"
    __table_args__ = (
        Index("ix_candidates_preferred_role_ids", "preferred_role_ids", postgresql_using="gin"),
        hnsw_index("candidates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(30), default="pending", index=True)
    preferred_roles: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    preferred_role_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=list, server_default=EMPTY_ARRAY
    )
    skills: Mapped[list[str]] = text_array()
    experience_years: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    salary_expectation: Mapped[int | None] = mapped_column(Integer)
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIM))


class CandidateJobMatch(MatchColumns, TimestampMixin, Base):
    """A job matched to a candidate; upserted on (candidate_id, job_id)."""

    __tablename__ = "candidate_job_matches"
    __table_args__ = (UniqueConstraint("candidate_id", "job_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
