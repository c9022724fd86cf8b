"""From OCDS releases to the compiled state of a tender (one row per ocid).

The compiled state follows OCDS merge semantics, simplified to the fields we keep:
the newest release (by `date`, ties broken by release id so the result never
depends on page order) wins field by field, and a field the newest release leaves
out keeps the value an older release gave (an amendment that only changes the
status does not erase the title). `published_at` is the date of the first release
seen. The same rule runs here (releases of one ocid on one page) and in the
database upsert (`repository.upsert_tenders`), so the order in which pages arrive
does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    return {
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


def _order(row: CompiledTender) -> tuple[Any, str]:
    return (row["release_date"], row["release_id"])


def merge(current: CompiledTender, incoming: CompiledTender) -> CompiledTender:
    """Merge two compiled rows of one ocid; the result does not depend on argument order
    when at most two releases carry any one field."""
    older, newer = sorted((current, incoming), key=_order)
    merged = dict(newer)
    for name in MERGED_FIELDS:
        if newer[name] is None:
            merged[name] = older[name]
    merged["published_at"] = min(older["published_at"], newer["published_at"])
    reclassified = (
        newer["classification_id"] is not None
        and newer["classification_id"] != older["classification_id"]
    )
    if not reclassified and older["detailed_category"] is not None:
        merged["detailed_category"] = older["detailed_category"]
        merged["category_source"] = older["category_source"]
    return merged


def compile_page(releases: Iterable[Release]) -> list[CompiledTender]:
    """One compiled row per ocid on the page, ordered by ocid (stable lock order)."""
    rows: dict[str, CompiledTender] = {}
    for release in releases:
        row = compile_release(release)
        rows[release.ocid] = merge(rows[release.ocid], row) if release.ocid in rows else row
    return [rows[ocid] for ocid in sorted(rows)]
