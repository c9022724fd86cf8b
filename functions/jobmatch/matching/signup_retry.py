"""A signup for a known address that is its creator's retry, not someone's change.

A client that retries a signup (a timeout, a lost answer, a proxy's 502) sends the
same request again, and the address is then known: without this check the retry
would be treated as a change to an existing user, stored as pending, and the
person emailed a link to confirm what they themselves just sent (and, before the
event outbox, the run the first try recorded was never started).

The request is recognised by its fingerprint rather than an `Idempotency-Key`
header, because the clients that retry blindly (a browser form resubmitted, a
gateway's retry) do not send one: a signup is the same request when it is
identical to the stored user (name, webhook, every preference) and the user was
created by a signup less than `signup_retry_minutes` ago and has confirmed no
change since. Treating it as the first request changes nothing (what it would
write is what is stored), so an attacker who knows an address *and* its exact
preferences learns nothing and changes nothing; the answer is computed from the
submitted preferences, as for any signup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from jobmatch.db.models import SignupConfirmation, User, UserPreferences
from jobmatch.matching.signup import SignupInput


def is_retry_of_creation(
    session: Session, user_id: int, signup: SignupInput, *, created_after: datetime
) -> bool:
    """Whether `signup` repeats the signup that created `user_id` (see the module)."""
    row = session.execute(
        select(User, UserPreferences)
        .join(UserPreferences, UserPreferences.user_id == User.id)
        .where(User.id == user_id, User.created_at > created_after)
    ).one_or_none()
    if row is None:
        return False
    confirmed = session.scalar(
        select(
            exists().where(
                SignupConfirmation.user_id == user_id, SignupConfirmation.used_at.is_not(None)
            )
        )
    )
    if confirmed:
        return False
    user, prefs = row
    stored = SignupInput(
        email=user.email,
        name=user.name,
        roles=list(prefs.roles),
        skills=list(prefs.skills),
        locations=list(prefs.locations),
        countries=list(prefs.countries),
        salary_min=prefs.salary_min,
        experience_years=prefs.experience_years,
        remote_ok=prefs.remote_ok,
        webhook_url=user.webhook_url,
    )
    return stored == signup
