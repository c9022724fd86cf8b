"""The scraper's machine API through API Gateway events, and the queue's schedules
through the Inngest driver."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select, text

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import Job, RoleScrapeQueue, ScraperSession
from jobmatch.db.session import session_scope
from jobmatch.scraping import store as queue_store
from jobmatch_devkit.apiclient import ApiClient
from tests import matching_data as make
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.e2e

SESSIONS = "/api/scraper/sessions"


@pytest.fixture
def api(driver: InngestDriver) -> ApiClient:
    return ApiClient(driver.handler, api_key=TEST_API_KEY)


def queued_roles(*names: str) -> dict[str, int]:
    with session_scope() as session:
        ids = {n: make.role(session, n, f"{n} ({i})") for i, n in enumerate(names)}
        queue_store.enqueue_missing_roles(session)
        return ids


def claim(api: ApiClient) -> dict[str, Any]:
    response = api.post(SESSIONS, {"scraper": "test-scraper"})
    assert response.status == 201, response.body
    body: dict[str, Any] = response.json()
    return body


def scraped(count: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [
        {"external_id": f"{prefix}-{i}", "title": "Backend Engineer", "company": f"Co {i}"}
        for i in range(count)
    ]


def queue_state() -> dict[int, str]:
    with session_scope() as session:
        return dict(session.execute(select(RoleScrapeQueue.role_id, RoleScrapeQueue.status)).all())


def test_claim_heartbeat_complete(
    api: ApiClient, driver: InngestDriver, event_api: EventAPI
) -> None:
    roles = queued_roles("backend engineer", "data engineer")
    first, second = claim(api), claim(api)
    assert {first["role"]["id"], second["role"]["id"]} == set(roles.values())
    assert first["role"]["aliases"] == ["backend engineer (0)"]
    assert api.post(SESSIONS).status == 204  # nothing left to claim

    beat = api.post(f"{SESSIONS}/{first['session_id']}/heartbeat")
    assert beat.status == 200
    assert beat.json()["status"] == "active"

    body = {"source": "monster", "jobs": scraped(3)}
    done = api.post(f"{SESSIONS}/{first['session_id']}/complete", body)
    assert done.status == 200, done.body
    result = done.json()
    assert result["session"]["status"] == "completed"
    assert (result["session"]["jobs_received"], result["session"]["jobs_created"]) == (3, 3)
    assert result["imported"]["batch_id"] == f"scraper-{first['session_id']}"
    [announced] = [e for e in event_api.received() if e["name"] == "jobs/imported"]
    assert announced["data"]["job_ids"] == result["imported"]["job_ids"]
    assert queue_state()[first["role"]["id"]] == "completed"
    assert queue_state()[second["role"]["id"]] == "claimed"

    # A retried completion (say after a 503) stores and counts nothing twice.
    again = api.post(f"{SESSIONS}/{first['session_id']}/complete", body)
    assert again.status == 200
    assert again.json()["imported"]["created"] == 0
    assert again.json()["session"]["jobs_created"] == 3
    with session_scope() as session:
        assert len(session.scalars(select(Job.id)).all()) == 3
    # A role scraped with no jobs is a valid answer.
    empty = api.post(f"{SESSIONS}/{second['session_id']}/complete", {"source": "monster"})
    assert empty.status == 200
    assert empty.json()["session"]["status"] == "completed"


def test_bad_requests_are_refused(api: ApiClient) -> None:
    queued_roles("backend engineer")
    assert api.post(SESSIONS, headers={"x-api-key": ""}).status == 401
    assert api.post(SESSIONS, {"scraper": "bad name; drop"}).status == 422
    unknown = uuid.uuid4()
    assert api.post(f"{SESSIONS}/{unknown}/heartbeat").status == 404
    assert api.post(f"{SESSIONS}/{unknown}/complete", {"source": "x"}).status == 404
    assert api.post(f"{SESSIONS}/not-a-uuid/heartbeat").status == 422
    session = claim(api)["session_id"]
    too_many = {"source": "x", "jobs": scraped(501)}
    assert api.post(f"{SESSIONS}/{session}/complete", too_many).status == 422
    assert set(queue_state().values()) == {"claimed"}  # the refused request completed nothing


def test_a_stale_session_is_reset_and_its_role_claimed_again(
    api: ApiClient, driver: InngestDriver
) -> None:
    roles = queued_roles("backend engineer")
    first = claim(api)
    with session_scope() as session:
        session.execute(
            text("UPDATE scraper_sessions SET last_heartbeat_at = now() - interval '45 minutes'")
        )
    with session_scope() as session:
        make.role(session, "data engineer")  # added since: queued by the same run

    run = driver.run_cron("cleanup-stale-sessions")

    assert run.status == "completed", run.error
    assert run.output == {"reset": 1, "enqueued": 1}
    assert api.post(f"{SESSIONS}/{first['session_id']}/heartbeat").status == 409
    retaken = claim(api)
    assert retaken["role"]["id"] == roles["backend engineer"]
    assert retaken["session_id"] != first["session_id"]
    # The stale session's jobs are still stored; the role stays with its new owner.
    late = api.post(
        f"{SESSIONS}/{first['session_id']}/complete", {"source": "m", "jobs": scraped(2)}
    )
    assert late.status == 200
    assert late.json()["session"]["status"] == "stale"
    assert late.json()["imported"]["created"] == 2
    assert queue_state()[roles["backend engineer"]] == "claimed"


def test_completed_roles_are_queued_again_at_midnight(
    api: ApiClient, driver: InngestDriver
) -> None:
    roles = queued_roles("backend engineer", "data engineer")
    for _ in roles:
        session = claim(api)["session_id"]
        api.post(f"{SESSIONS}/{session}/complete", {"source": "m"})
    assert set(queue_state().values()) == {"completed"}

    run = driver.run_cron("reset-completed-roles")

    assert run.status == "completed", run.error
    assert run.output == {"requeued": 2, "enqueued": 0}
    assert set(queue_state().values()) == {"queued"}
    assert claim(api)["role"]["id"] in roles.values()
    with session_scope() as session:
        assert len(session.scalars(select(ScraperSession.id)).all()) == 3
