"""Tender events (seed 001), names and `data` exactly as the seed sends them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from jobmatch.workflows.events import EventData

SYNC_REQUESTED = "tender/sync.requested"
ENRICH_REQUESTED = "tender/enrich.requested"
ENRICH_TODAY_REQUESTED = "tender/enrich-today.requested"
BACKFILL_REQUESTED = "tender/backfill-enrichment.requested"
ALERTS_REQUESTED = "tender/alerts.requested"

MAX_ENRICHMENT = 5000


class TenderSyncRequested(EventData):
    """`tender/sync.requested`: sync now; enrich up to `maxEnrichment` tenders."""

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    triggered_by: str = Field(default="unknown", alias="triggeredBy", min_length=1, max_length=120)


class TenderEnrichRequested(EventData):
    """`tender/enrich.requested`: categorise one tender."""

    ocid: str = Field(min_length=1, max_length=200)
    published_at: datetime | None = Field(default=None, alias="publishedAt")


class TenderEnrichTodayRequested(EventData):
    """`tender/enrich-today.requested`: today's tenders still missing a category."""

    max_enrichment: int | None = Field(default=None, alias="maxEnrichment", ge=0, le=MAX_ENRICHMENT)
    admin_user_id: str | None = Field(default=None, alias="adminUserId", max_length=100)


class TenderBackfillRequested(EventData):
    """`tender/backfill-enrichment.requested`: tenders published in a range."""

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


class TenderAlertsRequested(EventData):
    """`tender/alerts.requested`: email subscribers the new tenders of one sync."""

    job_log_id: int = Field(alias="jobLogId", gt=0)
