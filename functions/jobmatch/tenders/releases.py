"""An OCDS release, validated against exactly the fields we use.

Publishers differ: amounts arrive as strings, classification ids as numbers, a
classification sits on the tender (the UK extension) or only on its items, and
almost every field is optional. The models accept those variations and reject
only what we cannot compile: no ocid, no release id, no parsable date, or a field
of an impossible type. Unknown fields are ignored, so a release stays small once
parsed.
"""

from __future__ import annotations

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
    currency: str | None = Field(default=None, max_length=3)


class Period(_Part):
    """A time span; open-ended periods are common."""

    start_date: Timestamp | None = Field(default=None, alias="startDate")
    end_date: Timestamp | None = Field(default=None, alias="endDate")


class Organization(_Part):
    """A buyer or a party: an id and a name."""

    id: IdText | None = None
    name: str | None = None


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
        """The buyer, or the party with the buyer role when `buyer` is absent (OCDS 1.0)."""
        if self.buyer is not None and (self.buyer.name or self.buyer.id):
            named = next((p for p in self.parties if self.buyer.id and p.id == self.buyer.id), None)
            if self.buyer.name is None and named is not None:
                return Organization(id=self.buyer.id, name=named.name)
            return self.buyer
        return next((p for p in self.parties if "buyer" in p.roles), None)


def parse_releases(raw: Any) -> tuple[list[Release], int]:
    """Validate every release of a package; return the good ones and how many were not."""
    if not isinstance(raw, list):
        return [], 0
    good: list[Release] = []
    skipped = 0
    for item in raw:
        try:
            release = Release.model_validate(item)
        except ValidationError:
            skipped += 1
            continue
        good.append(release)
    return good, skipped
