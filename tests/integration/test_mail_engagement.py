"""The mail path's new duties on moto and PostgreSQL: HTML and one-click unsubscribe
headers through SES v2 as botocore's model validates them, suppressed and
unsubscribed recipients held back, and SES bounce/complaint notifications (as SNS
delivers them to the SesEvents Lambda) turned into suppressions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from jobmatch.db.models import MailSuppression, MailUnsubscribe, OutboxMessage, User
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.outbox import MailConfigError
from jobmatch.mail.ses_events import handler as ses_events
from jobmatch.settings import Settings
from tests.engagement_data import count

pytestmark = pytest.mark.integration

REGION = "eu-west-1"


@pytest.fixture
def ses(db: None) -> Iterator[list[dict[str, Any]]]:
    """SES v2 on moto with a verified domain; yields the SendEmail parameters sent,
    as botocore validated and serialised them."""
    with mock_aws():
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")
        yield []


def ses_mailer(settings: Settings, sent: list[dict[str, Any]], **overrides: object) -> Mailer:
    update = {"mail_backend": "ses", "aws_region": REGION, **overrides}
    deps = Dependencies(settings.model_copy(update=update))
    deps.ses.meta.events.register(
        "before-call.sesv2.SendEmail", lambda params, **_: sent.append(json.loads(params["body"]))
    )
    return deps.mailer


def a_user(email: str = "ana@example.com") -> int:
    with session_scope() as session:
        user = User(email=email, name="Ana")
        session.add(user)
        session.flush()
        return user.id


def digest_message(user_id: int, key: str = "digest:1:2026-03-02") -> EmailMessage:
    return EmailMessage(
        idempotency_key=key,
        to_address="ana@example.com",
        subject="Your daily jobs digest",
        body_text="Hello Ana,\n",
        body_html="<html><body><p>Hello Ana,</p></body></html>",
        kind="digest",
        user_id=user_id,
        category="digest",
    )


def test_ses_gets_html_and_one_click_unsubscribe_headers(
    ses: list[dict[str, Any]], settings: Settings
) -> None:
    user_id = a_user()
    mailer = ses_mailer(settings, ses, ses_configuration_set="jobmatch-test")
    with session_scope() as session:
        assert mailer.send(session, digest_message(user_id)) is True
    [params] = ses
    assert params["ConfigurationSetName"] == "jobmatch-test"
    simple = params["Content"]["Simple"]
    headers = {h["Name"]: h["Value"] for h in simple["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{settings.public_base_url}/api/unsubscribe?token={user_id}.digest.")
    assert url in simple["Body"]["Text"]["Data"]
    assert simple["Body"]["Html"]["Data"].rstrip().endswith("</html>")
    assert url.replace("&", "&amp;") in simple["Body"]["Html"]["Data"]
    assert len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages) == 1


def test_suppressed_and_unsubscribed_recipients_get_nothing(
    ses: list[dict[str, Any]], settings: Settings
) -> None:
    user_id = a_user()
    mailer = ses_mailer(settings, ses)
    with session_scope() as session:
        session.add(MailUnsubscribe(user_id=user_id, category="all"))
    with session_scope() as session:
        assert mailer.send(session, digest_message(user_id, "k1")) is False
    with session_scope() as session:
        session.add(MailSuppression(email="ana@example.com", reason="bounce"))
    plain = EmailMessage("k2", "ana@example.com", "Hi", "Hi", kind="matching-complete")
    with session_scope() as session:
        assert mailer.send(session, plain) is False  # no category: suppression still holds
    assert ses == []
    with session_scope() as session:
        statuses = dict(session.query(OutboxMessage.idempotency_key, OutboxMessage.status).all())
    assert statuses == {"k1": "unsubscribed", "k2": "suppressed"}


def test_mail_with_a_category_refuses_to_go_out_without_an_unsubscribe_key(
    db: None, settings: Settings
) -> None:
    user_id = a_user()
    mailer = Dependencies(settings.model_copy(update={"unsubscribe_secret": None})).mailer
    with pytest.raises(MailConfigError, match="unsubscribe_secret"), session_scope() as session:
        mailer.send(session, digest_message(user_id))
    assert count(OutboxMessage) == 0


def sns_record(notification: dict[str, Any] | str) -> dict[str, Any]:
    """One record as SNS hands it to a subscribed Lambda."""
    message = notification if isinstance(notification, str) else json.dumps(notification)
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:jobmatch-dev-ses-events:1",
        "Sns": {
            "Type": "Notification",
            "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:jobmatch-dev-ses-events",
            "Subject": None,
            "Message": message,
            "Timestamp": "2026-03-02T09:00:00.000Z",
        },
    }


BOUNCE = {
    "eventType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "Gone@Example.com", "status": "5.1.1"}],
    },
    "mail": {"destination": ["Gone@Example.com"], "messageId": "0102..."},
}


def test_ses_events_suppress_permanent_bounces_and_complaints_only(db: None) -> None:
    transient = {**BOUNCE, "bounce": {**BOUNCE["bounce"], "bounceType": "Transient"}}  # type: ignore[dict-item]
    complaint = {
        "notificationType": "Complaint",  # identity notifications spell it so
        "complaint": {
            "complainedRecipients": [{"emailAddress": "angry@example.com"}],
            "complaintFeedbackType": "abuse",
        },
    }
    delivery = {"eventType": "Delivery", "delivery": {"recipients": ["ok@example.com"]}}
    records = [sns_record(n) for n in (BOUNCE, transient, complaint, delivery)]
    result = ses_events({"Records": [*records, sns_record("not json")]}, None)
    assert result == {"suppressed": 2, "skipped": 1}
    with session_scope() as session:
        rows = {r.email: (r.reason, r.detail) for r in session.query(MailSuppression).all()}
    assert rows == {
        "gone@example.com": ("bounce", "Permanent/General"),
        "angry@example.com": ("complaint", "abuse"),
    }
    ses_events({"Records": records}, None)  # SNS delivers again: still one row each
    assert count(MailSuppression) == 2
