"""`preference/updated`: apply one field's change; who a re-rank is for.

Every edit is applied by its own run, at once: a debounced function keeps only
the last event of a burst, so an edit of `roles` followed by one of `skills`
would lose the first if the debounced run applied changes. Instead the re-rank
is the debounced part (`engagement/rerank.requested`, keyed by user) and reads
the full, current preferences from the database, whatever came in between.

Edits can arrive out of order (retries, parallel runs). Each field remembers the
event time of the edit that set it (`field_versions`, ms); an older edit never
overwrites a newer one (edits of the same millisecond: the one applied last wins),
and the same edit applied twice sets the same value.
A changed preference drops the stored embedding: the re-rank computes the new one.
"""

from __future__ import annotations

import inngest
from pydantic import JsonValue

from jobmatch.engagement import store
from jobmatch.engagement.activity import RunStep
from jobmatch.runs.progress import advance
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body


class PreferenceEdit(RunStep):
    """One field's new value, and the time of the edit (ms, its version)."""

    user_id: int
    column: str
    value: JsonValue
    version_ms: int


class PreferenceApplied(StepOutput):
    """The field, and whether this edit is now its value."""

    field: str
    applied: bool


class RerankUser(StepInput):
    """The user a re-rank is for."""

    user_id: int


class RerankTarget(StepOutput):
    """A user to re-rank; premium users' runs go first."""

    user_id: int
    premium: bool


@step_body
def apply_preference(deps: StepDeps, inp: PreferenceEdit) -> PreferenceApplied:
    """Set `column` (a preferences column, or the user's `timezone`) to `value` unless
    a newer edit of it was applied already."""
    with deps.unit_of_work() as uow:
        if not store.user_exists(uow, inp.user_id):
            raise inngest.NonRetriableError(f"user {inp.user_id} not found")
        applied = store.set_preference(uow, inp.user_id, inp.column, inp.value, inp.version_ms)
        advance(uow, inp.ref, 1, done=True, detail={"applied": applied})
    return PreferenceApplied(field=inp.column, applied=applied)


@step_body
def rerank_target(deps: StepDeps, inp: RerankUser) -> RerankTarget | None:
    """Whether the user still exists, and is premium (their re-rank runs first)."""
    with deps.unit_of_work() as uow:
        premium = store.is_premium(uow, inp.user_id)
    return None if premium is None else RerankTarget(user_id=inp.user_id, premium=premium)
