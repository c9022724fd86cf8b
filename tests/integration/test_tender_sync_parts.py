"""The OCDS client against the fake publisher over real HTTP, and the tender
repository against PostgreSQL: page replays, page order, cursor, job logs."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from jobmatch.db.models import JobLog, Tender
from jobmatch.db.session import get_engine, session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.runs import job_log_store
from jobmatch.settings import Settings, get_settings
from jobmatch.tenders import steps as tender_steps
from jobmatch.tenders import store
from jobmatch.tenders.compile import MERGED_FIELDS, ORDER_COLLATION, compile_page
from jobmatch.tenders.ocds_client import OCDSClient, PageRef, PublisherUnavailableError
from jobmatch.tenders.releases import Release
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests.tenders_support import (
    FIXTURE_INVALID_FIELDS,
    FIXTURE_OCIDS,
    FIXTURE_RELEASES,
    fixture_publisher,
    tender_settings,
)

pytestmark = pytest.mark.integration

FROM, TO = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC)


@pytest.fixture
def publisher() -> Iterator[OCDSPublisher]:
    with fixture_publisher() as pub:
        yield pub


def settings_for(pub: OCDSPublisher, **overrides: object) -> Settings:
    return get_settings().model_copy(
        update={
            "ocds_base_url": pub.url,
            "ocds_page_size": 5,
            "ocds_backoff_seconds": 0.01,
            "ocds_max_attempts": 3,
            **overrides,
        }
    )


def read_all(client: OCDSClient) -> tuple[list[Release], int, int, Counter[str]]:
    releases: list[Release] = []
    skipped, pages, ref, invalid = 0, 0, None, Counter[str]()
    while True:
        page = client.fetch_page(FROM, TO, ref)
        releases += page.releases
        skipped += page.skipped
        invalid.update(page.invalid_fields)
        pages += 1
        ref = page.next_ref
        if ref is None:
            return releases, skipped, pages, invalid


@pytest.mark.parametrize(
    ("style", "path", "counts", "pages"),
    [
        ("page", "/api/OCDSReleases", True, 3),
        ("page", "/api/OCDSReleases", False, 4),  # no counts: the empty 4th page ends it
        ("links", "/ocdsReleasePackages", True, 3),
    ],
)
def test_client_reads_every_page_in_both_styles(
    style: str, path: str, counts: bool, pages: int
) -> None:
    with fixture_publisher(page_counts=counts) as pub:
        settings = settings_for(pub, ocds_pagination=style, ocds_releases_path=path)
        with OCDSClient(settings) as client:
            releases, skipped, seen, invalid = read_all(client)
    assert (len(releases), skipped, seen) == (FIXTURE_RELEASES - 1, 1, pages)
    assert {r.ocid for r in releases} == FIXTURE_OCIDS
    assert invalid == FIXTURE_INVALID_FIELDS


def test_date_range_is_passed_to_the_publisher(publisher: OCDSPublisher) -> None:
    with OCDSClient(settings_for(publisher)) as client:
        page = client.fetch_page(FROM, datetime(2025, 3, 4, tzinfo=UTC), None)
    assert sorted(r.id for r in page.releases) == [
        "ocds-9t57fa-100101-2025-03-03-tender",
        "ocds-9t57fa-100106-2025-03-02-tender",
    ]


def test_client_rides_out_5xx_and_429_then_gives_up_on_a_long_outage(
    publisher: OCDSPublisher,
) -> None:
    sleeps: list[float] = []
    with OCDSClient(settings_for(publisher), sleep=sleeps.append) as client:
        publisher.fail_next(1, status=502)
        publisher.throttle_next(1, retry_after="2")
        assert client.fetch_page(FROM, TO, None).fetched == 5
        assert sleeps[1] == 2.0
        publisher.go_down()
        with pytest.raises(PublisherUnavailableError, match="3 attempts"):
            client.fetch_page(FROM, TO, 2)
        publisher.come_back()
        assert client.fetch_page(FROM, TO, 2).fetched == 5
    assert publisher.served_pages == 2


def fixture_pages(pub: OCDSPublisher, size: int) -> list[list[Release]]:
    with OCDSClient(settings_for(pub, ocds_page_size=size)) as client:
        out, ref = [], None
        while True:
            page = client.fetch_page(FROM, TO, ref)
            out.append(page.releases)
            ref = page.next_ref
            if ref is None:
                return out


def compiled_state() -> dict[str, tuple[object, ...]]:
    with session_scope() as session:
        return {
            t.ocid: (
                t.title,
                t.status,
                t.value_amount,
                t.release_id,
                t.published_at,
                t.detailed_category,
                t.tender_end,
            )
            for t in session.scalars(select(Tender))
        }


def clear_tenders() -> None:
    with session_scope() as session:
        session.query(Tender).delete()


def test_upsert_is_newest_wins_whatever_the_page_order_and_replays_change_nothing(
    db: None, publisher: OCDSPublisher
) -> None:
    pages = fixture_pages(publisher, size=4)
    states = []
    for order in itertools.permutations(pages):
        clear_tenders()
        for releases in order:
            with session_scope() as session:
                store.upsert_tenders(session, compile_page(releases), None)
        states.append(compiled_state())
    assert all(state == states[0] for state in states)
    hall = states[0]["ocds-9t57fa-100101"]
    assert hall[:4] == (
        "Construction of community hall in Ward 12 (re-advertised)",
        "active",
        Decimal("2750000.00"),
        "ocds-9t57fa-100101-2025-03-07-tenderUpdate",
    )
    # Replaying every page (a retried step, an overlapping range) changes no row.
    with session_scope() as session:
        stamps = dict(session.execute(select(Tender.ocid, Tender.updated_at)).all())
    for releases in pages:
        with session_scope() as session:
            assert store.upsert_tenders(session, compile_page(releases), None) == (0, 0)
    with session_scope() as session:
        assert dict(session.execute(select(Tender.ocid, Tender.updated_at)).all()) == stamps


def test_ties_on_date_resolve_across_pages_as_within_a_page(db: None) -> None:
    # Three releases of one ocid at the same instant (two time zones): the order of
    # `compile.release_stamp` decides, byte by byte, whatever the page split.
    when = ("2025-03-01T10:00:00Z", "2025-03-01T12:00:00+02:00", "2025-03-01T10:00:00Z")
    ids, titles = ("tender-B", "tender-a", "tender-_"), ("Upper", "Lower", "Underscore")
    releases = [
        Release.model_validate(
            {"ocid": "o-tie", "id": i, "date": d, "tender": {"title": t, "status": i}}
        )
        for i, d, t in zip(ids, when, titles, strict=True)
    ]
    [expected] = compile_page(releases)
    assert (expected["release_id"], expected["title"]) == ("tender-a", "Lower")
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TENDERS"):
            statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", capture)
    try:
        for order in itertools.permutations(releases):
            clear_tenders()
            for one in order:  # one release per page: every tie is decided by the upsert
                with session_scope() as session:
                    store.upsert_tenders(session, compile_page([one]), None)
            with session_scope() as session:
                row = session.scalars(select(Tender)).one()
                assert (row.release_id, row.title, row.status) == ("tender-a", "Lower", "tender-a")
    finally:
        event.remove(get_engine(), "before_cursor_execute", capture)
    # Not left to the database's collation (RDS: en_US, where "tender-a" < "tender-B",
    # which this test database, C.UTF-8, cannot show): every "newer than" in the
    # upsert compares release ids and stamps in ORDER_COLLATION.
    assert statements
    for statement in statements:
        newer_than = statement.split(" > ")[:-1]
        assert len(newer_than) > len(MERGED_FIELDS)
        assert all(left.endswith(f'COLLATE "{ORDER_COLLATION}")') for left in newer_than)


def test_an_ai_category_survives_amendments_but_not_a_reclassification(db: None) -> None:
    def upsert(rid: str, day: int, code: str | None) -> None:
        tender = {
            "title": "Hall",
            **({"classification": {"scheme": "CPV", "id": code}} if code else {}),
        }
        release = Release.model_validate(
            {"ocid": "o-1", "id": rid, "date": f"2025-03-0{day}T00:00:00Z", "tender": tender}
        )
        with session_scope() as session:
            store.upsert_tenders(session, compile_page([release]), None)

    def category() -> tuple[str | None, str | None]:
        with session_scope() as session:
            t = session.scalars(select(Tender)).one()
            return t.detailed_category, t.category_source

    upsert("a", 1, "45210000")
    with session_scope() as session:
        assert store.set_category(session, "o-1", "maintenance", "ai")
        assert not store.set_category(session, "o-1", "other", "rules")  # AI stays
    upsert("b", 2, None)
    assert category() == ("maintenance", "ai")
    upsert("c", 3, "72000000")
    assert category() == ("it-services", "rules")


def test_cursor_only_moves_forward(db: None) -> None:
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    with session_scope() as session:
        assert store.get_cursor(session) is None
        assert store.advance_cursor(session, t0) == t0
        assert store.advance_cursor(session, t0 - timedelta(days=1)) == t0
        assert store.advance_cursor(session, t0 + timedelta(hours=1)) == t0 + timedelta(hours=1)


def test_job_log_writes_are_idempotent_and_a_success_is_final(db: None) -> None:
    with session_scope() as session:
        first = job_log_store.create_job_log(session, "tender-sync", "run-1", "test", {})
        assert job_log_store.create_job_log(session, "tender-sync", "run-1", "test", {}) == first
        job_log_store.set_counts(session, first, {"fetched": 4})
        job_log_store.set_counts(session, first, {"fetched": 4, "saved": 3})
        job_log_store.finish_job_log(session, first, {"fetched": 4, "saved": 3})
        job_log_store.fail_job_log(session, "tender-sync", "run-1", "late failure")
        job_log_store.set_counts(session, first, {"fetched": 0, "saved": 0})  # a late step
        late = job_log_store.fail_job_log(session, "tender-sync", "run-2", "died before its log")
    with session_scope() as session:
        logs = {log.run_id: log for log in session.scalars(select(JobLog))}
    assert (logs["run-1"].status, logs["run-1"].counts) == ("SUCCESS", {"fetched": 4, "saved": 3})
    assert logs["run-1"].error is None
    assert (logs["run-2"].id, logs["run-2"].status) == (late, "FAILED")


def fetch(job: int, settings: Settings, ref: PageRef | None, page: int) -> tender_steps.PageCounts:
    """The page step, run here."""
    inp = tender_steps.FetchPage(job_log_id=job, date_from=FROM, date_to=TO, ref=ref, page=page)
    return tender_steps.fetch_page(Dependencies(settings), inp)


def commit(job: int, settings: Settings, pages: int) -> tender_steps.SyncTotals:
    """The commit step, run here."""
    inp = tender_steps.CommitSync(job_log_id=job, date_to=TO, counts={"pages": pages})
    return tender_steps.commit_sync(Dependencies(settings), inp)


def page_steps(job: int, settings: Settings, tries: int = 1) -> list[tender_steps.PageCounts]:
    """Every page of the recorded feed through the page step, each page `tries` times
    (a step Inngest retried after a gateway timeout although its first try committed)."""
    outputs: list[tender_steps.PageCounts] = []
    ref: PageRef | None = None
    page = 1
    while True:
        for _ in range(tries):
            out = fetch(job, settings, ref, page)
        outputs.append(out)
        ref, page = out.next, page + 1
        if ref is None:
            return outputs


def job_log(job: int) -> JobLog:
    with session_scope() as session:
        return session.scalars(select(JobLog).where(JobLog.id == job)).one()


def test_retried_and_late_page_steps_leave_the_job_log_true(
    db: None, publisher: OCDSPublisher
) -> None:
    settings = tender_settings(get_settings(), publisher)
    with session_scope() as session:
        once = job_log_store.create_job_log(session, "tender-sync", "run-once", "test", {})
    reference = page_steps(once, settings)
    reference_counts = job_log(once).counts
    clear_tenders()

    with session_scope() as session:
        job = job_log_store.create_job_log(session, "tender-sync", "run-retried", "test", {})
    retried = page_steps(job, settings, tries=2)

    # A retry's output is the page's counts as the log holds them, not "saved: 0".
    assert retried == reference
    counts = job_log(job).counts
    assert {k: counts[k] for k in ("fetched", "saved", "new", "invalid_fields")} == {
        k: reference_counts[k] for k in ("fetched", "saved", "new", "invalid_fields")
    }
    assert counts["saved"] == sum(page.saved for page in reference) > 0
    assert counts["new"] == len(FIXTURE_OCIDS)
    assert counts["fetched"] == FIXTURE_RELEASES
    assert counts["invalid_fields"] == FIXTURE_INVALID_FIELDS

    done = commit(job, settings, len(retried))
    assert (done.saved, done.new) == (counts["saved"], len(FIXTURE_OCIDS))
    closed = job_log(job)
    assert closed.status == "SUCCESS"
    assert "by_page" not in closed.counts
    # The first try of page 1, slow, finishes after commit-sync: the log stays.
    fetch(job, settings, None, 1)
    late = job_log(job)
    assert (late.status, late.counts, late.finished_at) == (
        "SUCCESS",
        closed.counts,
        closed.finished_at,
    )
    assert commit(job, settings, len(retried)) == done
