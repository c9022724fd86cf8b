"""Errors that retrying cannot fix end the run at once; the others are still retried.

Each case runs through the Lambda handler and the driver, which retries a step the
way Inngest does (the functions allow 2 or 3 retries): a permanent failure shows
as one attempt, a failed run, and nothing written; a transient one as a step that
ran again and a run that completed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import inngest
import pytest
from sqlalchemy import func, select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import Candidate, JobLog, SyncState, Tender, User, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.matching import steps
from jobmatch.settings import Settings
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests import matching_data as make
from tests.tenders_support import fixture_publisher, tender_settings

pytestmark = pytest.mark.e2e

DriverFor = Callable[[Dependencies], InngestDriver]
CURSOR = datetime(2025, 3, 1, tzinfo=UTC)


def count(model: Any) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def failed_once(run: Any, error: str) -> None:
    """The run failed on its first attempt, with `error` in its message."""
    assert run.status == "failed"
    assert run.attempts == 1
    assert all(s.attempts == 1 for s in run.steps), [(s.id, s.attempts) for s in run.steps]
    assert error in str(run.error)


# ---------------------------------------------------------------- matching
@pytest.fixture
def jobs(db: None) -> int:
    with session_scope() as s:
        backend = make.role(s, "backend engineer")
        make.job(s, backend)
        make.job(s, backend, title="Python Backend Developer")
    return backend


def test_matching_a_user_without_preferences_fails_once_and_writes_nothing(
    driver: InngestDriver, event_api: EventAPI, jobs: int
) -> None:
    with session_scope() as s:
        user = User(email="no-prefs@example.com")
        s.add(user)
        s.flush()
        user_id = user.id
    [run] = driver.send("matching/perform", {"userId": str(user_id)})
    failed_once(run, "UserNotFoundError")
    assert count(UserMatch) == 0
    assert "matching/completed" not in {e["name"] for e in event_api.received()}


def test_malformed_inline_preferences_fail_once(driver: InngestDriver, jobs: int) -> None:
    prefs = {"email": "inline@example.com", "skills": "python", "experience_years": "ten"}
    [run] = driver.send("matching/perform", {"userPrefs": prefs})
    failed_once(run, "invalid PerformMatching")
    assert count(UserMatch) == 0


def test_a_candidate_gone_after_validation_is_final_in_every_later_step(
    jobs: int, settings: Settings
) -> None:
    with session_scope() as s:
        tenant = make.tenant(s, "Alpha")
        candidate = make.candidate(s, tenant, ["backend engineer"])
        cid = candidate.id
        s.delete(candidate)
    deps = Dependencies(settings, embedder=make.EMBEDDER)
    ref = steps.CandidateOfTenant(candidate_id=cid, tenant_id=tenant)
    to_embed = steps.CandidateToEmbed(candidate_id=cid, tenant_id=tenant)
    for call in (
        lambda: steps.validate_candidate(deps, ref),
        lambda: steps.ensure_candidate_embedding(deps, to_embed),
        lambda: steps.match_one_candidate(deps, ref),
        lambda: steps.promote_approved(deps, ref),
    ):
        with pytest.raises(inngest.NonRetriableError, match="CandidateNotFoundError"):
            call()
    assert count(Candidate) == 0


# ---------------------------------------------------------------- tender sync
@pytest.fixture
def publisher(db: None) -> Iterator[OCDSPublisher]:
    with fixture_publisher() as pub:
        with session_scope() as session:
            session.merge(SyncState(name="tender-sync", cursor=CURSOR))
        yield pub


def sync_cursor() -> datetime | None:
    with session_scope() as session:
        return session.scalar(select(SyncState.cursor).where(SyncState.name == "tender-sync"))


def test_a_publisher_refusing_the_request_fails_the_sync_once(
    driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher
) -> None:
    driver = driver_for(Dependencies(tender_settings(settings, publisher)))
    publisher.go_down(status=404)
    [run] = [r for r in driver.send("tender/sync.requested", {}) if r.function_id.endswith("sync")]
    failed_once(run, "publisher answered 404")
    assert len(publisher.requests) == 1  # asked once, not once per retry
    with session_scope() as session:
        [log] = session.scalars(select(JobLog))
        assert log.status == "FAILED"
        assert "PublisherRejectedError" in (log.error or "")
    assert count(Tender) == 0
    assert sync_cursor() == CURSOR  # the next run asks for the same range again


def test_a_publisher_that_is_down_for_a_whole_page_budget_is_retried(
    driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher
) -> None:
    sync_settings = tender_settings(settings, publisher, ocds_max_attempts=2)
    driver = driver_for(Dependencies(sync_settings))
    publisher.fail_next(2, status=503)  # the first try of fetch-page-1 gives up
    [run] = [r for r in driver.send("tender/sync.requested", {}) if r.function_id.endswith("sync")]
    assert run.status == "completed", run.error
    assert run.step("fetch-page-1").attempts == 2
    assert count(Tender) > 0


# ---------------------------------------------------------------- notifications
def completed_event(user_id: int) -> dict[str, Any]:
    return {
        "userId": str(user_id),
        "matchesSaved": 2,
        "method": "rules",
        "context": {"source": "signup", "requestId": "req-1", "notify": True},
    }


@pytest.mark.parametrize(("status", "final"), [(410, True), (503, False)])
def test_a_webhook_that_refuses_is_final_and_one_that_is_down_is_retried(
    driver_for: DriverFor, settings: Settings, jobs: int, status: int, final: bool
) -> None:
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status if len(calls) == 1 else 200)

    with session_scope() as s:
        user = make.user(s, "hook@example.com", ["backend engineer"])
        user.webhook_url = "https://hooks.example.com/done"
        user_id = user.id
    http = httpx.Client(transport=httpx.MockTransport(receiver))

    def public_dns(host: str, port: int) -> list[str]:
        """The webhook guard resolves the host when sending: a public address, no DNS."""
        return ["93.184.215.14"]

    driver = driver_for(Dependencies(settings, http=http, resolver=public_dns))
    [run] = driver.send("matching/completed", completed_event(user_id))
    if final:
        failed_once(run, "WebhookRefusedError")
        assert len(calls) == 1
    else:
        assert run.status == "completed", run.error
        assert run.step("post-webhook").attempts == 2
        assert len(calls) == 2
