"""Nothing is lost while Inngest's event API is down: every route that announces
work answers as usual, records its events with its rows, and once the event API
is back the outbox's flush starts every run, once.

The outage is the test event API refusing every send (401, a wrong key as Inngest
answers it) or cutting every connection without an answer. Meanwhile: a sync
signup, an async signup (each retried by its client, as a client would after a
timeout), a job import (retried), a candidate approval, a tender-sync request and
an engagement event. Then the event API comes back, `flush-event-outbox` runs as
its cron would, and every run it starts is played to its end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests.conftest import TEST_API_KEY
from tests.security_support import Tenants, make_tenants
from tests.tenders_support import fixture_publisher, tender_settings

pytestmark = pytest.mark.e2e

SYNC = {
    "email": "ana.almeida@example.com",
    "name": "Ana Almeida",
    "roles": ["backend engineer"],
    "skills": ["python", "postgresql", "sql"],
    "locations": ["Berlin"],
}
ASYNC = {
    "email": "ben.berger@example.com",
    "roles": ["frontend developer"],
    "skills": ["react", "css"],
    "mode": "async",
}
BACKEND, FRONTEND = ["python", "sql"], ["react", "css"]
JOBS = [
    {"title": "Backend Engineer", "company": "Co 1", "location": "Berlin", "skills": BACKEND},
    {"title": "Backend Engineer", "company": "Co 2", "location": "Berlin", "skills": BACKEND},
    {"title": "Frontend Developer", "company": "Co 3", "location": "Berlin", "skills": FRONTEND},
    {"title": "Frontend Developer", "company": "Co 4", "location": "Berlin", "skills": FRONTEND},
]
NEW_JOBS = [{**job, "company": f"New {job['company']}"} for job in JOBS]


@pytest.fixture
def publisher(db: None) -> Iterator[OCDSPublisher]:
    with fixture_publisher() as pub:
        yield pub


@pytest.fixture
def driver(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    publisher: OCDSPublisher,
) -> Iterator[InngestDriver]:
    """The handler on settings pointing at the tender publisher (webhooks answered,
    every webhook host public), on a world of roles and jobs whose runs are played."""
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        sample_data.load_roles(session)
    world = tender_settings(settings, publisher)
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(204))) as hooks:
        driver = driver_for(Dependencies(world, http=hooks, resolver=lambda *_: ["93.184.215.14"]))
        importer = ApiClient(driver.handler, api_key=TEST_API_KEY)
        assert importer.post("/api/jobs/import", {"source": "t", "jobs": JOBS}).status == 201
        driver.drain()
        yield driver


@pytest.fixture
def platform(driver: InngestDriver) -> ApiClient:
    return ApiClient(driver.handler, api_key=TEST_API_KEY)


@pytest.fixture
def tenants(platform: ApiClient) -> Tenants:
    return make_tenants(platform)


def _down(event_api: EventAPI, how: str) -> None:
    if how == "refused":
        event_api.event_key = "not-our-key"
    else:
        event_api.cut = True


def _up(event_api: EventAPI) -> None:
    event_api.event_key = None
    event_api.cut = False


def _user_id(email: str) -> int:
    from jobmatch.db.models import User
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def _mail_kinds() -> Counter[tuple[str, str]]:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        rows = session.execute(select(OutboxMessage.kind, OutboxMessage.to_address)).all()
    return Counter((r.kind, r.to_address) for r in rows)


def _stored_matches(email: str) -> int:
    from jobmatch.db.models import UserMatch
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(UserMatch).where(UserMatch.user_email == email)
        )
    return int(count or 0)


@pytest.mark.parametrize("how", ["refused", "cut"])
def test_an_event_api_outage_loses_nothing_and_runs_nothing_twice(
    how: str,
    driver: InngestDriver,
    event_api: EventAPI,
    platform: ApiClient,
    tenants: Tenants,
) -> None:
    public = ApiClient(driver.handler)
    tenant = ApiClient(driver.handler, api_key=tenants.key_a)
    before = len(event_api.received())
    _down(event_api, how)
    try:
        for _ in range(2):  # each signup and the client's retry of it
            sync = public.post("/api/signup/free", SYNC)
            assert sync.status == 201, sync.body
            assert sync.json()["matches"], "the sync answer still has its matches"
            assert public.post("/api/signup/free", ASYNC).status == 202
        imported = platform.post("/api/jobs/import", {"source": "t", "jobs": NEW_JOBS})
        assert imported.status == 201, imported.body
        retried = platform.post("/api/jobs/import", {"source": "t", "jobs": NEW_JOBS})
        assert retried.json()["announced_ids"] == []
        approved = tenant.post(f"/api/candidates/{tenants.candidate_a}/approve")
        assert approved.status == 200, approved.body
        assert platform.post("/api/admin/tenders/sync").status == 202
        applied = {
            "name": "job/applied",
            "id": "outage-apply-1",
            "data": {"userId": _user_id(SYNC["email"]), "jobId": imported.json()["job_ids"][0]},
        }
        assert platform.post("/api/events", {"events": [applied]}).status == 202
        assert len(event_api.received()) == before  # nothing got through
        assert driver.drain() == []
    finally:
        _up(event_api)

    flush = driver.run_cron("flush-event-outbox")
    assert flush.status == "completed", flush.error
    # What the outage held back: two signups (their retries record nothing more),
    # the import's two announcements, the approval, the sync request, the event.
    assert flush.output["sent"] == 7
    driver.run_until_idle()

    for email in (SYNC["email"], ASYNC["email"]):
        user_id = str(_user_id(email))
        runs = [
            r
            for r in driver.runs_of("perform-ai-matching")
            if r.event["data"]["userId"] == user_id
            and r.event["data"]["context"]["source"] == "signup/free"  # not the re-rank
        ]
        assert [r.status for r in runs] == ["completed"], email
        assert _stored_matches(email) > 0, email
    mails = _mail_kinds()
    assert not [m for m in mails if m[0] == "signup-confirmation"]
    assert mails[("matching-complete", ASYNC["email"])] == 1
    assert mails[("matching-complete", SYNC["email"])] == 0

    new_ids = imported.json()["job_ids"]
    announced = Counter(
        job_id
        for e in event_api.received()[before:]
        if e["name"] == "jobs/imported"
        for job_id in e["data"]["job_ids"]
    )
    assert announced == Counter(new_ids)

    generated = driver.runs_of("generate-candidate-matches")
    assert [r.status for r in generated] == ["completed"]
    assert len(driver.runs_of("tender-sync")) == 1
    assert len(driver.runs_of("record-job-application")) == 1
    # Nothing ran twice: no function ran twice on one event.
    started = Counter((r.function_id, r.event.get("id")) for r in driver.runs)
    assert [key for key, n in started.items() if n > 1] == []
