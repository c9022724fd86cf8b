"""Free signup: a new address creates its user; an existing one changes nothing yet.

One user per email (lower-cased), one preferences row per user. A signup for a
new address creates both. A signup for an address that is already signed up must
not change that user: anyone can post a signup with anyone's address, and the
change could redirect the user's notifications (the webhook) to someone else. So
it is stored as a pending change and applied only when the owner of the address
confirms it from their mailbox (`signup_confirmation`).

The immediate matches are computed from the submitted preferences in both cases
(saved only for a new user), so the answer is the same whether or not the
address was known. A signup enters here once, `sign_up`, whatever its mode.

A client's retry of the signup that created its user (identical, within
`signup_retry_minutes`, before any confirmed change: `users.store.is_retry_of_creation`)
is that signup again, not a change: no confirmation email, no second run. The run
is recorded in the event outbox with the user, so the answer never waits on the
event API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.deadline import Deadline
from jobmatch.embeddings.providers import DeadlineBoundEmbeddings
from jobmatch.embeddings.store import preferences_vector
from jobmatch.events.outbox import EventSender, publish
from jobmatch.matching import service
from jobmatch.matching.read_store import StoredMatch, describe_results
from jobmatch.roles.resolver import ResolverLimits
from jobmatch.settings import Settings
from jobmatch.step_contract import StepDeps
from jobmatch.users import store as users
from jobmatch.users.batch import matching_event
from jobmatch.users.preferences import SignupInput
from jobmatch.users.profile import preferences_profile
from jobmatch.users.signup_confirmation import request_confirmation

Mode = Literal["sync", "async"]


class SignupDeps(StepDeps, Protocol):
    """What a signup uses (the app's `Dependencies` provides it)."""

    @property
    def signup_token_key(self) -> bytes:
        """The key confirmation tokens are signed with."""

    @property
    def inngest(self) -> EventSender:
        """The Inngest client (the outbox sends the signup's run with it)."""


@dataclass(frozen=True)
class SignupOutcome:
    """The answer to a signup."""

    matches: list[StoredMatch]
    complete: bool


def sign_up(
    deps: SignupDeps,
    signup: SignupInput,
    *,
    mode: Mode,
    request_id: str,
    link: Callable[[str], str],
) -> SignupOutcome:
    """A signup, whole: the preferences embedded (no connection held meanwhile); a
    new user created (or its creating signup retried), or a repeat signup stored as
    a pending change and its confirmation emailed (`link(token)` is the emailed
    link), committed; then, in sync mode, the immediate matches (saved for a new
    user) in a unit of their own. The durable `matching/perform` run, due for a new
    user in async mode or when USE_INNGEST_FOR_MATCHING is on, is recorded in the
    outbox with the user (sent after the commit, or by the outbox's flush)."""
    settings = deps.settings
    is_async = mode == "async"
    now = datetime.now(UTC)
    embedding = preferences_vector(signup.preferences(), deps.embedder)
    with deps.unit_of_work() as uow:
        user = users.create_or_find_user(uow, signup, embedding)
        first = user.created or users.is_retry_of_creation(
            uow,
            user.id,
            signup,
            created_after=now - timedelta(minutes=settings.signup_retry_minutes),
        )
        if first and (is_async or settings.use_inngest_for_matching):
            event = matching_event(
                user.id,
                user.is_premium,
                source="signup/free",
                request_id=request_id,
                notify=is_async,
                event_id=f"signup-{user.id}",
            )
            publish(uow, deps.inngest, [event])
        if not first:
            request_confirmation(
                uow,
                user_id=user.id,
                signup=signup,
                request_id=request_id,
                mode=mode,
                mailer=deps.mailer,
                key=deps.signup_token_key,
                now=now,
                hours=settings.signup_confirmation_hours,
                per_hour=settings.signup_confirmations_per_hour,
                link=link,
            )
    matches: list[StoredMatch] = []
    complete = False
    if mode == "sync":
        with deps.unit_of_work() as uow:
            matches, complete = signup_matches(
                uow, signup, embedding, settings, save=first, embedder=deps.embedder
            )
    return SignupOutcome(matches=matches, complete=complete)


def signup_matches(
    uow: UnitOfWork,
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
    `embedder`, within the same limits), so both answers reach the same jobs; the
    lookup by meaning is held to the signup's budget like the scoring."""
    deadline = Deadline.after(settings.signup_time_budget_seconds)
    bound = DeadlineBoundEmbeddings(embedder, deadline) if embedder else None
    limits = ResolverLimits.from_settings(settings)
    profile = preferences_profile(uow, None, signup.preferences(), bound, limits)
    results = service.match_profile(uow, profile, embedding, settings, deadline=deadline)
    complete = not deadline.expired
    if save:
        service.save_user_matches(uow, signup.email, results)
    return describe_results(uow, results), complete
