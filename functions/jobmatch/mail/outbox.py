"""Send email through the outbox, exactly once per idempotency key (`Mailer.send`).

Every message is first recorded in `mail_outbox` under its idempotency key
(INSERT ... ON CONFLICT DO NOTHING). Offline (`mail_backend=outbox`) the row is
the delivery. With SES the message is sent only if its row is not already
`sent`, and the SES message id is recorded in the same transaction, so a step
retried after a gateway timeout, or run twice, finds the row and sends nothing.
The row lock (FOR UPDATE) keeps two concurrent tries from both sending. The one
window left is SES accepting a message and the commit then failing: that retry
sends again, which we prefer to losing the message.

Every send also respects the recipient: an address on the suppression list
(bounced, complained) or a user who unsubscribed from the message's category
gets nothing; the row records why (`suppressed`, `unsubscribed`). A message with
a category carries a signed one-click unsubscribe link, in a footer and in the
`List-Unsubscribe` / `List-Unsubscribe-Post` headers (RFC 8058), which SES v2
sends as given (`Content.Simple.Headers`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobmatch.mail import store
from jobmatch.mail.store import MailSession
from jobmatch.mail.templates import unsubscribe_footer
from jobmatch.mail.unsubscribe import UnsubscribeLinks
from jobmatch.observability import logger, metrics
from jobmatch.settings import Settings


@dataclass(frozen=True)
class EmailMessage:
    """An email (text, optionally HTML) and the key that makes sending it idempotent.

    `user_id` and `category` (a key of `mail.unsubscribe.KNOWN_CATEGORIES`) make it
    a message the user can opt out of: it is not sent to a user who did, and it
    carries the unsubscribe link."""

    idempotency_key: str
    to_address: str
    subject: str
    body_text: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    body_html: str | None = None
    user_id: int | None = None
    category: str | None = None


class MailConfigError(RuntimeError):
    """Mail that needs an unsubscribe link, but no `unsubscribe_secret` is configured."""


def build_ses_client(settings: Settings) -> Any:
    """The SES v2 client (slow to create: `Dependencies` builds it once, on first use;
    boto3 is imported then too, so a container that sends no mail never loads it)."""
    import boto3

    return boto3.client("sesv2", region_name=settings.aws_region)


class Mailer:
    """The one way the app sends email: `send` records, delivers, never twice.

    `ses` is called for the SES client only when a message actually goes out
    through SES, so a container that sends no mail never builds one."""

    def __init__(
        self,
        backend: str,
        mail_from: str,
        ses: Callable[[], Any],
        *,
        links: UnsubscribeLinks | None = None,
        configuration_set: str | None = None,
    ) -> None:
        self.backend = backend
        self.mail_from = mail_from
        self._ses = ses
        self.links = links
        self.configuration_set = configuration_set

    @classmethod
    def from_settings(cls, settings: Settings, ses: Callable[[], Any]) -> Mailer:
        """The mailer `settings` configure (`mail_backend`, `mail_from`, the
        unsubscribe secret and link base, the SES configuration set)."""
        secret = settings.unsubscribe_secret
        links = (
            UnsubscribeLinks(settings.public_base_url, secret.get_secret_value())
            if secret is not None
            else None
        )
        return cls(
            settings.mail_backend,
            settings.mail_from,
            ses,
            links=links,
            configuration_set=settings.ses_configuration_set,
        )

    def send(self, uow: MailSession, message: EmailMessage) -> bool:
        """Record and deliver `message`; False when it is not sent now: already sent,
        or held back (suppressed address, unsubscribed user; the row says which)."""
        text, html, headers = self._with_unsubscribe(message)
        key = message.idempotency_key
        status = store.claim_outbox(
            uow,
            key,
            {
                "to_address": message.to_address,
                "subject": message.subject,
                "body_text": text,
                "body_html": html,
                "headers": headers,
                "kind": message.kind,
                "meta": message.meta,
            },
        )
        if status == "sent":
            return False
        held = self._held_back(uow, message)
        if held is not None:
            store.set_outbox_status(uow, key, held)
            logger.info("email held back", extra={"kind": message.kind, "reason": held})
            metrics.add_metric(name="EmailsHeldBack", unit="Count", value=1)
            return False
        provider_id = (
            self._send_ses(message, text, html, headers) if self.backend == "ses" else None
        )
        store.set_outbox_status(
            uow, key, "sent", provider_message_id=provider_id, sent_at=datetime.now(UTC)
        )
        logger.info("email sent", extra={"kind": message.kind, "backend": self.backend})
        metrics.add_metric(name="EmailsSent", unit="Count", value=1)
        return True

    def _with_unsubscribe(self, message: EmailMessage) -> tuple[str, str | None, dict[str, str]]:
        """Text, HTML and headers, with the unsubscribe footer and headers when the
        message has a category."""
        if message.category is None or message.user_id is None:
            return message.body_text, message.body_html, {}
        if self.links is None:
            raise MailConfigError(
                f"{message.kind} email needs an unsubscribe link: set unsubscribe_secret"
            )
        url = self.links.url(message.user_id, message.category)
        text_footer, html_footer = unsubscribe_footer(url)
        html = message.body_html
        if html is not None:
            html = (
                html.replace("</body>", html_footer + "\n</body>", 1)
                if "</body>" in html
                else html + html_footer
            )
        headers = {
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return message.body_text + text_footer, html, headers

    @staticmethod
    def _held_back(uow: MailSession, message: EmailMessage) -> str | None:
        """Why the message must not go out (None: it may)."""
        if store.is_suppressed(uow, message.to_address):
            return "suppressed"
        if (
            message.category is not None
            and message.user_id is not None
            and store.is_unsubscribed(uow, message.user_id, message.category)
        ):
            return "unsubscribed"
        return None

    def _send_ses(
        self, message: EmailMessage, text: str, html: str | None, headers: dict[str, str]
    ) -> str:
        """Send through SES v2; the SES message id."""
        body: dict[str, Any] = {"Text": {"Data": text, "Charset": "UTF-8"}}
        if html is not None:
            body["Html"] = {"Data": html, "Charset": "UTF-8"}
        simple: dict[str, Any] = {
            "Subject": {"Data": message.subject, "Charset": "UTF-8"},
            "Body": body,
        }
        if headers:
            simple["Headers"] = [{"Name": k, "Value": v} for k, v in headers.items()]
        extra = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        response = self._ses().send_email(
            FromEmailAddress=self.mail_from,
            Destination={"ToAddresses": [message.to_address]},
            Content={"Simple": simple},
            **extra,
        )
        return str(response["MessageId"])
