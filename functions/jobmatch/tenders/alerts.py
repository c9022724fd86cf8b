"""Tender alerts: email each subscriber the new tenders that match them.

"New" means first seen by one sync (`tenders.first_job_log_id`), so a digest is
per (subscription, sync) and its idempotency key says so:
`tender-alert:<subscription id>:<job log id>`. The mail outbox refuses a second
message under the same key, so a step that runs twice sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from jobmatch.db.models import JobLog, OutboxMessage, Tender, TenderAlertSubscription
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.mail.templates import Listed, email, plural
from jobmatch.tenders.categories import CATEGORIES

ALERT_KIND = "tender-alert"


def alert_key(subscription_id: int, job_log_id: int) -> str:
    """The idempotency key of one digest."""
    return f"{ALERT_KIND}:{subscription_id}:{job_log_id}"


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(sub: TenderAlertSubscription) -> ColumnElement[bool]:
    text = func.concat_ws(" ", Tender.title, Tender.description)
    conditions: list[ColumnElement[bool]] = [
        text.ilike(f"%{_escape_like(word.strip())}%", escape="\\")
        for word in sub.keywords
        if word.strip()
    ]
    if sub.categories:
        conditions.append(Tender.detailed_category.in_(sub.categories))
    return or_(*conditions) if conditions else false()


def matching_tenders(
    session: Session, sub: TenderAlertSubscription, job_log_id: int, limit: int
) -> list[Tender]:
    """New tenders of this sync that match the subscription, newest first."""
    return list(
        session.scalars(
            select(Tender)
            .where(Tender.first_job_log_id == job_log_id, _matches(sub))
            .order_by(Tender.published_at.desc(), Tender.ocid)
            .limit(limit)
        )
    )


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
    session: Session, job_log_id: int, after_id: int, limit: int, max_items: int, mailer: Mailer
) -> dict[str, Any]:
    """Check the next `limit` active subscriptions (by id); email the ones with matches."""
    subs = list(
        session.scalars(
            select(TenderAlertSubscription)
            .where(TenderAlertSubscription.active, TenderAlertSubscription.id > after_id)
            .order_by(TenderAlertSubscription.id)
            .limit(limit)
        )
    )
    sent = 0
    for sub in subs:
        tenders = matching_tenders(session, sub, job_log_id, max_items)
        if tenders and mailer.send(session, digest(sub, tenders, job_log_id)):
            sent += 1
    return {"checked": len(subs), "sent": sent, "last_id": subs[-1].id if subs else None}


def record_alert_count(session: Session, job_log_id: int) -> int:
    """Total digests of this sync (counted from the outbox, so replays agree)."""
    total = (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like(f"{ALERT_KIND}:%:{job_log_id}"))
        )
        or 0
    )
    job = session.get(JobLog, job_log_id)
    if job is not None:
        job.counts = {**job.counts, "alerts": total}
    return total
