"""The suppression list: addresses SES reported as bouncing or complaining.

SES publishes bounce and complaint notifications (configuration-set event
publishing: `eventType`; identity notifications: `notificationType`) to an SNS
topic, and the `SesEvents` Lambda records the addresses here. `Mailer.send`
checks the list before every send, so nothing is mailed to them again.

Only permanent bounces suppress: a transient one (mailbox full, greylisting) may
succeed later, and SES retries it itself. A complaint always suppresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import MailSuppression

MAX_DETAIL = 500


@dataclass(frozen=True)
class Suppression:
    """One address to stop mailing, and why."""

    email: str
    reason: str  # bounce | complaint
    detail: str


def suppressions_in(notification: Mapping[str, Any]) -> list[Suppression]:
    """The addresses an SES bounce/complaint notification reports (others: none)."""
    kind = str(notification.get("eventType") or notification.get("notificationType") or "")
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        detail = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}"
        recipients = bounce.get("bouncedRecipients") or []
        reason = "bounce"
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        detail = str(complaint.get("complaintFeedbackType") or "complaint")
        recipients = complaint.get("complainedRecipients") or []
        reason = "complaint"
    else:
        return []
    found = []
    for recipient in recipients:
        address = str((recipient or {}).get("emailAddress") or "").strip().lower()
        if "@" in address:
            found.append(Suppression(address[:320], reason, detail[:MAX_DETAIL]))
    return found


def suppress(session: Session, items: list[Suppression]) -> int:
    """Add the addresses (a complaint overrides an earlier bounce record); how many."""
    for item in items:
        values = {"reason": item.reason, "detail": item.detail}
        stmt = insert(MailSuppression).values(email=item.email, **values)
        if item.reason == "complaint":
            session.execute(stmt.on_conflict_do_update(index_elements=["email"], set_=values))
        else:
            session.execute(stmt.on_conflict_do_nothing(index_elements=["email"]))
    return len(items)


def is_suppressed(session: Session, address: str) -> bool:
    """Whether mail to `address` must not be sent."""
    return bool(
        session.scalar(select(exists().where(MailSuppression.email == address.strip().lower())))
    )
