"""Tender rows in Postgres: the newest-wins upsert, the sync cursor, selections,
and the subscriptions tender alerts are sent to.

Every write here is idempotent, because Inngest may run a step twice: the upsert
changes a row only when an incoming release is newer for at least one field (or
the release as a whole), so replaying a page changes nothing (not even
`updated_at`), and the cursor only moves forward.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import OutboxMessage, SyncState, Tender, TenderAlertSubscription
from jobmatch.tenders.compile import MERGED_FIELDS, ORDER_COLLATION, CompiledTender

TENDER_CURSOR = "tender-sync"


def upsert_tenders(
    uow: Session, rows: Sequence[CompiledTender], job_log_id: int | None
) -> tuple[int, int]:
    """Insert or merge compiled rows (one per ocid); return (inserted, updated)."""
    if not rows:
        return 0, 0
    stmt = insert(Tender).values([{**row, "first_job_log_id": job_log_id} for row in rows])
    new, columns, dates = stmt.excluded, Tender.__table__.c, Tender.field_dates
    # The order of `compile.release_stamp`: (date, release id) with ids, and the
    # stamps below, compared in ORDER_COLLATION, never in the database's collation.
    newer = tuple_(new.release_date, new.release_id.collate(ORDER_COLLATION)) > tuple_(
        Tender.release_date, Tender.release_id.collate(ORDER_COLLATION)
    )
    # A field takes the incoming value when the incoming release carrying it is
    # newer than the one that supplied the stored value (see `compile.merge`).
    wins: dict[str, ColumnElement[bool]] = {
        name: and_(
            new[name].is_not(None),
            or_(
                dates[name].astext.is_(None),
                new.field_dates[name].astext.collate(ORDER_COLLATION)
                > dates[name].astext.collate(ORDER_COLLATION),
            ),
        )
        for name in MERGED_FIELDS
    }
    won_dates = func.jsonb_strip_nulls(
        func.jsonb_build_object(
            *itertools.chain.from_iterable(
                (literal_column(f"'{name}'"), case((won, new.field_dates[name]), else_=None))
                for name, won in wins.items()
            )
        )
    )
    reclassified = and_(
        wins["classification_id"],
        new.classification_id.is_distinct_from(Tender.classification_id),
    )
    keep_category = and_(~reclassified, Tender.detailed_category.is_not(None))
    stmt = stmt.on_conflict_do_update(
        index_elements=[Tender.ocid],
        set_={
            **{name: case((won, new[name]), else_=columns[name]) for name, won in wins.items()},
            "field_dates": dates.op("||")(won_dates),
            "release_id": case((newer, new.release_id), else_=Tender.release_id),
            "release_date": case((newer, new.release_date), else_=Tender.release_date),
            "release_tag": case((newer, new.release_tag), else_=Tender.release_tag),
            "published_at": func.least(Tender.published_at, new.published_at),
            "detailed_category": case(
                (keep_category, Tender.detailed_category), else_=new.detailed_category
            ),
            "category_source": case(
                (keep_category, Tender.category_source), else_=new.category_source
            ),
            "updated_at": func.now(),
        },
        where=or_(
            newer,
            new.published_at < Tender.published_at,
            and_(Tender.detailed_category.is_(None), new.detailed_category.is_not(None)),
            *wins.values(),
        ),
    )
    # xmax is 0 on a freshly inserted row version: tells inserts from updates.
    flags: Sequence[bool] = (
        uow.execute(stmt.returning(literal_column("(xmax = 0)"))).scalars().all()
    )
    inserted = sum(1 for flag in flags if flag)
    return inserted, len(flags) - inserted


def get_cursor(uow: Session, name: str = TENDER_CURSOR) -> datetime | None:
    """Where the last successful sync stopped, or None before the first."""
    return uow.scalar(select(SyncState.cursor).where(SyncState.name == name))


def advance_cursor(uow: Session, to: datetime, name: str = TENDER_CURSOR) -> datetime:
    """Move the cursor forward to `to` (never back); return where it now is."""
    stmt = insert(SyncState).values(name=name, cursor=to)
    stmt = stmt.on_conflict_do_update(
        index_elements=[SyncState.name],
        set_={
            "cursor": func.greatest(SyncState.cursor, stmt.excluded.cursor),
            "updated_at": func.now(),
        },
        where=or_(SyncState.cursor.is_(None), SyncState.cursor < stmt.excluded.cursor),
    )
    uow.execute(stmt)
    cursor = get_cursor(uow, name)
    assert cursor is not None
    return cursor


def new_tenders(uow: Session, job_log_id: int) -> int:
    """How many tenders the sync of this job log saw first."""
    return int(
        uow.scalar(
            select(func.count()).select_from(Tender).where(Tender.first_job_log_id == job_log_id)
        )
        or 0
    )


def missing_category_batch(
    uow: Session,
    *,
    column: str,
    date_from: datetime,
    date_to: datetime,
    after_ocid: str,
    limit: int,
) -> list[tuple[str, datetime | None]]:
    """The next `limit` tenders (by ocid) without a category whose `column` (release_date
    or published_at) lies in the range: keyset paging, stable while enrichment runs."""
    when = {"release_date": Tender.release_date, "published_at": Tender.published_at}[column]
    rows = uow.execute(
        select(Tender.ocid, Tender.published_at)
        .where(
            Tender.detailed_category.is_(None),
            when >= date_from,
            when <= date_to,
            Tender.ocid > after_ocid,
        )
        .order_by(Tender.ocid)
        .limit(limit)
    ).all()
    return [(ocid, published) for ocid, published in rows]


def set_category(uow: Session, ocid: str, category: str, source: str) -> bool:
    """Record a tender's category unless an AI category is already there."""
    result = uow.execute(
        update(Tender)
        .where(
            Tender.ocid == ocid,
            or_(Tender.category_source.is_(None), Tender.category_source != "ai"),
            or_(
                Tender.detailed_category.is_distinct_from(category),
                Tender.category_source.is_distinct_from(source),
            ),
        )
        .values(detailed_category=category, category_source=source, updated_at=func.now())
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class TenderText:
    """What classification looks at, copied out of the session."""

    ocid: str
    title: str | None
    description: str | None
    scheme: str | None
    code: str | None
    code_description: str | None
    category_source: str | None


def tender_text(uow: Session, ocid: str) -> TenderText | None:
    """The text of one tender, or None if there is no such tender."""
    t = uow.scalars(select(Tender).where(Tender.ocid == ocid)).one_or_none()
    if t is None:
        return None
    return TenderText(
        t.ocid,
        t.title,
        t.description,
        t.classification_scheme,
        t.classification_id,
        t.classification_description,
        t.category_source,
    )


def alert_subscriptions(uow: Session, after_id: int, limit: int) -> list[TenderAlertSubscription]:
    """The next `limit` active alert subscriptions by id after `after_id`."""
    return list(
        uow.scalars(
            select(TenderAlertSubscription)
            .where(TenderAlertSubscription.active, TenderAlertSubscription.id > after_id)
            .order_by(TenderAlertSubscription.id)
            .limit(limit)
        )
    )


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
    uow: Session, sub: TenderAlertSubscription, job_log_id: int, limit: int
) -> list[Tender]:
    """New tenders of this sync that match the subscription, newest first."""
    return list(
        uow.scalars(
            select(Tender)
            .where(Tender.first_job_log_id == job_log_id, _matches(sub))
            .order_by(Tender.published_at.desc(), Tender.ocid)
            .limit(limit)
        )
    )


def messages_like(uow: Session, key_pattern: str) -> int:
    """How many mail outbox messages have an idempotency key LIKE `key_pattern`
    (a sync's digests, counted where they are kept, so replays agree)."""
    return int(
        uow.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like(key_pattern))
        )
        or 0
    )
