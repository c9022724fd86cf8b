"""Admin API through the Lambda handler: API key, triggers, job logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import JobLog, SyncState, Tender
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests.tenders_support import (
    FIXTURE_OCIDS,
    FIXTURE_RELEASES,
    fixture_publisher,
    tender_settings,
)

pytestmark = pytest.mark.e2e

ROUTES = [
    ("POST", "/api/admin/tenders/sync"),
    ("POST", "/api/admin/tenders/enrich-today"),
    ("GET", "/api/admin/job-logs"),
]


@pytest.fixture
def driver(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    publisher: OCDSPublisher,
) -> InngestDriver:
    """The Lambda handler built on settings that point at the publisher."""
    return driver_for(Dependencies(tender_settings(settings, publisher)))


@pytest.fixture
def publisher(db: None) -> Iterator[OCDSPublisher]:
    with fixture_publisher() as pub:
        with session_scope() as session:
            session.add(SyncState(name="tender-sync", cursor=datetime(2025, 3, 1, tzinfo=UTC)))
        yield pub


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_admin_routes_need_a_valid_api_key(
    api: ApiClient, event_api: EventAPI, method: str, path: str, key: str | None
) -> None:
    response = api.call(method, path, headers={"x-api-key": key or ""})
    assert response.status == 401
    assert event_api.received() == []


def test_sync_trigger_runs_a_sync_that_the_job_logs_show(
    api: ApiClient, driver: InngestDriver, event_api: EventAPI, publisher: OCDSPublisher
) -> None:
    response = api.post(
        "/api/admin/tenders/sync", {"maxEnrichment": 10, "triggeredBy": "admin:alice"}
    )
    assert response.status == 202
    [event] = event_api.received()
    assert event["name"] == "tender/sync.requested"
    assert event["data"] == {"maxEnrichment": 10, "triggeredBy": "admin:alice"}
    assert response.json()["eventIds"] == [event["id"]]

    runs = driver.drain()
    assert any(r.function_id.endswith("tender-sync") and r.status == "completed" for r in runs)
    with session_scope() as session:
        assert {
            t for t in session.scalars(Tender.__table__.select().with_only_columns(Tender.ocid))
        } == FIXTURE_OCIDS

    page = api.get("/api/admin/job-logs", query={"jobType": "tender-sync"}).json()
    assert page["total"] == 1
    [log] = page["items"]
    assert log["status"] == "SUCCESS"
    assert log["triggered_by"] == "admin:alice"
    assert log["counts"]["fetched"] == FIXTURE_RELEASES
    assert log["counts"]["skipped_malformed"] == 1
    assert log["meta"]["maxEnrichment"] == 10
    assert api.get("/api/admin/job-logs", query={"status": "FAILED"}).json()["total"] == 0


def test_enrich_today_trigger_fans_out_todays_uncategorised_tenders(
    api: ApiClient, driver: InngestDriver, event_api: EventAPI, db: None
) -> None:
    now = datetime.now(UTC)
    with session_scope() as session:
        for n, category in enumerate([None, None, "construction"]):
            session.add(
                Tender(
                    ocid=f"ocds-today-{n}",
                    release_id=f"r{n}",
                    release_date=now,
                    published_at=now,
                    title="Provision of specialised services",
                    detailed_category=category,
                    category_source="rules" if category else None,
                )
            )
    response = api.post("/api/admin/tenders/enrich-today", {"adminUserId": "u-7"})
    assert response.status == 202
    runs = driver.drain()
    enriched = sorted(
        r.event["data"]["ocid"] for r in runs if r.function_id.endswith("enrich-tender")
    )
    assert enriched == ["ocds-today-0", "ocds-today-1"]
    with session_scope() as session:
        log = session.query(JobLog).one()
        categories = {t.ocid: t.detailed_category for t in session.query(Tender)}
    assert (log.job_type, log.status, log.triggered_by) == ("enrich-today", "SUCCESS", "admin:u-7")
    assert log.counts == {"enrichment_queued": 2}
    assert categories == {
        "ocds-today-0": "other",
        "ocds-today-1": "other",
        "ocds-today-2": "construction",
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("POST", "/api/admin/tenders/sync", {"maxEnrichment": -1}, None),
        ("POST", "/api/admin/tenders/sync", {"maxEnrichment": 10**6}, None),
        ("POST", "/api/admin/tenders/sync", {"unknown": 1}, None),
        ("POST", "/api/admin/tenders/enrich-today", {"maxEnrichment": "many"}, None),
        ("GET", "/api/admin/job-logs", None, {"status": "DONE"}),
        ("GET", "/api/admin/job-logs", None, {"limit": "0"}),
    ],
)
def test_bad_requests_are_4xx_with_a_message_and_send_nothing(
    api: ApiClient,
    event_api: EventAPI,
    method: str,
    path: str,
    body: object,
    query: dict[str, str] | None,
) -> None:
    response = api.call(method, path, body=body, query=query)
    assert response.status == 422
    assert response.json()["errors"][0]["msg"]
    assert response.json()["detail"].startswith("invalid request: ")
    assert event_api.received() == []


def test_job_logs_page_newest_first(api: ApiClient, db: None) -> None:
    with session_scope() as session:
        for n in range(5):
            session.add(JobLog(job_type="tender-sync", run_id=f"run-{n}", status="SUCCESS"))
        session.add(JobLog(job_type="tender-sync", run_id="bad", status="FAILED", error="boom"))
    page = api.get("/api/admin/job-logs", query={"limit": "2", "offset": "1"}).json()
    assert page["total"] == 6
    assert [i["run_id"] for i in page["items"]] == ["run-4", "run-3"]
    failed = api.get("/api/admin/job-logs", query={"status": "FAILED"}).json()
    assert [(i["run_id"], i["error"]) for i in failed["items"]] == [("bad", "boom")]
