"""Send email through the outbox, exactly once per idempotency key.

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

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import OutboxMessage
from jobmatch.observability import logger, metrics
from jobmatch.settings import get_settings


@dataclass(frozen=True)
class EmailMessage:
    """A plain-text email and the key that makes sending it idempotent."""

    idempotency_key: str
    to_address: str
    subject: str
    body_text: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _ses_client() -> Any:
    return boto3.client("sesv2", region_name=get_settings().aws_region)


def send_email(session: Session, message: EmailMessage) -> bool:
    """Record and deliver `message`; return False when it had already been sent."""
    settings = get_settings()
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
    if settings.mail_backend == "ses":
        response = _ses_client().send_email(
            FromEmailAddress=settings.mail_from,
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
    logger.info("email sent", extra={"kind": message.kind, "backend": settings.mail_backend})
    metrics.add_metric(name="EmailsSent", unit="Count", value=1)
    return True
