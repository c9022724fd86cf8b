"""Tender events: names and `data` fields as the admin tools and the scheduler
send them (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field, model_validator

from jobmatch.events import EventModel

MAX_ENRICHMENT = 5000


class TenderSyncRequested(EventModel):
    """`tender/sync.requested`: sync now; enrich up to `maxEnrichment` tenders."""

    NAME: ClassVar[str] = "tender/sync.requested"

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    triggered_by: str = Field(default="unknown", alias="triggeredBy", min_length=1, max_length=120)


class TenderEnrichRequested(EventModel):
    """`tender/enrich.requested`: categorise one tender."""

    NAME: ClassVar[str] = "tender/enrich.requested"

    ocid: str = Field(min_length=1, max_length=200)
    published_at: datetime | None = Field(default=None, alias="publishedAt")


class TenderEnrichTodayRequested(EventModel):
    """`tender/enrich-today.requested`: today's tenders still missing a category."""

    NAME: ClassVar[str] = "tender/enrich-today.requested"

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    admin_user_id: str | None = Field(default=None, alias="adminUserId", max_length=100)


class TenderBackfillRequested(EventModel):
    """`tender/backfill-enrichment.requested`: tenders published in a range."""

    NAME: ClassVar[str] = "tender/backfill-enrichment.requested"

    date_from: datetime = Field(alias="dateFrom")
    date_to: datetime = Field(alias="dateTo")
    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    triggered_by: str = Field(default="unknown", alias="triggeredBy", max_length=120)

    @model_validator(mode="after")
    def _ordered(self) -> TenderBackfillRequested:
        if self.date_from.tzinfo is None or self.date_to.tzinfo is None:
            raise ValueError("dateFrom and dateTo need a time zone")
        if self.date_from > self.date_to:
            raise ValueError("dateFrom is after dateTo")
        return self


class TenderAlertsRequested(EventModel):
    """`tender/alerts.requested`: email subscribers the new tenders of one sync."""

    NAME: ClassVar[str] = "tender/alerts.requested"

    job_log_id: int = Field(alias="jobLogId", gt=0)
