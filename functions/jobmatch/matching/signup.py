"""Free signup: create or update a user and their preferences, with an embedding.

A repeated signup for the same email updates the user (one row per email, one
preferences row per user): both writes are `INSERT .. ON CONFLICT DO UPDATE`,
so two concurrent signups for one email cannot create two users either. The
preferences' embedding is computed here, before the matching that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.ai.embeddings import EmbeddingProvider
from jobmatch.db.models import User, UserPreferences
from jobmatch.deadline import Deadline
from jobmatch.matching import service
from jobmatch.matching.embedding_store import preferences_vector
from jobmatch.matching.match_reads import StoredMatch, describe_results
from jobmatch.settings import Settings


@dataclass(frozen=True)
class SignupInput:
    """A validated signup (email lower-cased, lists cleaned)."""

    email: str
    name: str | None
    roles: list[str]
    skills: list[str]
    locations: list[str]
    countries: list[str]
    salary_min: int | None
    experience_years: int | None
    remote_ok: bool
    webhook_url: str | None = None


@dataclass(frozen=True)
class SignedUpUser:
    """Who signed up, and whether this signup created them."""

    id: int
    email: str
    is_premium: bool
    created: bool


def upsert_signup(
    session: Session, signup: SignupInput, embedder: EmbeddingProvider
) -> SignedUpUser:
    """Create or update the user and preferences in the caller's transaction.

    The embedding is computed first: the session takes its connection only at
    the first statement, so a slow embedding call holds no database connection."""
    preferences: dict[str, Any] = {
        "roles": signup.roles,
        "skills": signup.skills,
        "locations": signup.locations,
        "countries": signup.countries,
        "remote_ok": signup.remote_ok,
        "salary_min": signup.salary_min,
        "experience_years": signup.experience_years,
    }
    values = {**preferences, "embedding": preferences_vector(preferences, embedder)}
    user_values = {"name": signup.name, "webhook_url": signup.webhook_url}
    # `xmax = 0` is true only for a row this statement inserted (not updated).
    row: Any = session.execute(
        insert(User)
        .values(email=signup.email, **user_values)
        .on_conflict_do_update(index_elements=["email"], set_=user_values)
        .returning(User.id, User.is_premium, literal_column("(xmax = 0)").label("created"))
    ).one()
    session.execute(
        insert(UserPreferences)
        .values(user_id=row.id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    return SignedUpUser(
        id=row.id, email=signup.email, is_premium=row.is_premium, created=row.created
    )


def signup_matches(
    session: Session, user: SignedUpUser, settings: Settings, embedder: EmbeddingProvider
) -> tuple[list[StoredMatch], bool]:
    """The immediate answer: the engine's best matches found within the signup time
    budget, saved (upsert on user_email, job_hash), and whether the budget held.

    Rule-based only: an LLM call could spend the whole budget, so AI re-ranking is
    left to the durable run, which saves later and so overwrites these rows.
    `complete` is conservative: a run that finished just after the budget also
    reports False, which only means the durable run's result should be awaited."""
    deadline = Deadline.after(settings.signup_time_budget_seconds)
    results = service.match_user(session, user.id, settings, embedder, deadline=deadline)
    complete = not deadline.expired
    service.save_user_matches(session, user.email, results)
    return describe_results(session, results), complete
