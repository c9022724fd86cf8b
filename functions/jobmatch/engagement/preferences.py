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

from typing import Any

import inngest
from sqlalchemy import BigInteger, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from jobmatch.db.models import User, UserPreferences
from jobmatch.db.session import session_scope
from jobmatch.failures import legacy_step_body
from jobmatch.runs.progress import RunRef, advance


@legacy_step_body
def apply_preference(
    ref: dict[str, Any], user_id: int, column: str, value: Any, version_ms: int
) -> dict[str, Any]:
    """Set `column` (a preferences column, or the user's `timezone`) to `value` unless
    a newer edit of it was applied already."""
    with session_scope() as session:
        if session.get(User, user_id) is None:
            raise inngest.NonRetriableError(f"user {user_id} not found")
        session.execute(
            insert(UserPreferences)
            .values(user_id=user_id, remote_ok=True)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        seen = cast(UserPreferences.field_versions[column].astext, BigInteger)
        changes: dict[str, Any] = {
            "field_versions": UserPreferences.field_versions.op("||")(
                func.jsonb_build_object(column, literal(version_ms))
            ),
            "updated_at": func.now(),
        }
        if column != "timezone":
            changes |= {column: value, "embedding": None}
        applied = session.execute(
            update(UserPreferences)
            .where(
                UserPreferences.user_id == user_id,
                func.coalesce(seen, 0) <= version_ms,
            )
            .values(changes)
            .returning(UserPreferences.user_id)
        ).first()
        if applied is not None and column == "timezone":
            session.execute(update(User).where(User.id == user_id).values(timezone=value))
        advance(session, RunRef.from_dict(ref), 1, done=True, detail={"applied": bool(applied)})
    return {"field": column, "applied": applied is not None}


@legacy_step_body
def rerank_target(user_id: int) -> dict[str, Any] | None:
    """Whether the user still exists, and is premium (their re-rank runs first)."""
    with session_scope() as session:
        premium = session.scalar(select(User.is_premium).where(User.id == user_id))
    return None if premium is None else {"user_id": user_id, "premium": bool(premium)}
