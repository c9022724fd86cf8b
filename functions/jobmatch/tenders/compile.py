"""From OCDS releases to the compiled state of a tender (one row per ocid).

The compiled state follows OCDS merge semantics for the fields we keep: each field
takes its value from the newest release that carries it, so an amendment that
only changes the status does not erase the title, and the result never depends
on the order in which releases or pages arrive. "Newest" is one order, defined
here by `stamp` and nowhere else (see there). To make that exact in the database
too, every row keeps `field_dates`: for each field, the stamp of the release that
supplied its value; the upsert (`repository.upsert_tenders`) compares stamps
field by field, as `merge` does here, with `ORDER_COLLATION`.
`published_at` is the date of the first release seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from jobmatch.tenders.categories import rule_category
from jobmatch.tenders.releases import Classification, Release

MAX_ITEMS = 20
MAX_ITEM_TEXT = 300

# Fields the newest release overrides only when it has a value.
MERGED_FIELDS = (
    "title",
    "description",
    "status",
    "buyer_id",
    "buyer_name",
    "value_amount",
    "value_currency",
    "classification_scheme",
    "classification_id",
    "classification_description",
    "items",
    "tender_start",
    "tender_end",
)

CompiledTender = dict[str, Any]


def main_classification(release: Release) -> Classification | None:
    """The tender's classification, or its first item's (core OCDS keeps it there)."""
    tender = release.tender
    if tender is None:
        return None
    if tender.classification is not None and tender.classification.id:
        return tender.classification
    return next(
        (i.classification for i in tender.items if i.classification and i.classification.id),
        None,
    )


def _items(release: Release) -> list[dict[str, Any]] | None:
    if release.tender is None or not release.tender.items:
        return None
    return [
        {
            "id": item.id,
            "description": (item.description or "")[:MAX_ITEM_TEXT] or None,
            "scheme": item.classification.scheme if item.classification else None,
            "code": item.classification.id if item.classification else None,
            "quantity": str(item.quantity) if item.quantity is not None else None,
        }
        for item in release.tender.items[:MAX_ITEMS]
    ]


# Stamps are compared byte by byte (code point order, as Python compares str).
# PostgreSQL compares text with the database's collation, which on RDS is a
# linguistic one (en_US.UTF-8: "tender-a" < "tender-B", where Python says the
# opposite), so every comparison of stamps or release ids in SQL names this one.
ORDER_COLLATION = "C"


def release_stamp(date: datetime, release_id: str) -> str:
    """THE order of releases, as text: by date (the instant, in UTC to the
    microsecond, fixed width), then, for releases of the same date, by release
    id in code point order; the newest release has the largest stamp. Within a
    page (`compile_page`, `merge`) and across pages (the upsert) ties are
    decided by this and nothing else."""
    return f"{date.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z|{release_id}"


def stamp(release: Release) -> str:
    """The release's place in the order (`release_stamp`)."""
    return release_stamp(release.date, release.id)


def compile_release(release: Release) -> CompiledTender:
    """One release as a compiled-tender row (before merging with others)."""
    tender = release.tender
    classification = main_classification(release)
    buyer = release.buyer_org()
    value = tender.value if tender else None
    period = tender.tender_period if tender else None
    title = tender.title if tender else None
    category = rule_category(
        classification.scheme if classification else None,
        classification.id if classification else None,
        classification.description if classification else None,
        title,
    )
    row: CompiledTender = {
        "ocid": release.ocid,
        "release_id": release.id,
        "release_date": release.date,
        "release_tag": list(release.tag),
        "published_at": release.date,
        "title": title,
        "description": tender.description if tender else None,
        "status": tender.status if tender else None,
        "buyer_id": buyer.id if buyer else None,
        "buyer_name": buyer.name if buyer else None,
        "value_amount": value.amount if value else None,
        "value_currency": value.currency.upper() if value and value.currency else None,
        "classification_scheme": classification.scheme if classification else None,
        "classification_id": classification.id if classification else None,
        "classification_description": classification.description if classification else None,
        "items": _items(release),
        "tender_start": period.start_date if period else None,
        "tender_end": period.end_date if period else None,
        "detailed_category": category,
        "category_source": "rules" if category else None,
    }
    mark = stamp(release)
    row["field_dates"] = {name: mark for name in MERGED_FIELDS if row[name] is not None}
    return row


def _order(row: CompiledTender) -> str:
    return release_stamp(row["release_date"], row["release_id"])


def merge(current: CompiledTender, incoming: CompiledTender) -> CompiledTender:
    """Merge two compiled rows of one ocid, field by field by release stamp."""
    newest = incoming if _order(incoming) > _order(current) else current
    merged = dict(newest)
    dates = dict(current["field_dates"])
    for name in MERGED_FIELDS:
        mark = incoming["field_dates"].get(name)
        if mark is not None and mark > dates.get(name, ""):
            merged[name], dates[name] = incoming[name], mark
        else:
            merged[name] = current[name]
    merged["field_dates"] = dates
    merged["published_at"] = min(current["published_at"], incoming["published_at"])
    reclassified = (
        merged["classification_id"] is not None
        and merged["classification_id"] != current["classification_id"]
    )
    source = incoming if reclassified or current["detailed_category"] is None else current
    merged["detailed_category"] = source["detailed_category"]
    merged["category_source"] = source["category_source"]
    return merged


def compile_page(releases: Iterable[Release]) -> list[CompiledTender]:
    """One compiled row per ocid on the page, ordered by ocid (stable lock order)."""
    rows: dict[str, CompiledTender] = {}
    # Oldest first: folding in date order makes the page's merge exact for any
    # number of releases per ocid.
    for release in sorted(releases, key=stamp):
        row = compile_release(release)
        rows[release.ocid] = merge(rows[release.ocid], row) if release.ocid in rows else row
    return [rows[ocid] for ocid in sorted(rows)]
