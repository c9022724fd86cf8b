"""Tender alerts: email each subscriber the new tenders that match them.

"New" means first seen by one sync (`tenders.first_job_log_id`), so a digest is
per (subscription, sync) and its idempotency key says so:
`tender-alert:<subscription id>:<job log id>`. The mail outbox refuses a second
message under the same key, so a step that runs twice sends nothing twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.templates import Listed, email, plural
from jobmatch.runs import job_log_store
from jobmatch.step_contract import StepOutput
from jobmatch.tenders import store
from jobmatch.tenders.categories import CATEGORIES

if TYPE_CHECKING:
    from jobmatch.db.models import Tender, TenderAlertSubscription

ALERT_KIND = "tender-alert"


class AlertBatch(StepOutput):
    """One batch of subscribers: how many were checked, how many sent a digest, and
    the last one's id (None: there were none)."""

    checked: int
    sent: int
    last_id: int | None


def alert_key(subscription_id: int, job_log_id: int) -> str:
    """The idempotency key of one digest."""
    return f"{ALERT_KIND}:{subscription_id}:{job_log_id}"


def digest(sub: TenderAlertSubscription, tenders: list[Tender], job_log_id: int) -> EmailMessage:
    """One email listing the tenders."""
    items = []
    for t in tenders:
        value = f"{t.value_amount:,.2f} {t.value_currency or ''}".strip() if t.value_amount else "-"
        closes = t.tender_end.date().isoformat() if t.tender_end else "-"
        category = CATEGORIES.get(t.detailed_category or "", "Uncategorised")
        buyer = t.buyer_name or "Unknown buyer"
        details = f"{buyer} | {category} | value {value} | closes {closes}"
        items.append(Listed(t.title or t.ocid, (details, f"ref {t.ocid}")))
    rendered = email(
        f"{plural(len(tenders), 'new tender')} for you",
        name=None,
        paragraphs=["New tenders matching your alert:"],
        items=items,
    )
    return EmailMessage(
        idempotency_key=alert_key(sub.id, job_log_id),
        to_address=sub.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        kind=ALERT_KIND,
        meta={
            "subscription_id": sub.id,
            "job_log_id": job_log_id,
            "ocids": [t.ocid for t in tenders],
        },
    )


def process_alert_batch(
    uow: UnitOfWork, job_log_id: int, after_id: int, limit: int, max_items: int, mailer: Mailer
) -> AlertBatch:
    """Check the next `limit` active subscriptions (by id); email the ones with matches."""
    subs = store.alert_subscriptions(uow, after_id, limit)
    sent = 0
    for sub in subs:
        tenders = store.matching_tenders(uow, sub, job_log_id, max_items)
        if tenders and mailer.send(uow, digest(sub, tenders, job_log_id)):
            sent += 1
    return AlertBatch(checked=len(subs), sent=sent, last_id=subs[-1].id if subs else None)


def record_alert_count(uow: UnitOfWork, job_log_id: int) -> int:
    """Total digests of this sync (counted from the outbox, so replays agree), written
    onto its job log."""
    total = store.messages_like(uow, f"{ALERT_KIND}:%:{job_log_id}")
    job_log_store.record_alerts(uow, job_log_id, total)
    return total
