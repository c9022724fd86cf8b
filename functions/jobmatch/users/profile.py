"""A free-signup user as the engine scores them: preferences to `ProfileFeatures`."""

from __future__ import annotations

from collections.abc import Sequence

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.deadline import Deadline
from jobmatch.embeddings.store import preferences_embedding
from jobmatch.matching import store as matches
from jobmatch.matching.errors import UserNotFoundError
from jobmatch.matching.scoring import MatchResult, ProfileFeatures
from jobmatch.matching.service import match_profile
from jobmatch.roles.resolver import ResolverLimits
from jobmatch.settings import Settings
from jobmatch.users import store as users
from jobmatch.users.preferences import Preferences


def preferences_profile(
    uow: UnitOfWork,
    profile_id: int | None,
    prefs: Preferences,
    embedder: EmbeddingProvider | None = None,
    limits: ResolverLimits | None = None,
) -> ProfileFeatures:
    """Scoring features of a user's preferences (role names resolved to role ids,
    by meaning when an embedder is given, within `limits` as job titles are); a
    stored user's (`profile_id`) with their learnt affinity and excluded jobs."""
    return ProfileFeatures.build(
        profile_id,
        skills=prefs.skills,
        experience_years=prefs.experience_years,
        locations=prefs.locations,
        countries=prefs.countries,
        remote_ok=prefs.remote_ok,
        salary_expectation=prefs.salary_min,
        role_ids=matches.resolve_preferred_roles(uow, prefs.roles, embedder, limits),
        affinity=matches.user_affinity(uow, profile_id) if profile_id else None,
        excluded_job_ids=matches.excluded_job_ids(uow, profile_id) if profile_id else (),
    )


def user_profile(
    uow: UnitOfWork,
    user_id: int,
    embedder: EmbeddingProvider,
    limits: ResolverLimits | None = None,
) -> tuple[ProfileFeatures, list[float]]:
    """A stored user's scoring features and embedding (computed and stored if
    missing); UserNotFoundError when the user or their preferences are gone."""
    prefs = users.preferences_of(uow, user_id)
    if prefs is None:
        raise UserNotFoundError(f"user {user_id} has no preferences")
    embedding = preferences_embedding(uow, user_id, embedder) or []
    return preferences_profile(uow, user_id, prefs, embedder, limits), embedding


def match_user(
    uow: UnitOfWork,
    user_id: int,
    settings: Settings,
    embedder: EmbeddingProvider,
    *,
    limit: int | None = None,
    deadline: Deadline | None = None,
    job_hashes: Sequence[str] | None = None,
) -> list[MatchResult]:
    """A stored user's best matches (the engine's, not saved)."""
    limits = ResolverLimits.from_settings(settings)
    profile, embedding = user_profile(uow, user_id, embedder, limits)
    return match_profile(
        uow,
        profile,
        embedding,
        settings,
        job_hashes=job_hashes,
        limit=limit,
        deadline=deadline,
    )
