"""Free signup: a new address creates its user; an existing one changes nothing yet.

One user per email (lower-cased), one preferences row per user. A signup for a
new address creates both (`INSERT .. ON CONFLICT DO NOTHING`, so two concurrent
signups for one email cannot create two users). A signup for an address that is
already signed up must not change that user: anyone can post a signup with
anyone's address, and the change could redirect the user's notifications (the
webhook) to someone else. So it is stored as a pending change and applied only
when the owner of the address confirms it from their mailbox
(`signup_confirmation`); `apply_profile` is how it is applied then.

The immediate matches are computed from the submitted preferences in both cases
(saved only for a new user), so the answer is the same whether or not the
address was known.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.ai.embeddings import EmbeddingProvider
from jobmatch.db.models import User, UserPreferences
from jobmatch.deadline import Deadline
from jobmatch.matching import service
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

    def preferences(self) -> dict[str, Any]:
        """The preferences, in the mapping shape the embedding and scoring read."""
        return {
            "roles": self.roles,
            "skills": self.skills,
            "locations": self.locations,
            "countries": self.countries,
            "remote_ok": self.remote_ok,
            "salary_min": self.salary_min,
            "experience_years": self.experience_years,
        }

    def to_payload(self) -> dict[str, Any]:
        """JSON form, for a pending change."""
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SignupInput:
        """Back from `to_payload`."""
        return cls(**payload)


@dataclass(frozen=True)
class SignedUpUser:
    """A user a signup names, and whether this signup created them."""

    id: int
    email: str
    is_premium: bool
    created: bool


def _write_preferences(
    session: Session, user_id: int, signup: SignupInput, embedding: list[float]
) -> None:
    values = {**signup.preferences(), "embedding": embedding}
    session.execute(
        insert(UserPreferences)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )


def create_or_find_user(
    session: Session, signup: SignupInput, embedding: list[float]
) -> SignedUpUser:
    """Create the user and preferences if the address is new; otherwise return the
    existing user unchanged (`created` False). The embedding is computed by the
    caller first: the session takes its connection only at the first statement, so
    a slow embedding call holds no database connection."""
    row: Any = session.execute(
        insert(User)
        .values(email=signup.email, name=signup.name, webhook_url=signup.webhook_url)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id, User.is_premium)
    ).first()
    if row is not None:
        _write_preferences(session, row.id, signup, embedding)
        return SignedUpUser(row.id, signup.email, row.is_premium, created=True)
    existing: Any = session.execute(
        select(User.id, User.is_premium).where(User.email == signup.email)
    ).one()
    return SignedUpUser(existing.id, signup.email, existing.is_premium, created=False)


def apply_profile(
    session: Session, user_id: int, signup: SignupInput, embedding: list[float]
) -> None:
    """Replace a user's name, webhook and preferences (a confirmed change)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(name=signup.name, webhook_url=signup.webhook_url)
    )
    _write_preferences(session, user_id, signup, embedding)


def signup_matches(
    session: Session,
    signup: SignupInput,
    embedding: list[float],
    settings: Settings,
    *,
    save: bool,
    embedder: EmbeddingProvider | None = None,
) -> tuple[list[StoredMatch], bool]:
    """The immediate answer: the engine's best matches for the submitted
    preferences found within the signup time budget, saved (upsert on user_email,
    job_hash) when `save`, and whether the budget held.

    Rule-based only: an LLM call could spend the whole budget, so AI re-ranking is
    left to the durable run, which saves later and so overwrites these rows.
    `complete` is conservative: a run that finished just after the budget also
    reports False, which only means the durable run's result should be awaited.
    The roles typed resolve as the durable run resolves them (by meaning too, with
    `embedder`), so both answers reach the same jobs."""
    deadline = Deadline.after(settings.signup_time_budget_seconds)
    profile = service.preferences_profile(session, None, signup.preferences(), embedder)
    results = service.match_profile(session, profile, embedding, settings, deadline=deadline)
    complete = not deadline.expired
    if save:
        service.save_user_matches(session, signup.email, results)
    return describe_results(session, results), complete
