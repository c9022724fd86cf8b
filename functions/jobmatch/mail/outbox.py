"""Send email through the outbox, exactly once per idempotency key (`Mailer.send`).

Every message is first recorded in `mail_outbox` under its idempotency key
(INSERT ... ON CONFLICT DO NOTHING). Offline (`mail_backend=outbox`) the row is
the delivery. With SES the message is sent only if its row is not already
`sent`, and the SES message id is recorded in the same transaction, so a step
retried after a gateway timeout, or run twice, finds the row and sends nothing.
The row lock (FOR UPDATE) keeps two concurrent tries from both sending. The one
window left is SES accepting a message and the commit then failing: that retry
sends again, which we prefer to losing the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import OutboxMessage
from jobmatch.observability import logger, metrics
from jobmatch.settings import Settings


@dataclass(frozen=True)
class EmailMessage:
    """A plain-text email and the key that makes sending it idempotent."""

    idempotency_key: str
    to_address: str
    subject: str
    body_text: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


def build_ses_client(settings: Settings) -> Any:
    """The SES v2 client (slow to create: `Dependencies` builds it once, on first use;
    boto3 is imported then too, so a container that sends no mail never loads it)."""
    import boto3

    return boto3.client("sesv2", region_name=settings.aws_region)


class Mailer:
    """The one way the app sends email: `send` records, delivers, never twice.

    `ses` is called for the SES client only when a message actually goes out
    through SES, so a container that sends no mail never builds one."""

    def __init__(self, backend: str, mail_from: str, ses: Callable[[], Any]) -> None:
        self.backend = backend
        self.mail_from = mail_from
        self._ses = ses

    @classmethod
    def from_settings(cls, settings: Settings, ses: Callable[[], Any]) -> Mailer:
        """The mailer `settings` configure (`mail_backend`, `mail_from`)."""
        return cls(settings.mail_backend, settings.mail_from, ses)

    def send(self, session: Session, message: EmailMessage) -> bool:
        """Record and deliver `message`; return False when it had already been sent."""
        session.execute(
            insert(OutboxMessage)
            .values(
                idempotency_key=message.idempotency_key,
                to_address=message.to_address,
                subject=message.subject,
                body_text=message.body_text,
                kind=message.kind,
                meta=message.meta,
                status="pending",
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.idempotency_key == message.idempotency_key)
            .with_for_update()
        ).one()
        if row.status == "sent":
            return False
        if self.backend == "ses":
            response = self._ses().send_email(
                FromEmailAddress=self.mail_from,
                Destination={"ToAddresses": [message.to_address]},
                Content={
                    "Simple": {
                        "Subject": {"Data": message.subject},
                        "Body": {"Text": {"Data": message.body_text}},
                    }
                },
            )
            row.provider_message_id = response["MessageId"]
        row.status = "sent"
        row.sent_at = datetime.now(UTC)
        session.flush()
        logger.info("email sent", extra={"kind": message.kind, "backend": self.backend})
        metrics.add_metric(name="EmailsSent", unit="Count", value=1)
        return True
