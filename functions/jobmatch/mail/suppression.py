"""The suppression list: addresses SES reported as bouncing or complaining.

SES publishes bounce and complaint notifications (configuration-set event
publishing: `eventType`; identity notifications: `notificationType`) to an SNS
topic, and the `SesEvents` Lambda records the addresses (`mail.store.suppress`).
`Mailer.send` checks the list before every send, so nothing is mailed to them again.

Only permanent bounces suppress: a transient one (mailbox full, greylisting) may
succeed later, and SES retries it itself. A complaint always suppresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
