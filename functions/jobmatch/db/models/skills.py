"""The skills taxonomy and the skill tags extracted from jobs."""

from __future__ import annotations

from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jobmatch.db.base import Base, TimestampMixin
from jobmatch.db.models.matching import EMBEDDING_DIM, hnsw_index, text_array


class Skill(TimestampMixin, Base):
    """A skill of the taxonomy. `exact_case` lists its names that are also everyday
    words ("Go", "Chef", "Excel"): free text names the skill by them only in their
    own spelling. `embedding` is the vector of the name and aliases, for phrases
    no name matches."""

    __tablename__ = "skills"
    __table_args__ = (hnsw_index("skills"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = text_array()
    category: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(String(20), default="custom")
    exact_case: Mapped[list[str]] = text_array()
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIM))


class JobSkill(Base):
    """A job's skill tag: how sure (0-1) and how it was found (exact, alias, vector;
    prefixed `llm-` when the phrase came from the LLM)."""

    __tablename__ = "job_skills"

    job_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
