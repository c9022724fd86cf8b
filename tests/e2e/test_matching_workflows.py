"""Matching functions end to end: events into the Lambda handler as Inngest Cloud
sends them (the devkit driver), rows checked in PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from inngest_harness.driver import InngestDriver
from jobmatch.db.models import Candidate, CandidateJobMatch, Job, UserMatch
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from tests import matching_data as make

pytestmark = pytest.mark.e2e


def _pairs() -> dict[tuple[int, int], tuple[int, float]]:
    with session_scope() as s:
        rows = s.execute(
            select(
                CandidateJobMatch.candidate_id,
                CandidateJobMatch.job_id,
                CandidateJobMatch.id,
                CandidateJobMatch.score,
            )
        ).all()
    return {(c, j): (i, sc) for c, j, i, sc in rows}


@pytest.fixture
def world(driver: InngestDriver) -> dict[str, Any]:
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "python developer")
        nurse = make.role(s, "registered nurse", "nurse")
        a, b = make.tenant(s, "Alpha"), make.tenant(s, "Beta")
        fits = make.candidate(s, a, ["backend engineer"]).id
        nurse_cand = make.candidate(s, a, ["nurse"], skills=["triage"]).id
        other = make.candidate(s, b, [backend]).id
        pending = make.candidate(s, a, [backend], status="pending").id
        jobs = [
            make.job(s, backend, embed=False).id,
            make.job(s, backend, embed=False, title="Python Developer").id,
        ]
    driver.sync()
    return {
        "backend": backend,
        "nurse": nurse,
        "a": a,
        "b": b,
        "fits": fits,
        "nurse_cand": nurse_cand,
        "other": other,
        "pending": pending,
        "jobs": jobs,
    }


def test_imported_jobs_match_only_fitting_candidates_and_rerun_adds_nothing(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    [run] = driver.send(
        "jobs/imported", {"job_ids": world["jobs"], "batch_id": "b1", "source": "t"}
    )
    assert run.status == "completed", run.error
    # The lookup embeds the first part (here: every job) in the same step.
    assert [s.id for s in run.steps] == [
        "get-jobs-with-roles",
        "find-matching-candidates",
        "generate-matches",
    ]
    assert run.output["embeddings_generated"] == 2
    pairs = _pairs()
    assert {c for c, _ in pairs} == {world["fits"], world["other"]}
    assert run.output["matches_created"] == len(pairs) == 4

    again = driver.rerun(run)
    assert again.status == "completed"
    assert again.output["embeddings_generated"] == 0
    assert _pairs() == pairs
    driver.replay_step(run, "generate-matches")
    assert _pairs() == pairs


def test_imports_larger_than_one_embedding_batch_embed_the_rest_in_later_steps(
    driver: InngestDriver, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmatch.settings import get_settings

    monkeypatch.setattr(get_settings(), "embedding_batch_size", 1)
    [run] = driver.send("jobs/imported", {"job_ids": world["jobs"]})
    assert run.status == "completed", run.error
    assert [s.id for s in run.steps][:3] == [
        "get-jobs-with-roles",
        "ensure-job-embeddings",
        "find-matching-candidates",
    ]
    assert run.output["embeddings_generated"] == 2
    assert {c for c, _ in _pairs()} == {world["fits"], world["other"]}


def test_large_imports_fan_out_to_chunk_runs_with_the_same_result(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    world: dict[str, Any],
) -> None:
    small = {"matching_pair_budget": 1, "matching_max_chunk_steps": 1}
    driver = driver_for(Dependencies(settings.model_copy(update=small)))
    runs = driver.send("jobs/imported", {"job_ids": world["jobs"]})
    parent = runs[0]
    assert parent.status == "completed", parent.error
    assert parent.output["fanned_out"] == 4  # 2 jobs x 2 eligible candidates, one per chunk
    chunk_runs = [r for r in runs if r.function_id.endswith("match-jobs-chunk")]
    assert len(chunk_runs) == 4
    assert all(r.status == "completed" for r in chunk_runs)
    assert {c for c, _ in _pairs()} == {world["fits"], world["other"]}


def test_approval_creates_matches_and_moves_the_status(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    driver.send("jobs/imported", {"job_ids": world["jobs"]})
    data = {"candidate_id": world["pending"], "tenant_id": world["a"]}
    with session_scope() as s:
        cand = s.get(Candidate, world["pending"])
        assert cand is not None
        cand.status = "approved"  # what the approval route does before sending
    [run] = driver.send("job-match/generate-candidate", data | {"trigger": "onboarding_approval"})
    assert run.status == "completed", run.error
    assert [s.id for s in run.steps] == [
        "validate-candidate",
        "ensure-embedding",
        "generate-matches",
        "update-status",
    ]
    assert run.output["matches_created"] == 2
    with session_scope() as s:
        cand = s.get(Candidate, world["pending"])
        assert cand is not None
        assert cand.status == "ready_for_assignment"
    before = _pairs()
    assert driver.rerun(run).status == "completed"
    assert _pairs() == before


def test_tenant_mismatch_fails_without_retry_or_writes(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    [run] = driver.send(
        "job-match/generate-candidate",
        {"candidate_id": world["fits"], "tenant_id": world["b"], "trigger": "onboarding_approval"},
    )
    assert run.status == "failed"
    assert run.attempts == 1
    assert "not found" in str(run.error)
    assert _pairs() == {}


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("jobs/imported", {"job_ids": "1,2"}),
        ("job-match/generate-candidate", {"candidate_id": 1, "tenant_id": 1, "trigger": "x"}),
        ("job-match/refresh-candidate", {"candidate_id": -1, "tenant_id": 1}),
        ("system/backfill-embeddings", {"entity_type": "users"}),
        ("matching/perform", {"context": {"source": "test"}}),
    ],
)
def test_bad_event_data_is_not_retried_and_writes_nothing(
    driver: InngestDriver, world: dict[str, Any], event: str, data: dict[str, Any]
) -> None:
    [run] = driver.send(event, data)
    assert run.status == "failed"
    assert run.attempts == 1
    assert "invalid" in str(run.error)
    assert _pairs() == {}
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(Job.embedding.is_not(None))) == 0


def test_job_update_re_embeds_and_rematches_only_on_content_change(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    driver.send("jobs/imported", {"job_ids": world["jobs"]})
    job_id = world["jobs"][0]
    [skipped] = driver.send("job-posting/updated", {"job_id": job_id, "changed_fields": ["status"]})
    assert skipped.output["skipped"] is True
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.normalized_role_id = world["nurse"]
        job.title, job.skills = "Night Nurse", ["triage"]
    [run] = driver.send("job-posting/updated", {"job_id": job_id, "changed_fields": ["title"]})
    assert run.status == "completed", run.error
    pairs = _pairs()
    assert not any(j == job_id and c in (world["fits"], world["other"]) for c, j in pairs)


def test_signup_matching_saves_rule_results_for_a_premium_user_once(
    driver: InngestDriver, world: dict[str, Any], settings: Settings
) -> None:
    from jobmatch.workflows.matching import create_functions

    [perform_ai_matching] = [
        f for f in create_functions(Dependencies(settings)) if f.local_id == "perform-ai-matching"
    ]
    priority = perform_ai_matching.get_config("https://example.test/api/inngest").main.priority
    assert priority is not None
    assert priority.run == "event.data.premium == true ? 120 : 0"
    driver.send("jobs/imported", {"job_ids": world["jobs"]})
    with session_scope() as s:
        user = make.user(s, "premium@example.com", ["backend engineer"], premium=True)
    data = {"userId": str(user.id), "premium": True, "context": {"source": "test"}}
    runs = driver.send("matching/perform", data)
    run = runs[0]
    assert run.status == "completed", run.error
    # Nobody asked to be notified: no announcement, so no notification run either.
    assert [s.id for s in run.steps] == ["match-with-fallback", "save"]
    assert [r.function_id for r in runs] == [run.function_id]
    assert run.output["method"] == "rules"
    assert run.output["matches_saved"] == 2
    driver.rerun(run)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(UserMatch)) == 2


def test_inline_preferences_are_matched_and_saved_for_someone_not_stored(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    """`userPrefs` carried in the event (another sender's form) are matched as typed
    `Preferences` and saved under their email; nobody is stored, so nothing is
    announced."""
    driver.send("jobs/imported", {"job_ids": world["jobs"]})
    prefs = {"email": " Inline@Example.com ", "roles": ["backend engineer"], "skills": ["python"]}
    [run] = driver.send("matching/perform", {"userPrefs": prefs, "context": {"notify": True}})
    assert run.status == "completed", run.error
    assert [s.id for s in run.steps] == ["match-with-fallback", "save"]
    assert run.output["user_id"] is None
    assert run.output["matches_saved"] == 2
    with session_scope() as s:
        saved = s.scalars(select(UserMatch.user_email)).all()
    assert saved == ["inline@example.com", "inline@example.com"]


def test_batch_matching_fans_out_one_run_per_known_user(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    driver.send("jobs/imported", {"job_ids": world["jobs"]})
    with session_scope() as s:
        ids = [make.user(s, f"u{i}@example.com", ["backend engineer"]).id for i in range(3)]
    runs = driver.send("matching/perform-batch", {"user_ids": [*ids, 9999]})
    assert runs[0].output == {"users": 4, "events_sent": 3, "unknown_users": 1}
    per_user = [r for r in runs if r.function_id.endswith("perform-ai-matching")]
    assert len(per_user) == 3
    assert all(r.status == "completed" for r in per_user)
    with session_scope() as s:
        assert s.scalar(select(func.count(func.distinct(UserMatch.user_email)))) == 3


def test_backfill_continues_itself_until_nothing_is_missing(
    driver: InngestDriver, world: dict[str, Any]
) -> None:
    runs = driver.send("system/backfill-embeddings", {"entity_type": "jobs", "batch_size": 1})
    backfills = [r for r in runs if r.function_id.endswith("backfill-embeddings")]
    assert all(r.status == "completed" for r in backfills)
    assert sum(r.output["processed"] for r in backfills) == 2
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(Job.embedding.is_(None))) == 0
