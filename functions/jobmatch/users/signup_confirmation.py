"""A repeat signup's change, applied only when the address's owner confirms it.

`request_confirmation` stores the submitted signup as a pending change and emails
the address a link carrying a signed token (`security.tokens`) through the one
mail path, keyed by the signup request (a retried step or request sends it once).
The database keeps the token's hash only. An address gets at most a few such
emails an hour (`SIGNUP_CONFIRMATIONS_PER_HOUR`): anyone can post a signup with
anyone's address, and without a bound the public route would mail a victim (and
spend the sender's reputation) as fast as the API lets it. Past the bound the repeat
signup is dropped, stored nowhere; its answer is the same as ever.

Opening the link shows what would change (`load_change`); nothing is applied by a
GET, because mail scanners open links. The form's POST applies it (`apply_change`):
the token is claimed (`used_at` set) in the same transaction that writes the user
and preferences, so a token works once and a change is applied whole or not at
all. Until then the stored user, and so where their notifications go, is as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.templates import email
from jobmatch.observability import logger
from jobmatch.security.tokens import make_token, token_hash, token_valid
from jobmatch.users import confirmation_store as changes
from jobmatch.users import store as users
from jobmatch.users.preferences import SignupInput

KIND = "signup-confirmation"


class ConfirmationError(LookupError):
    """The link is unknown, forged or expired (one message for all: which it is
    would help nobody but someone guessing)."""

    def __init__(self) -> None:
        super().__init__("this confirmation link is invalid or has expired")


@dataclass(frozen=True)
class PendingChange:
    """A change awaiting (or past) its owner's confirmation."""

    id: int
    user_id: int
    is_premium: bool
    request_id: str
    mode: str
    signup: SignupInput
    used: bool

    @property
    def event_id(self) -> str:
        """The id of the matching event this confirmation sends (so sending it
        again, after a refused send, cannot start a second run)."""
        return f"signup-confirmed-{self.id}"


def confirmation_text(link: str, hours: int) -> str:
    """The email. It repeats nothing the requester wrote (their text is theirs,
    the mail is ours); the page behind the link shows the change."""
    return email(
        "Confirm the change to your job matches",
        name=None,
        paragraphs=[
            "Someone asked to change the job-match profile of this email address: name, "
            "preferences, and where match notifications are sent.",
            f"If it was you, open this link to review and confirm the change (valid for {hours} "
            f"hours):\n{link}",
            "If it was not you, ignore this email: nothing changes without your confirmation.",
        ],
    ).text


def request_confirmation(
    uow: UnitOfWork,
    *,
    user_id: int,
    signup: SignupInput,
    request_id: str,
    mode: str,
    mailer: Mailer,
    key: bytes,
    now: datetime,
    hours: int,
    per_hour: int,
    link: Callable[[str], str],
) -> bool:
    """Store `signup` as a pending change of `user_id` and email the link
    (`link(token)`) to the address, in the caller's transaction; False (nothing
    stored or sent) when the address had `per_hour` such emails in the last hour."""
    # The user's row lock makes concurrent repeats count one after another.
    users.lock(uow, user_id)
    if changes.count_since(uow, user_id, now - timedelta(hours=1)) >= per_hour:
        logger.warning(
            "repeat signup dropped: the address had its confirmation emails for this hour",
            extra={"user_id": user_id, "request_id": request_id},
        )
        return False
    expires_at = now + timedelta(hours=hours)
    token = make_token(key, expires_at)
    changes.add(
        uow,
        token_hash=token_hash(token),
        user_id=user_id,
        request_id=request_id,
        payload={"signup": signup.to_payload(), "mode": mode},
        created_at=now,
        expires_at=expires_at,
    )
    mailer.send(
        uow,
        EmailMessage(
            idempotency_key=f"{KIND}:{request_id}",
            to_address=signup.email,
            subject="Confirm the change to your job matches",
            body_text=confirmation_text(link(token), hours),
            kind=KIND,
            meta={"user_id": user_id, "expires_at": expires_at.isoformat()},
        ),
    )
    return True


def load_change(uow: UnitOfWork, token: str, key: bytes, now: datetime) -> PendingChange:
    """The change a token confirms; ConfirmationError when the token is forged,
    expired or unknown. A used token still loads (`used`), so that re-posting the
    form after a failed event send can send it again."""
    if not token_valid(key, token, now):
        raise ConfirmationError
    change = changes.by_token_hash(uow, token_hash(token))
    if change is None or change.expires_at <= now:
        raise ConfirmationError
    return PendingChange(
        id=change.id,
        user_id=change.user_id,
        is_premium=change.is_premium,
        request_id=change.request_id,
        mode=str(change.payload["mode"]),
        signup=SignupInput.from_payload(change.payload["signup"]),
        used=change.used,
    )


def apply_change(
    uow: UnitOfWork, change: PendingChange, embedding: list[float], now: datetime
) -> bool:
    """Claim the token and apply the change in the caller's transaction; False when
    it was already used (or expired meanwhile), and then nothing is written."""
    if not changes.claim(uow, change.id, now):
        return False
    users.apply_profile(uow, change.user_id, change.signup, embedding)
    return True
