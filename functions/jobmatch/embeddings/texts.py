"""The text of each entity that gets a vector: a job, a candidate and a user's
preferences are turned into text the same way by every caller, so their vectors
are comparable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from jobmatch.embeddings.providers import MAX_INPUT_CHARS

if TYPE_CHECKING:
    from jobmatch.db.models.matching import Candidate, Job


class PreferencesText(Protocol):
    """What a user's preferences text is made of: a stored row, a signup's or an
    event's `Preferences` all have these."""

    @property
    def roles(self) -> Sequence[str]:
        """Role names."""

    @property
    def skills(self) -> Sequence[str]:
        """Skills."""

    @property
    def locations(self) -> Sequence[str]:
        """Places."""

    @property
    def experience_years(self) -> int | None:
        """Years of experience."""


def _join(*parts: object) -> str:
    return "\n".join(str(p) for p in parts if p not in (None, "", [], ()))


def _listed(label: str, values: Iterable[str]) -> str:
    items = [v for v in values if v]
    return f"{label}: {', '.join(items)}" if items else ""


def job_embedding_text(job: Job) -> str:
    """What a job is about: title first (it carries the role), then skills and text."""
    return _join(
        job.title,
        _listed("Skills", job.skills or []),
        f"Location: {job.location}" + (" (remote)" if job.remote else "") if job.location else "",
        (job.description or "")[:MAX_INPUT_CHARS],
    )


def _role_names(raw: Iterable[Any]) -> list[str]:
    """Role names given as text (ids carry no meaning for an embedding)."""
    return [str(r) for r in raw if isinstance(r, str)]


def candidate_embedding_text(candidate: Candidate) -> str:
    """What a candidate offers and wants, in the job text's vocabulary."""
    return _join(
        _listed("Roles", _role_names(candidate.preferred_roles or [])),
        _listed("Skills", candidate.skills or []),
        f"{candidate.experience_years} years experience"
        if candidate.experience_years is not None
        else "",
        f"Location: {candidate.location}" if candidate.location else "",
    )


def preferences_embedding_text(preferences: PreferencesText) -> str:
    """What a free-signup user is looking for, from any of its sources (a stored
    row, a signup not yet written, preferences an event carried inline)."""
    experience = preferences.experience_years
    return _join(
        _listed("Roles", preferences.roles or []),
        _listed("Skills", preferences.skills or []),
        _listed("Locations", preferences.locations or []),
        f"{experience} years experience" if experience is not None else "",
    )
