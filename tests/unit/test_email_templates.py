"""Every email is composed one way (`mail.templates.email`): the completion notice is
the `match_ready` email users get, tender alerts and signup confirmations use the
same greeting, paragraphs and list, and what came from outside is escaped in HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from jobmatch.db.models import Tender, TenderAlertSubscription
from jobmatch.mail.templates import JobLine, render
from jobmatch.notifications.completion import Summary, TopMatch, email_body
from jobmatch.tenders.alerts import digest
from jobmatch.users.signup_confirmation import confirmation_text


def test_the_completion_notice_is_the_match_ready_email() -> None:
    top = [TopMatch(title="Backend Engineer", company="Acme", location="Berlin", score=91.4)]
    summary = Summary(name="Ana", email="ana@example.com", webhook_url=None, top=top)
    jobs = [JobLine("Backend Engineer", "Acme", "Berlin", score=91.4)]
    same = render("match_ready", name="Ana", jobs=jobs, matches_saved=3)
    assert email_body(summary, 3) == same.text
    assert "3 jobs matched your profile" in same.text
    # Without a name, the notice greets the address.
    assert email_body(summary.model_copy(update={"name": None}), 1).startswith(
        "Hello ana@example.com,"
    )


def test_a_tender_alert_lists_each_tender_and_escapes_it_in_html() -> None:
    tenders = [
        Tender(
            ocid="ocds-1",
            title="<b>Hall</b> & roof",
            buyer_name="Ward 12",
            value_amount=Decimal("1500.5"),
            value_currency="ZAR",
            tender_end=datetime(2026, 4, 1, tzinfo=UTC),
            detailed_category=None,
        ),
        Tender(ocid="ocds-2", title=None, buyer_name=None, value_amount=None, tender_end=None),
    ]
    sub = TenderAlertSubscription(id=7, email="b@example.com")
    message = digest(sub, tenders, 3)
    assert message.subject == "2 new tenders for you"
    assert (
        "- <b>Hall</b> & roof\n  Ward 12 | Uncategorised | value 1,500.50 ZAR | closes "
        "2026-04-01\n  ref ocds-1" in message.body_text
    )
    assert "- ocds-2\n  Unknown buyer | Uncategorised | value - | closes -" in message.body_text
    assert message.body_html is not None
    assert "&lt;b&gt;Hall&lt;/b&gt; &amp; roof" in message.body_html
    assert "<b>Hall" not in message.body_html


def test_the_signup_confirmation_carries_the_link_and_its_validity() -> None:
    text = confirmation_text("https://jobmatch.example/confirm?token=abc", 24)
    assert text.startswith("Hello,\n")
    assert "(valid for 24 hours):\nhttps://jobmatch.example/confirm?token=abc\n" in text
    assert "nothing changes without your confirmation" in text
