"""Tender sync end to end: the Lambda handler driven like Inngest, a fake OCDS
publisher on 127.0.0.1 serving recorded release packages, the real database."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import JobLog, OutboxMessage, SyncState, Tender, TenderAlertSubscription
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests.conftest import TEST_SIGNING_KEY
from tests.tenders_support import (
    FIXTURE_INVALID_FIELDS,
    FIXTURE_OCIDS,
    FIXTURE_RELEASES,
    fixture_publisher,
    standard_releases,
    tender_settings,
)

pytestmark = pytest.mark.e2e

SYNC = "tender/sync.requested"
START_CURSOR = datetime(2025, 3, 1, tzinfo=UTC)


DriverFor = Callable[[Dependencies], InngestDriver]


@pytest.fixture
def publisher(db: None) -> Iterator[OCDSPublisher]:
    """The recorded March 2025 feed, 4 releases a page; the cursor at 1 March."""
    with fixture_publisher() as pub:
        set_cursor(START_CURSOR)
        yield pub


@pytest.fixture
def driver(driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher) -> InngestDriver:
    """The Lambda handler built on settings that point at the publisher."""
    return driver_for(Dependencies(tender_settings(settings, publisher)))


def set_cursor(when: datetime) -> None:
    with session_scope() as session:
        session.merge(SyncState(name="tender-sync", cursor=when))


def cursor() -> datetime | None:
    with session_scope() as session:
        return session.scalar(select(SyncState.cursor).where(SyncState.name == "tender-sync"))


def tenders() -> dict[str, Tender]:
    with session_scope() as session:
        return {t.ocid: t for t in session.scalars(select(Tender))}


def job_logs() -> list[JobLog]:
    with session_scope() as session:
        return list(session.scalars(select(JobLog).order_by(JobLog.id)))


def the_run(runs: list[Any], fn: str) -> Any:
    [run] = [r for r in runs if r.function_id.endswith(fn)]
    return run


def test_sync_saves_compiled_tenders_and_moves_the_cursor_once(
    driver: InngestDriver, publisher: OCDSPublisher
) -> None:
    runs = driver.send(SYNC, {"maxEnrichment": 50, "triggeredBy": "test"})

    sync = the_run(runs, "tender-sync")
    assert sync.status == "completed", sync.error
    step_ids = [s.id for s in sync.steps]
    assert step_ids[:5] == [
        "create-job-log",
        "determine-date-range",
        "fetch-page-1",
        "fetch-page-2",
        "fetch-page-3",
    ]
    assert step_ids.index("commit-sync") > step_ids.index("configure-enrichment-strategy")
    assert sync.output["fetched"] == FIXTURE_RELEASES
    assert sync.output["skipped_malformed"] == 1
    assert sync.output["invalid_fields"] == FIXTURE_INVALID_FIELDS
    assert sync.output["new"] == len(FIXTURE_OCIDS)

    saved = tenders()
    assert set(saved) == FIXTURE_OCIDS
    hall = saved["ocds-9t57fa-100101"]  # three releases, amendments leave fields out
    assert hall.title == "Construction of community hall in Ward 12 (re-advertised)"
    assert hall.description is not None
    assert hall.description.startswith("Construction of a 400")
    assert (hall.value_amount, hall.value_currency) == (Decimal("2750000.00"), "ZAR")
    assert hall.tender_end == datetime(2025, 4, 11, 9, tzinfo=UTC)
    assert hall.published_at == datetime(2025, 3, 3, 8, tzinfo=UTC)
    assert hall.release_id == "ocds-9t57fa-100101-2025-03-07-tenderUpdate"
    assert hall.release_tag == ["tenderUpdate"]
    assert (hall.classification_id, hall.detailed_category) == ("45210000", "construction")
    assert hall.items is not None
    assert len(hall.items) == 2
    # The amendment was served two pages before the original: newest still wins.
    health = saved["ocds-9t57fa-100106"]
    assert health.title == "Supply of surgical consumables to Chris Hani Baragwanath Hospital"
    assert health.status == "active"
    assert (health.value_amount, health.value_currency) == (Decimal("1320000.00"), "ZAR")
    assert health.detailed_category == "medical"
    assert health.published_at == datetime(2025, 3, 2, 7, tzinfo=UTC)
    sita = saved["ocds-9t57fa-100105"]  # buyer only among parties, UNSPSC scheme
    assert sita.buyer_name == "State Information Technology Agency"
    assert sita.detailed_category == "computer-equipment"
    assert saved["ocds-9t57fa-100102"].detailed_category == "it-services"
    assert saved["ocds-9t57fa-100103"].detailed_category == "security-defence"
    # Dirty optional fields are dropped, the rest of the release is kept.
    furniture = saved["ocds-9t57fa-100107"]  # amount "about one million"
    assert furniture.title == "Supply of school furniture"
    assert (furniture.value_amount, furniture.value_currency) == (None, "ZAR")
    dam = saved["ocds-9t57fa-100108"]  # endDate ""
    assert dam.tender_start == datetime(2025, 3, 8, 10, tzinfo=UTC)
    assert dam.tender_end is None
    roads = saved["ocds-9t57fa-100109"]  # currency "Rand"
    assert (roads.value_amount, roads.value_currency) == (Decimal(15000000), None)
    assert "ocds-9t57fa-100110" not in saved  # no date: malformed

    # The one tender no rule can place was fanned out and fell back cleanly.
    enrich = [r for r in runs if r.function_id.endswith("enrich-tender")]
    assert [r.event["data"]["ocid"] for r in enrich] == ["ocds-9t57fa-100104"]
    assert saved["ocds-9t57fa-100104"].detailed_category == "other"

    assert cursor() == datetime(2025, 4, 1, tzinfo=UTC)  # 1 March + the 31-day window
    [log] = job_logs()
    assert log.status == "SUCCESS"
    assert log.error is None
    assert log.run_id == sync.run_id
    assert log.counts["fetched"] == FIXTURE_RELEASES
    assert log.counts["skipped_malformed"] == 1
    assert log.counts["invalid_fields"] == FIXTURE_INVALID_FIELDS
    assert "by_page" not in log.counts  # per-page entries go when the log closes
    assert log.counts["new"] == len(FIXTURE_OCIDS)
    assert log.counts["enrichment_queued"] == 1
    assert log.triggered_by == "test"


def test_second_run_changes_nothing(driver: InngestDriver, publisher: OCDSPublisher) -> None:
    driver.send(SYNC, {"triggeredBy": "test"})
    before = {ocid: (t.updated_at, t.release_id) for ocid, t in tenders().items()}
    after_first = cursor()

    # The next run starts at the cursor: nothing new.
    [second] = [
        r for r in driver.send(SYNC, {"triggeredBy": "test"}) if "tender-sync" in r.function_id
    ]
    assert second.status == "completed"
    assert second.output["saved"] == 0
    assert second.output["new"] == 0
    assert cursor() is not None
    assert after_first is not None
    assert cursor() >= after_first

    # Even the same range again (cursor wound back) re-reads every page and changes nothing.
    set_cursor(START_CURSOR)
    [third] = [
        r for r in driver.send(SYNC, {"triggeredBy": "test"}) if "tender-sync" in r.function_id
    ]
    assert third.status == "completed"
    assert third.output["fetched"] == FIXTURE_RELEASES
    assert third.output["saved"] == 0
    assert {ocid: (t.updated_at, t.release_id) for ocid, t in tenders().items()} == before
    assert [log.status for log in job_logs()] == ["SUCCESS"] * 3


def test_job_log_is_running_and_cursor_unmoved_during_the_sync(
    driver: InngestDriver, publisher: OCDSPublisher, database: str
) -> None:
    seen: list[tuple[str, str, datetime | None]] = []

    def look(path: str) -> None:
        if "PageNumber=3" in path:
            with session_scope() as session:
                status = session.scalar(select(JobLog.status))
                count = session.scalar(select(func.count()).select_from(Tender))
            seen.append((path, str(status), cursor()))
            assert count  # pages 1 and 2 are saved already

    publisher.on_request = look
    driver.send(SYNC, {"triggeredBy": "test"})
    assert [(status, when) for _, status, when in seen] == [("RUNNING", START_CURSOR)]
    assert [log.status for log in job_logs()] == ["SUCCESS"]


def test_outage_mid_sync_recovers_without_gap_or_duplicate(
    driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher
) -> None:
    # Page 2 fails longer than the client's own retries (3 attempts): the step fails,
    # Inngest retries it, the publisher has recovered by then.
    driver = driver_for(Dependencies(tender_settings(settings, publisher, ocds_max_attempts=3)))
    publisher.fail_next(4, status=503, after=1)
    publisher.throttle_next(1, retry_after="1")  # then one 429 honoured inside the step

    [sync] = [
        r for r in driver.send(SYNC, {"triggeredBy": "test"}) if "tender-sync" in r.function_id
    ]

    assert sync.status == "completed", sync.error
    page2 = sync.step("fetch-page-2")
    assert page2.attempts == 2  # one Inngest retry of the step
    assert sync.output["fetched"] == FIXTURE_RELEASES
    assert sync.output["skipped_malformed"] == 1
    assert set(tenders()) == FIXTURE_OCIDS  # no gap
    with session_scope() as session:
        dupes = session.execute(
            text("SELECT ocid FROM tenders GROUP BY ocid HAVING count(*) > 1")
        ).all()
    assert dupes == []
    assert [log.status for log in job_logs()] == ["SUCCESS"]
    assert cursor() == datetime(2025, 4, 1, tzinfo=UTC)


def test_publisher_down_beyond_retries_fails_the_job_log(
    driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher
) -> None:
    driver = driver_for(Dependencies(tender_settings(settings, publisher, ocds_max_attempts=2)))
    publisher.fail_next(1000, after=1)  # page 2 never comes back

    runs = driver.send(SYNC, {"triggeredBy": "test"})

    sync = the_run(runs, "tender-sync")
    assert sync.status == "failed"
    assert the_run(runs, "tender-sync-failure").status == "completed"
    [log] = job_logs()
    assert log.status == "FAILED"
    assert log.finished_at is not None
    assert log.error is not None
    assert "PublisherUnavailableError" in log.error
    assert log.counts["fetched"] == 4  # page 1 was saved and counted
    assert cursor() == START_CURSOR  # not moved: the next sync re-reads the range

    publisher.come_back()
    runs = driver.send(SYNC, {"triggeredBy": "test"})
    assert the_run(runs, "tender-sync").status == "completed"
    assert set(tenders()) == FIXTURE_OCIDS
    assert [log.status for log in job_logs()] == ["FAILED", "SUCCESS"]


def test_alerts_are_sent_once_even_when_the_step_runs_twice(
    driver: InngestDriver, publisher: OCDSPublisher
) -> None:
    with session_scope() as session:
        session.add_all(
            [
                TenderAlertSubscription(email="builder@example.com", categories=["construction"]),
                TenderAlertSubscription(email="nurse@example.com", keywords=["surgical"]),
                TenderAlertSubscription(email="nobody@example.com", keywords=["submarine"]),
                TenderAlertSubscription(
                    email="off@example.com", categories=["construction"], active=False
                ),
            ]
        )

    runs = driver.send(SYNC, {"triggeredBy": "test"})
    alerts = the_run(runs, "process-tender-alerts")
    assert alerts.status == "completed"
    assert alerts.output["sent"] == 2

    driver.replay_step(alerts, "alert-batch-1")  # the step runs a second time
    driver.rerun(alerts)  # and the whole function runs again on the same event

    with session_scope() as session:
        mails = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address)))
        log = session.scalars(select(JobLog)).one()
    assert [m.to_address for m in mails] == ["builder@example.com", "nurse@example.com"]
    builder = mails[0]
    assert builder.idempotency_key.endswith(f":{log.id}")
    assert "Construction of community hall in Ward 12" in builder.body_text
    assert "Refurbishment of the Hartbeespoort dam" in builder.body_text
    assert "surgical" in mails[1].body_text.lower()
    assert log.counts["alerts"] == 2


def test_cron_and_cleanup_of_stuck_jobs(driver: InngestDriver, publisher: OCDSPublisher) -> None:
    sync = driver.run_cron("tender-sync")
    assert sync.status == "completed"
    with session_scope() as session:
        session.add(
            JobLog(
                job_type="tender-sync",
                run_id="dead-run",
                status="RUNNING",
                started_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    cleanup = driver.run_cron("cleanup-stuck-jobs")
    assert cleanup.status == "completed"
    assert cleanup.output == {"failed": 1}
    by_run = {log.run_id: log for log in job_logs()}
    assert by_run[sync.run_id].status == "SUCCESS"
    assert by_run[sync.run_id].triggered_by == "cron"
    assert by_run["dead-run"].status == "FAILED"
    assert "stuck in RUNNING" in (by_run["dead-run"].error or "")


GATEWAY_SECONDS = 1.5
COMPARED = ("fetched", "skipped_malformed", "saved", "new", "invalid_fields")


def test_a_page_retried_after_a_gateway_504_is_counted_once(
    event_api: EventAPI, settings: Settings, publisher: OCDSPublisher
) -> None:
    from jobmatch.app import build_handler

    stalled: list[str] = []

    def stall(path: str) -> None:  # page 2's first try outlives the gateway, then commits
        if "PageNumber=2" in path and not stalled:
            stalled.append(path)
            time.sleep(GATEWAY_SECONDS + 0.5)

    publisher.on_request = stall
    driver = InngestDriver(
        build_handler(Dependencies(tender_settings(settings, publisher))),
        signing_key=TEST_SIGNING_KEY,
        event_api=event_api,
        gateway_timeout_seconds=GATEWAY_SECONDS,
    )
    sync = the_run(driver.send(SYNC, {"triggeredBy": "test"}), "tender-sync")
    assert sync.status == "completed", sync.error
    assert stalled
    assert any(e.gateway_timeout for e in sync.exchanges)  # Inngest saw a 504 ...
    assert sync.step("fetch-page-2").attempts >= 2  # ... and ran the page step again
    [retried] = job_logs()

    # The same sync without the timeout: what the counts must say.
    with session_scope() as session:
        session.execute(text("TRUNCATE tenders, job_logs RESTART IDENTITY"))
    set_cursor(START_CURSOR)
    publisher.on_request = None
    clean = the_run(driver.send(SYNC, {"triggeredBy": "test"}), "tender-sync")
    assert clean.status == "completed", clean.error
    [reference] = job_logs()

    def counts(found: dict[str, Any]) -> dict[str, Any]:
        return {k: found.get(k) for k in COMPARED}

    assert counts(retried.counts) == counts(reference.counts)
    assert retried.counts["saved"] >= len(FIXTURE_OCIDS)
    assert counts(sync.output) == counts(clean.output)


def test_real_ocds_1_0_and_1_1_releases_and_dirty_ones_sync(
    driver_for: DriverFor, settings: Settings, db: None
) -> None:
    """Published packages (tests/fixtures/ocds/standard): Mexico City's 1.0 tender and
    its re-publication, the worked example's 1.1 tender and amendment, and dirty
    copies of a 1.0 and a 1.1 release under their own ocids."""
    mexico = standard_releases("ocds-1.0-mexico-city-tender.json")
    worked = standard_releases("ocds-1.1-worked-example.json")
    [paraguay] = standard_releases("ocds-1.1-paraguay-tender.json")

    def dirty(raw: dict[str, Any], suffix: str) -> dict[str, Any]:
        out = copy.deepcopy(raw) | {"ocid": raw["ocid"] + suffix, "id": raw["id"] + suffix}
        tender = out["tender"]
        tender["tenderPeriod"]["endDate"] = ""
        tender["value"]["currency"] = "Pesos"
        tender["items"][0]["quantity"] = "10 units"
        return out

    feed = [  # two a page: a dirty release on the first and the last page
        dirty(mexico[0], "-dirty-1.0"),
        mexico[0],
        worked[1],  # the tender
        mexico[1],  # the same 1.0 tender, published again later
        worked[2],  # the tender's amendment
        dirty(paraguay, "-dirty-1.1"),
    ]
    with OCDSPublisher(feed) as pub:
        sync_settings = tender_settings(
            settings, pub, ocds_page_size=2, tender_sync_max_window_days=36_500
        )
        driver = driver_for(Dependencies(sync_settings))
        set_cursor(datetime(2010, 1, 1, tzinfo=UTC))
        sync = the_run(driver.send(SYNC, {"triggeredBy": "test"}), "tender-sync")

    assert sync.status == "completed", sync.error
    [log] = job_logs()
    assert log.status == "SUCCESS"
    assert (log.counts["fetched"], log.counts["skipped_malformed"], log.counts["new"]) == (6, 0, 4)
    assert log.counts["invalid_fields"] == {  # merged over the pages
        "tender.items.quantity": 2,
        "tender.tenderPeriod.endDate": 2,
        "tender.value.currency": 2,
    }
    saved = tenders()
    example = saved[worked[0]["ocid"]]
    assert example.release_id == "ocds-213czf-000-00001-03-tenderAmendment"
    assert example.tender_end == datetime(2010, 4, 8, 18, tzinfo=UTC)  # amended
    assert (example.value_amount, example.value_currency) == (Decimal(1100000), "GBP")
    assert (example.buyer_id, example.buyer_name) == (
        "GB-LAC-E09000003",
        "London Borough of Barnet",
    )
    city = saved[mexico[0]["ocid"]]
    assert city.release_id == "02"
    assert (city.buyer_id, city.buyer_name) == ("GDF9712054NA", "SECRETARÍA DE FINANZAS")  # 1.0
    assert (city.value_amount, city.value_currency) == (Decimal("1311264.00"), "MXN")
    dirty_ones = (
        (mexico[0], "-dirty-1.0", "GDF9712054NA"),  # 1.0: the buyer's identifier
        (paraguay, "-dirty-1.1", "DNCP-SICP-CODE-169"),
    )
    for clean, suffix, buyer_id in dirty_ones:
        kept = saved[clean["ocid"] + suffix]
        assert kept.title == clean["tender"]["title"]
        assert kept.value_amount == Decimal(str(clean["tender"]["value"]["amount"]))
        assert kept.value_currency is None
        assert kept.tender_end is None
        assert kept.buyer_id == buyer_id
        assert kept.items is not None
        assert kept.items[0]["quantity"] is None
        assert len(kept.items) == len(clean["tender"]["items"])


def test_a_page_without_a_releases_list_is_skipped_and_the_rest_is_read(
    driver: InngestDriver, publisher: OCDSPublisher, capsys: pytest.CaptureFixture[str]
) -> None:
    """The publisher states its page count, so the pages after a broken one are
    still asked for: one page's releases are missing, not the rest of the feed."""
    clean = the_run(driver.send(SYNC, {"triggeredBy": "test"}), "tender-sync")
    assert clean.status == "completed", clean.error
    [clean_log] = job_logs()
    set_cursor(START_CURSOR)

    publisher.corrupt_next(1, releases={"error": "internal error"}, after=1)
    sync = the_run(driver.send(SYNC, {"triggeredBy": "test"}), "tender-sync")
    assert sync.status == "completed", sync.error
    pages = [s.id for s in sync.steps if s.id.startswith("fetch-page-")]
    assert pages == [f"fetch-page-{n}" for n in range(1, clean_log.counts["pages"] + 1)]
    log = job_logs()[-1]
    assert log.status == "SUCCESS"
    assert (log.counts["malformed_pages"], log.counts["pages"]) == (1, clean_log.counts["pages"])
    assert log.counts["fetched"] == clean_log.counts["fetched"] - 4  # one page of 4
    # The metric the TenderPagesMalformed alarm watches, as the handler flushes it (EMF).
    emitted = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "TenderPagesMalformed" in line
    ]
    assert [m["TenderPagesMalformed"] for m in emitted] == [[1.0]]
    assert emitted[0]["service"] == "jobmatch"
