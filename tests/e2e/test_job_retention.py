"""Expiry and cleanup through the Lambda handler and the Inngest driver: more jobs
than one chunk expire over several steps (and a second run), their matches go."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from inngest_harness.driver import InngestDriver
from jobmatch.db.models import CandidateJobMatch, Job, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from tests import matching_data as make

pytestmark = pytest.mark.e2e

OLD, YOUNG, CHUNK = 130, 7, 50


def seed_jobs() -> None:
    """130 jobs imported 40 days ago and 7 from today, each matched to one
    candidate and one user."""
    with session_scope() as session:
        tenant = make.tenant(session, "Staffing")
        person = make.candidate(session, tenant, [])
        session.execute(
            text("""
                INSERT INTO jobs (job_hash, title, company, location, remote, description,
                                  source, status, imported_at)
                SELECT md5(g::text) || md5(g::text), 'Backend Engineer', 'Acme', 'Berlin',
                       false, '', 'test', 'active',
                       CASE WHEN g <= :old THEN now() - interval '40 days' ELSE now() END
                FROM generate_series(1, :total) AS g
            """),
            {"old": OLD, "total": OLD + YOUNG},
        )
        session.execute(
            text("""
                INSERT INTO candidate_job_matches (candidate_id, job_id, tenant_id, score,
                    skill_score, experience_score, location_score, salary_score,
                    semantic_score, is_recommended)
                SELECT :cand, id, :tenant, 60, 60, 60, 60, 60, 50, false FROM jobs
            """),
            {"cand": person.id, "tenant": tenant},
        )
        session.execute(
            text("""
                INSERT INTO user_matches (user_email, job_hash, score, skill_score,
                    experience_score, location_score, salary_score, semantic_score, method,
                    is_recommended)
                SELECT 'u@example.com', job_hash, 60, 60, 60, 60, 60, 50, 'rules', false FROM jobs
            """)
        )


def counts() -> tuple[Counter[str], int, int]:
    with session_scope() as session:
        rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
        status = Counter({str(k): int(v) for k, v in rows})
        cand = session.scalar(select(func.count()).select_from(CandidateJobMatch)) or 0
        users = session.scalar(select(func.count()).select_from(UserMatch)) or 0
    return status, cand, users


def test_expiry_of_more_jobs_than_a_run_completes_over_steps_and_runs(
    driver_for: Callable[[Dependencies], InngestDriver], settings: Settings
) -> None:
    seed_jobs()
    small = settings.model_copy(update={"job_expire_batch": CHUNK, "job_expire_max_steps": 2})
    driver = driver_for(Dependencies(small))

    first = driver.run_cron("expire-old-jobs")

    runs = driver.runs_of("expire-old-jobs")
    assert [r.status for r in runs] == ["completed", "completed"]
    assert first.step_ids == ["expire-1", "expire-2", "continue"]
    assert first.output == {"expired": 100, "matchesRemoved": 200, "continued": True}
    second = runs[1]
    assert second.event["data"] == {"olderThanDays": 30}
    assert second.step_ids == ["expire-1"]
    assert second.output == {"expired": 30, "matchesRemoved": 60, "continued": False}
    assert counts() == (Counter({"expired": OLD, "active": YOUNG}), YOUNG, YOUNG)
    assert max(r.max_response_bytes for r in runs) < 1024


def test_daily_cleanup_deletes_expired_jobs_past_retention(
    driver_for: Callable[[Dependencies], InngestDriver], settings: Settings
) -> None:
    seed_jobs()
    driver = driver_for(Dependencies(settings.model_copy(update={"job_cleanup_batch": CHUNK})))
    driver.run_cron("expire-old-jobs")
    with session_scope() as session:  # half of them expired long ago
        session.execute(
            text("""
                UPDATE jobs SET expired_at = now() - interval '100 days'
                WHERE status = 'expired' AND id % 2 = 0
            """)
        )

    run = driver.run_cron("daily-cleanup")

    assert run.status == "completed", run.error
    assert run.output == {"jobsDeleted": OLD // 2, "matchesDeleted": 0, "continued": False}
    assert [s for s in run.step_ids if s.startswith("delete-expired")] == [
        "delete-expired-1",
        "delete-expired-2",
    ]
    assert counts() == (Counter({"expired": OLD // 2, "active": YOUNG}), YOUNG, YOUNG)
