"""The bodies of the free-signup users' steps: match one user, save, load a batch.

Each is a `step_body` (a user that is not there, `UserNotFoundError`, ends the run
without retries) and opens its own unit of work. The matching step's results are
capped by `user_match_limit`: Inngest sends every memoized output back with each
later call.
"""

from __future__ import annotations

from pydantic import Field

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.deadline import Deadline
from jobmatch.embeddings.providers import DeadlineBoundEmbeddings
from jobmatch.embeddings.store import preferences_vector
from jobmatch.events.matching import PerformMatching
from jobmatch.matching import service
from jobmatch.matching import store as matches
from jobmatch.matching.errors import UserNotFoundError
from jobmatch.matching.scoring import MatchResult
from jobmatch.roles.resolver import ResolverLimits
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body
from jobmatch.users import store as users
from jobmatch.users.preferences import Preferences
from jobmatch.users.profile import preferences_profile, user_profile

# match-with-fallback: rule-based scoring gets at most this share of the step's
# budget; the LLM re-rank gets what is left, less a margin to return the result.
RULES_SHARE = 0.5
RESULT_MARGIN_SECONDS = 0.5


class UserToMatch(StepInput):
    """A stored user, or preferences sent inline with the email they belong to."""

    user_id: int | None = None
    email: str | None = None
    preferences: Preferences | None = None
    job_hashes: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, event: PerformMatching) -> UserToMatch:
        """Who `matching/perform` names: its user, or its inline preferences' email."""
        inline = event.user_prefs
        return cls(
            user_id=event.user_id,
            email=None if inline is None else inline.email,
            preferences=None
            if inline is None
            else Preferences(**inline.model_dump(exclude={"email"})),
            job_hashes=event.wanted_hashes,
        )


class UserMatches(StepOutput):
    """Who was matched (id None: someone not stored), how, and the best matches."""

    user_id: int | None
    email: str
    method: str
    results: list[MatchResult]


def find_user(uow: UnitOfWork, inp: UserToMatch) -> tuple[int | None, str]:
    """Who is matched, as (id, email): a stored user by id (unknown is final), or by
    the email of preferences sent inline (then possibly someone not stored: id None)."""
    if inp.user_id is not None:
        user = users.by_id(uow, inp.user_id)
        if user is None:
            raise UserNotFoundError(f"user {inp.user_id} not found")
        return user.id, user.email
    email = str(inp.email).strip().lower()
    return users.id_of_email(uow, email), email


@step_body
def match_with_fallback(deps: StepDeps, inp: UserToMatch) -> UserMatches:
    """Who is matched (`find_user`: a lookup too small for a step of its own), the
    rule-based engine's best matches, then an LLM re-rank of the top ones (any AI
    failure, AI off, or no time left keeps the rule-based result). The profile is
    built once and serves both. One deadline for the whole step: the profile's
    embedding and the scoring get part of it, the LLM what is left."""
    settings = deps.settings
    deadline = Deadline.after(settings.step_budget_seconds)
    embedder = DeadlineBoundEmbeddings(deps.embedder, deadline)
    with deps.unit_of_work() as uow:
        user_id, email = find_user(uow, inp)
        limits = ResolverLimits.from_settings(settings)
        if user_id is not None:
            profile, embedding = user_profile(uow, user_id, embedder, limits)
        else:
            prefs = inp.preferences or Preferences()
            profile = preferences_profile(uow, None, prefs, embedder, limits)
            embedding = preferences_vector(prefs, embedder)
        results = service.match_profile(
            uow,
            profile,
            embedding,
            settings,
            job_hashes=inp.job_hashes,
            deadline=deadline.part(settings.step_budget_seconds * RULES_SHARE),
        )
        jobs = matches.load_jobs(uow, [r.job_id for r in results])
    # The LLM call happens with the connection back in the pool: a slow model
    # must not hold one of RDS Proxy's connections for its whole timeout.
    ranked, method = service.ai_rerank(
        results,
        profile,
        jobs,
        llm=deps.llm,
        top_n=settings.ai_rerank_top_n,
        deadline=deadline.part(keep=RESULT_MARGIN_SECONDS),
    )
    return UserMatches(user_id=user_id, email=email, method=method, results=ranked)


class MatchesToSave(StepInput):
    """A user's matches, by their email."""

    email: str
    results: list[MatchResult]


@step_body
def save_user_matches(deps: StepDeps, inp: MatchesToSave) -> int:
    """Upsert a user's matches (on user_email, job_hash); how many were written."""
    with deps.unit_of_work() as uow:
        return service.save_user_matches(uow, inp.email, inp.results)


class UserIds(StepInput):
    """These users."""

    user_ids: list[int]


class UserFlag(StepOutput):
    """A user, and whether their runs go first."""

    id: int
    is_premium: bool


@step_body
def load_users(deps: StepDeps, inp: UserIds) -> list[UserFlag]:
    """Those of the users that exist, by id, with their premium flag."""
    with deps.unit_of_work() as uow:
        return [UserFlag(id=u.id, is_premium=u.is_premium) for u in users.by_ids(uow, inp.user_ids)]
