"""The functions and paths that other tests reach only with bad input, each run to
completion through the driver: `refresh-candidate-matches`,
`backfill-tender-enrichment`, `perform-ai-matching` with inline preferences, and
the signup with `USE_INNGEST_FOR_MATCHING=false` (matched in the request, no run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import CandidateJobMatch, Job, JobLog, Tender, User, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests import matching_data as make
from tests.conftest import TEST_API_KEY
from tests.tenders_support import fixture_publisher, tender_settings

pytestmark = pytest.mark.e2e

DriverFor = Callable[[Dependencies], InngestDriver]
SCORES = (
    "score",
    "skill_score",
    "experience_score",
    "location_score",
    "salary_score",
    "semantic_score",
)


def _count(model: Any, *where: Any) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _completed(runs: list[Any], function: str) -> list[Any]:
    mine = [r for r in runs if r.function_id.endswith(function)]
    assert mine, f"no {function} run among {[r.function_id for r in runs]}"
    assert all(r.status == "completed" for r in mine), [r.error for r in mine]
    return mine


# ---------------------------------------------------------------- refresh


def test_refresh_recomputes_a_candidates_matches_and_drops_stale_ones(
    driver: InngestDriver,
) -> None:
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "python developer")
        nurse = make.role(s, "registered nurse", "nurse")
        tenant = make.tenant(s, "Alpha")
        candidate = make.candidate(s, tenant, ["backend engineer"]).id
        fitting = [make.job(s, backend).id, make.job(s, backend, title="Python Developer").id]
        other = make.job(s, nurse, title="Registered Nurse").id
        # A match the candidate no longer fits (left from an earlier profile).
        stale = dict.fromkeys(SCORES, 0.9)
        s.add(CandidateJobMatch(candidate_id=candidate, job_id=other, tenant_id=tenant, **stale))
    driver.sync()

    [run] = driver.send(
        "job-match/refresh-candidate", {"candidate_id": candidate, "tenant_id": tenant}
    )

    assert run.status == "completed", run.error
    assert [s.id for s in run.steps] == [
        "validate-candidate",
        "ensure-embedding",
        "generate-matches",
    ]
    with session_scope() as s:
        matched = set(
            s.scalars(
                select(CandidateJobMatch.job_id).where(CandidateJobMatch.candidate_id == candidate)
            )
        )
    assert matched == set(fitting)
    assert run.output["matches_created"] == len(fitting)
    assert run.output["matches_removed"] == 1
    assert driver.rerun(run).status == "completed"
    assert _count(CandidateJobMatch) == len(fitting)


# ---------------------------------------------------------------- tenders


@pytest.fixture
def publisher(db: None) -> Iterator[OCDSPublisher]:
    """The recorded March 2025 feed."""
    with fixture_publisher() as pub:
        yield pub


def test_backfill_enrichment_categorises_the_range_it_is_given(
    driver_for: DriverFor, settings: Settings, publisher: OCDSPublisher
) -> None:
    from jobmatch.db.models import SyncState

    with session_scope() as s:
        s.merge(SyncState(name="tender-sync", cursor=datetime(2025, 3, 1, tzinfo=UTC)))
    driver = driver_for(Dependencies(tender_settings(settings, publisher)))
    driver.sync()
    synced = driver.send("tender/sync.requested", {"triggeredBy": "test"})
    _completed(synced, "tender-sync")
    with session_scope() as s:
        s.execute(update(Tender).values(detailed_category=None))
        in_range = s.scalar(
            select(func.count())
            .select_from(Tender)
            .where(Tender.published_at >= datetime(2025, 3, 1, tzinfo=UTC))
            .where(Tender.published_at < datetime(2025, 3, 4, tzinfo=UTC))
        )
    assert in_range

    runs = driver.send(
        "tender/backfill-enrichment.requested",
        {
            "dateFrom": "2025-03-01T00:00:00Z",
            "dateTo": "2025-03-04T00:00:00Z",
            "triggeredBy": "operator",
        },
    )

    [backfill] = _completed(runs, "backfill-tender-enrichment")
    enriched = _completed(runs, "enrich-tender")
    assert len(enriched) == in_range
    assert _count(Tender, Tender.detailed_category.is_(None)) == _count(Tender) - in_range
    with session_scope() as s:
        log = s.scalars(select(JobLog).where(JobLog.run_id == backfill.run_id)).one()
    assert log.status == "SUCCESS"
    assert log.triggered_by == "operator"


# ---------------------------------------------------------------- users


def test_perform_matching_with_inline_preferences_saves_matches_for_the_email(
    driver: InngestDriver,
) -> None:
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "python developer")
        nurse = make.role(s, "registered nurse", "nurse")
        jobs = [make.job(s, backend, skills=["python", "sql"]).id for _ in range(2)]
        make.job(s, nurse, title="Registered Nurse", skills=["triage"])
    driver.sync()
    prefs = {
        "email": "inline@example.com",
        "roles": ["backend engineer"],
        "skills": ["python", "sql"],
        "locations": [],
        "countries": [],
    }

    runs = driver.send("matching/perform", {"userPrefs": prefs, "context": {"source": "test"}})

    [run] = _completed(runs, "perform-ai-matching")
    assert run.output["matches_saved"] == len(jobs)
    with session_scope() as s:
        saved = set(
            s.scalars(
                select(UserMatch.job_hash).where(UserMatch.user_email == "inline@example.com")
            )
        )
        wanted = set(s.scalars(select(Job.job_hash).where(Job.id.in_(jobs))))
    assert saved == wanted


@pytest.fixture
def without_inngest_matching(
    driver_for: DriverFor, settings: Settings
) -> tuple[ApiClient, InngestDriver]:
    driver = driver_for(
        Dependencies(settings.model_copy(update={"use_inngest_for_matching": False}))
    )
    driver.sync()
    return ApiClient(driver.handler, api_key=TEST_API_KEY), driver


def test_signup_without_inngest_matching_saves_the_answer_and_starts_no_run(
    without_inngest_matching: tuple[ApiClient, InngestDriver], event_api: EventAPI
) -> None:
    api, driver = without_inngest_matching
    with session_scope() as s:
        sample_data.load_roles(s)
    jobs = [
        {
            "external_id": f"b-{i}",
            "title": "Backend Engineer",
            "company": f"Company {i}",
            "location": "Berlin",
            "country": "DE",
            "skills": ["python", "sql", "docker"],
            "description": "Python services on PostgreSQL.",
        }
        for i in range(3)
    ]
    assert api.post("/api/jobs/import", {"source": "test", "jobs": jobs}).status in (200, 201)
    driver.drain()
    event_api.reset()

    response = api.post(
        "/api/signup/free",
        {"email": "sync@example.com", "roles": ["backend engineer"], "skills": ["python", "sql"]},
    )

    assert response.status == 201, response.body
    body = response.json()
    assert body["complete"] is True
    assert body["matches"]
    assert [e["name"] for e in event_api.received()] == []
    assert driver.drain() == []
    assert _count(User) == 1
    assert _count(UserMatch, UserMatch.user_email == "sync@example.com") == len(body["matches"])
