"""Role resolution tables: the terms roles are searched by, the roles each job
resolved to, and which embedding model wrote the stored vectors.

`role_terms` holds one vector per role name and alias: a title is compared with
each term and with the role's own vector (name, aliases and description), and the
two are blended, which ranks the right role higher than either alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base
from jobmatch.db.models.matching import EMBEDDING_DIM, hnsw_index

# How a job got a role: its cleaned title is a role's name or alias, or its vector is
# near the role's; `family` rows are the best role's parent, children and siblings,
# offered to their candidates at a lower score.
ROLE_METHODS = ("exact", "alias", "vector", "family")


class RoleTerm(Base):
    """A role's name or one of its aliases, with its vector."""

    __tablename__ = "role_terms"
    __table_args__ = (UniqueConstraint("role_id", "term"), hnsw_index("role_terms"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("global_roles.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(Text)
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIM))


class JobRole(Base):
    """One of a job's roles: rank 1 is the best (also `jobs.normalized_role_id`)."""

    __tablename__ = "job_roles"
    __table_args__ = (Index("ix_job_roles_role_id", "role_id"),)

    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("global_roles.id", ondelete="CASCADE"), primary_key=True
    )
    similarity: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(SmallInteger)
    method: Mapped[str] = mapped_column(String(10))


class EmbeddingState(Base):
    """Which model wrote the database's vectors (one row). Vectors of two models are
    not comparable, so a provider that is not this one refuses to write or search
    until `system/reembed` has moved every vector to it (`target_model` while it runs)."""

    __tablename__ = "embedding_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    model: Mapped[str] = mapped_column(String(120))
    target_model: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
