"""An OCDS release, validated against exactly the fields we use.

Publishers differ: amounts arrive as strings, classification ids as numbers, a
classification sits on the tender (the UK extension) or only on its items, OCDS
1.0 names the buyer by `identifier` and has no `parties`, and almost every field
is optional. Real feeds are also dirty: an empty `endDate`, a currency of
"Pesos", a quantity of "10 units". One bad optional field must not cost us the
title and value of the release, so parsing is field by field: a field that does
not validate is dropped (it becomes null) and counted under its path, and the
release is kept. Only a release without what identifies and orders it (ocid,
release id, a parsable date) is malformed and skipped. Unknown fields are
ignored, so a release stays small once parsed.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


def _id_text(value: Any) -> Any:
    """Ids are strings in the schema but integers in some feeds."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _assume_utc(value: datetime) -> datetime:
    """OCDS dates carry a zone; feeds that drop it mean UTC in practice."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


IdText = Annotated[str, BeforeValidator(_id_text)]
Timestamp = Annotated[datetime, AfterValidator(_assume_utc)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Classification(_Part):
    """A scheme (CPV, UNSPSC, a national list) and a code in it."""

    scheme: str | None = None
    id: IdText | None = None
    description: str | None = None


class Value(_Part):
    """An amount of money; either half may be missing."""

    amount: Decimal | None = None
    # ISO 4217: three letters ("Pesos" is dropped, the amount kept).
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")


class Period(_Part):
    """A time span; open-ended periods are common."""

    start_date: Timestamp | None = Field(default=None, alias="startDate")
    end_date: Timestamp | None = Field(default=None, alias="endDate")


class Identifier(_Part):
    """An organisation's id in a register (OCDS 1.0 names organisations this way)."""

    scheme: str | None = None
    id: IdText | None = None
    legal_name: str | None = Field(default=None, alias="legalName")


class Organization(_Part):
    """A buyer or a party: an id and a name (1.1), or an identifier (1.0)."""

    id: IdText | None = None
    name: str | None = None
    identifier: Identifier | None = None

    def resolved(self) -> Organization | None:
        """Id and name, falling back to the identifier: 1.0's `{scheme, id}` becomes the
        `scheme-id` that 1.1 publishers use as party id, so both versions agree."""
        ident = self.identifier
        ident_id = None
        if ident is not None and ident.id:
            ident_id = f"{ident.scheme}-{ident.id}" if ident.scheme else ident.id
        org_id = self.id or ident_id
        name = self.name or (ident.legal_name if ident else None)
        return Organization(id=org_id, name=name) if org_id or name else None


class Party(Organization):
    """An organisation named in the release, with its roles."""

    roles: list[str] = Field(default_factory=list)


class Item(_Part):
    """A line of what is bought."""

    id: IdText | None = None
    description: str | None = None
    classification: Classification | None = None
    quantity: Decimal | None = None


class Tender(_Part):
    """The tender section of a release."""

    id: IdText | None = None
    title: str | None = None
    description: str | None = None
    status: str | None = None
    value: Value | None = None
    classification: Classification | None = None
    items: list[Item] = Field(default_factory=list)
    tender_period: Period | None = Field(default=None, alias="tenderPeriod")
    procuring_entity: Organization | None = Field(default=None, alias="procuringEntity")


class Release(_Part):
    """One OCDS release: a dated statement about one contracting process (ocid)."""

    ocid: str = Field(min_length=1, max_length=200)
    id: IdText = Field(min_length=1, max_length=200)
    date: Timestamp
    tag: list[str] = Field(default_factory=list)
    buyer: Organization | None = None
    tender: Tender | None = None
    parties: list[Party] = Field(default_factory=list)

    def buyer_org(self) -> Organization | None:
        """The buyer: `buyer` (named from `parties` when it carries only an id), else
        the party with the buyer role, else, in the 1.0 shape without `parties`,
        the tender's procuring entity."""
        buyer = self.buyer.resolved() if self.buyer is not None else None
        if buyer is not None:
            if buyer.name is None and buyer.id:
                named = next((p for p in self.parties if p.id == buyer.id and p.name), None)
                if named is not None:
                    return Organization(id=buyer.id, name=named.name)
            return buyer
        party = next((p for p in self.parties if "buyer" in p.roles), None)
        if party is not None:
            return party.resolved()
        if not self.parties and self.tender is not None and self.tender.procuring_entity:
            return self.tender.procuring_entity.resolved()
        return None


# What identifies and orders a release: without these it cannot be compiled.
REQUIRED_FIELDS = frozenset({"ocid", "id", "date"})
# Dropping the bad fields found in one pass leaves a valid release; a few more
# passes cover fields that only fail once their parent validates.
MAX_PASSES = 4


@dataclass
class ParsedReleases:
    """The releases of a package: the ones kept, how many were malformed (skipped),
    and how many times each optional field was dropped, by field path."""

    releases: list[Release] = field(default_factory=list)
    malformed: int = 0
    invalid_fields: Counter[str] = field(default_factory=Counter)


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("tender", "items", 0, "quantity")` -> `"tender.items.quantity"`: list
    positions are left out so counts add up per field, not per item."""
    return ".".join(str(part) for part in loc if isinstance(part, str))


def _drop(data: dict[str, Any], locs: list[tuple[int | str, ...]]) -> None:
    """Remove the values at `locs` from `data` (list items from the back, so the
    positions of the other bad items still hold)."""
    targets: dict[int, tuple[dict[str, Any] | list[Any], set[int | str]]] = {}
    for loc in locs:
        parent: Any = data
        for part in loc[:-1]:
            parent = parent[part]
        targets.setdefault(id(parent), (parent, set()))[1].add(loc[-1])
    for parent, keys in targets.values():
        if isinstance(parent, list):
            for index in sorted((k for k in keys if isinstance(k, int)), reverse=True):
                del parent[index]
        else:
            for key in keys:
                parent.pop(str(key), None)


def parse_release(raw: Any) -> tuple[Release | None, list[str]]:
    """One release with its invalid optional fields dropped, and their paths; None
    (malformed) when it is not an object or a required field is missing or bad."""
    if not isinstance(raw, dict):
        return None, []
    data: dict[str, Any] = raw
    dropped: list[str] = []
    for _ in range(MAX_PASSES):
        try:
            return Release.model_validate(data), dropped
        except ValidationError as exc:
            locs = [tuple(error["loc"]) for error in exc.errors()]
        if any(not loc or loc[0] in REQUIRED_FIELDS for loc in locs):
            return None, dropped
        if data is raw:
            data = copy.deepcopy(raw)  # the caller's dict stays as the publisher sent it
        try:
            _drop(data, locs)
        except (KeyError, IndexError, TypeError):
            return None, dropped
        dropped.extend(field_path(loc) for loc in locs)
    return None, dropped


def parse_releases(raw: list[Any]) -> ParsedReleases:
    """Parse every release of a package field by field (see `parse_release`)."""
    parsed = ParsedReleases()
    for item in raw:
        release, dropped = parse_release(item)
        if release is None:
            parsed.malformed += 1
            continue
        parsed.releases.append(release)
        parsed.invalid_fields.update(dropped)
    return parsed
