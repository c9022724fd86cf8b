"""Tender rows in Postgres: the newest-wins upsert, the sync cursor, selections.

Every write here is idempotent, because Inngest may run a step twice: the upsert
changes a row only when an incoming release is newer for at least one field (or
the release as a whole), so replaying a page changes nothing (not even
`updated_at`), and the cursor only moves forward.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import SyncState, Tender
from jobmatch.tenders.compile import MERGED_FIELDS, ORDER_COLLATION, CompiledTender

TENDER_CURSOR = "tender-sync"


def upsert_tenders(
    session: Session, rows: Sequence[CompiledTender], job_log_id: int | None
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
        session.execute(stmt.returning(literal_column("(xmax = 0)"))).scalars().all()
    )
    inserted = sum(1 for flag in flags if flag)
    return inserted, len(flags) - inserted


def get_cursor(session: Session, name: str = TENDER_CURSOR) -> datetime | None:
    """Where the last successful sync stopped, or None before the first."""
    return session.scalar(select(SyncState.cursor).where(SyncState.name == name))


def advance_cursor(session: Session, to: datetime, name: str = TENDER_CURSOR) -> datetime:
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
    session.execute(stmt)
    cursor = get_cursor(session, name)
    assert cursor is not None
    return cursor


def missing_category_batch(
    session: Session,
    *,
    column: str,
    date_from: datetime,
    date_to: datetime,
    after_ocid: str,
    limit: int,
) -> list[tuple[str, datetime]]:
    """The next `limit` tenders (by ocid) without a category whose `column` (release_date
    or published_at) lies in the range: keyset paging, stable while enrichment runs."""
    when = {"release_date": Tender.release_date, "published_at": Tender.published_at}[column]
    rows = session.execute(
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


def set_category(session: Session, ocid: str, category: str, source: str) -> bool:
    """Record a tender's category unless an AI category is already there."""
    result = session.execute(
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
