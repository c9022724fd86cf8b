"""The set-based engine on the embedded PostgreSQL: who gets matched, idempotency,
stale removal, chunking, tenants, users, embeddings backfill."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmatch.candidates.store import CandidateNotFoundError
from jobmatch.db.models import Candidate, CandidateJobMatch, Job, UserMatch, UserPreferences
from jobmatch.db.session import session_scope
from jobmatch.embeddings.store import (
    backfill,
    embed_jobs,
    preferences_embedding,
    preferences_vector,
)
from jobmatch.matching import read_store, service
from jobmatch.matching.scoring import stored_fields
from jobmatch.matching.store import resolve_preferred_roles, upsert_candidate_matches
from jobmatch.settings import get_settings
from jobmatch.users.preferences import Preferences, SignupInput
from jobmatch.users.profile import match_user
from jobmatch.users.store import create_or_find_user
from tests import matching_data as make
from tests.matching_data import EMBEDDER

pytestmark = pytest.mark.integration
SETTINGS = get_settings()
UPSERT_BATCH = SETTINGS.matching_score_batch
PAIR_BUDGET = SETTINGS.matching_pair_budget


def _matches(session: Session) -> dict[tuple[int, int], dict[str, Any]]:
    rows = session.scalars(select(CandidateJobMatch)).all()
    return {
        (r.candidate_id, r.job_id): {
            "id": r.id,
            "score": r.score,
            "tenant": r.tenant_id,
            "reasons": r.reasons,
        }
        for r in rows
    }


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Two roles, two tenants, candidates who fit and who must not be matched."""
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "backend developer", "python developer")
        nurse = make.role(s, "registered nurse", "nurse")
        a, b = make.tenant(s, "Alpha Staffing"), make.tenant(s, "Beta Staffing")
        fits = make.candidate(s, a, ["Backend Developer"]).id  # by alias, any case
        fits_by_id = make.candidate(s, a, [backend], skills=["python", "sql"]).id
        other_role = make.candidate(s, a, ["nurse"], skills=["triage"]).id
        pending = make.candidate(s, a, [backend], status="pending").id
        other_tenant = make.candidate(s, b, ["backend engineer"]).id
        jobs = [make.job(s, backend).id, make.job(s, backend, title="Senior Python Developer").id]
        nurse_job = make.job(
            s,
            nurse,
            title="ICU Nurse",
            skills=["triage", "patient care"],
            description="Intensive care nursing, night shifts.",
        ).id
    return {
        "roles": {"backend": backend, "nurse": nurse},
        "tenants": {"a": a, "b": b},
        "fits": fits,
        "fits_by_id": fits_by_id,
        "other_role": other_role,
        "pending": pending,
        "other_tenant": other_tenant,
        "jobs": jobs,
        "nurse_job": nurse_job,
    }


def test_roles_given_by_name_alias_or_id_resolve_and_unknown_ones_drop(
    world: dict[str, Any],
) -> None:
    with session_scope() as s:
        got = resolve_preferred_roles(
            s, ["BACKEND   engineer", "nurse", str(world["roles"]["nurse"]), "astronaut", 999]
        )
    assert got == sorted([world["roles"]["backend"], world["roles"]["nurse"]])


def test_new_jobs_match_only_candidates_whose_preferred_roles_fit(world: dict[str, Any]) -> None:
    with session_scope() as s:
        counts = service.match_jobs_inline(s, world["jobs"], SETTINGS)
    with session_scope() as s:
        pairs = _matches(s)
    matched = {c for c, _ in pairs}
    assert matched == {world["fits"], world["fits_by_id"], world["other_tenant"]}
    assert {j for _, j in pairs} <= set(world["jobs"])
    assert counts["stored"] == len(pairs)
    assert all(p["score"] >= 50 and p["reasons"] for p in pairs.values())
    assert pairs[(world["other_tenant"], world["jobs"][0])]["tenant"] == world["tenants"]["b"]


def test_a_tenant_scoped_run_never_touches_another_tenant(world: dict[str, Any]) -> None:
    with session_scope() as s:
        service.match_jobs_inline(s, world["jobs"], SETTINGS, tenant_id=world["tenants"]["a"])
    with session_scope() as s:
        assert {t["tenant"] for t in _matches(s).values()} == {world["tenants"]["a"]}


def test_running_twice_gives_the_same_rows(world: dict[str, Any]) -> None:
    with session_scope() as s:
        service.match_jobs_inline(s, world["jobs"], SETTINGS)
    with session_scope() as s:
        first = _matches(s)
    with session_scope() as s:
        service.match_jobs_inline(s, world["jobs"], SETTINGS)
        service.match_candidate(s, world["fits"], world["tenants"]["a"], SETTINGS)
    with session_scope() as s:
        assert _matches(s) == first


def test_small_pair_budget_splits_by_candidate_range_with_the_same_result(
    world: dict[str, Any],
) -> None:
    with session_scope() as s:
        chunks = service.plan_job_chunks(s, world["jobs"], pair_budget=1)
        assert len(chunks) == 2 * 3  # 3 eligible candidates, one per range, per job
        assert all(len(c.job_ids) == 1 for c in chunks)
        for chunk in chunks:
            service.match_job_chunk(s, chunk, upsert_batch=UPSERT_BATCH)
    with session_scope() as s:
        chunked = {k: v["score"] for k, v in _matches(s).items()}
        s.execute(CandidateJobMatch.__table__.delete())
        (whole,) = service.plan_job_chunks(s, world["jobs"], pair_budget=PAIR_BUDGET)
        service.match_job_chunk(s, whole, upsert_batch=UPSERT_BATCH)
    with session_scope() as s:
        assert {k: v["score"] for k, v in _matches(s).items()} == chunked


def test_a_job_that_stops_fitting_loses_its_matches(world: dict[str, Any]) -> None:
    job_id = world["jobs"][0]
    with session_scope() as s:
        service.match_jobs_inline(s, [job_id], SETTINGS)
        assert _matches(s)
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.title, job.description = "Oncology Nurse", "Night shifts on the ward"
        job.skills = ["chemotherapy", "triage", "phlebotomy", "wound care"]
        job.remote, job.location, job.country = False, "Lisbon", "PT"
        job.salary_max = job.salary_min = 20_000
        job.experience_min = 15
        embed_jobs(s, [job_id], EMBEDDER, only_missing=False)
        counts = service.match_jobs_inline(s, [job_id], SETTINGS)
    assert counts["removed"] >= 1
    with session_scope() as s:
        assert not _matches(s)


def test_candidate_matches_follow_its_roles_and_tenant(world: dict[str, Any]) -> None:
    a, b = world["tenants"]["a"], world["tenants"]["b"]
    with session_scope() as s:
        counts = service.match_candidate(s, world["fits"], a, SETTINGS)
    assert counts["stored"] == 2
    with session_scope() as s:
        assert {j for _, j in _matches(s)} == set(world["jobs"])
        with pytest.raises(CandidateNotFoundError):
            service.match_candidate(s, world["fits"], b, SETTINGS)
    with session_scope() as s:
        cand = s.get(Candidate, world["fits"])
        assert cand is not None
        cand.preferred_roles = ["nurse"]
        cand.preferred_role_ids = resolve_preferred_roles(s, cand.preferred_roles)
        counts = service.match_candidate(s, world["fits"], a, SETTINGS)
    assert counts["removed"] == 2
    with session_scope() as s:
        assert not {j for c, j in _matches(s) if c == world["fits"]} & set(world["jobs"])


def test_a_pending_candidate_gets_no_matches(world: dict[str, Any]) -> None:
    with session_scope() as s:
        counts = service.match_candidate(s, world["pending"], world["tenants"]["a"], SETTINGS)
    assert counts == {"jobs_considered": 0, "stored": 0, "recommended": 0, "removed": 0}


def test_a_candidate_without_roles_is_matched_by_nearest_jobs(world: dict[str, Any]) -> None:
    with session_scope() as s:
        loose = make.candidate(s, world["tenants"]["a"], []).id
        counts = service.match_candidate(s, loose, world["tenants"]["a"], SETTINGS)
    assert counts["jobs_considered"] == 3  # all active jobs are within top-K here
    with session_scope() as s:
        got = {j for c, j in _matches(s) if c == loose}
    assert set(world["jobs"]) <= got
    assert world["nurse_job"] not in got


def test_user_matches_are_upserted_on_email_and_job_hash(world: dict[str, Any]) -> None:
    with session_scope() as s:
        user = make.user(s, "ada@example.com", ["backend engineer"])
        results = match_user(s, user.id, SETTINGS, EMBEDDER, limit=10)
        assert {r.job_id for r in results} == set(world["jobs"])
        assert results == sorted(results, key=lambda r: -r.score)
        assert service.save_user_matches(s, "ADA@example.com", results) == 2
    with session_scope() as s:
        again = match_user(s, user.id, SETTINGS, EMBEDDER)
        service.save_user_matches(s, "ada@example.com", again)
        assert s.scalar(select(func.count()).select_from(UserMatch)) == 2
        assert set(s.scalars(select(UserMatch.method))) == {"rules"}


def test_both_match_tables_store_and_show_a_result_alike(world: dict[str, Any]) -> None:
    """One mapping writes both tables and reads them back: the same result comes back
    unchanged from either, semantic score on the 0-100 scale included."""
    fits, tenant = world["fits"], world["tenants"]["a"]
    with session_scope() as s:
        user = make.user(s, "eve@example.com", ["backend engineer"])
        results = match_user(s, user.id, SETTINGS, EMBEDDER, limit=10)
        service.save_user_matches(s, user.email, results)
        as_candidate = [replace(r, profile_id=fits) for r in results]
        upsert_candidate_matches(s, as_candidate, {fits: tenant}, batch=1)
    with session_scope() as s:
        shown_user = read_store.user_matches(s, "eve@example.com", limit=10)
        shown_candidate = read_store.candidate_matches(s, fits, tenant, limit=10)
    expected = {r.job_id: stored_fields(r) for r in results}
    assert len(expected) == 2
    assert {m.job_id: stored_fields(m) for m in shown_user} == expected
    assert {m.job_id: stored_fields(m) for m in shown_candidate} == expected
    assert all(1.0 < m.semantic_score <= 100.0 for m in shown_candidate)
    assert {m.method for m in shown_user} == {"rules"}
    assert {m.method for m in shown_candidate} == {None}


# Skills and reasons as real ads and profiles spell them: separators, quotes, braces
# and backslashes that array literals escape, NULL as a word, non-Latin text.
AWKWARD_TEXTS = (
    "C++",
    "C#/.NET",
    "Node.js, Express",
    '"quoted" skill',
    "{braces}",
    "back\\slash",
    "NULL",
    "",
    "Zürich \u2013 Ingenieur:in",
    "日本語",
    "🚀 " + "x" * 2_000,
)


def test_a_batch_upsert_keeps_every_text_and_float_exactly(world: dict[str, Any]) -> None:
    """The rows travel as JSON and come back as the table's types: text arrays and
    floats arrive unchanged, and a second write updates the same rows."""
    fits, tenant = world["fits"], world["tenants"]["a"]
    with session_scope() as s:
        user = make.user(s, "awkward@example.com", ["backend engineer"])
        base = match_user(s, user.id, SETTINGS, EMBEDDER, limit=10)
        assert len(base) == 2
        written = [
            replace(
                r,
                profile_id=fits,
                score=200 / 3,
                matched_skills=AWKWARD_TEXTS,
                missing_skills=AWKWARD_TEXTS[::-1],
                reasons=(f"job {r.job_id}", *AWKWARD_TEXTS),
            )
            for r in base
        ]
        upsert_candidate_matches(s, written, {fits: tenant}, batch=1)
        service.save_user_matches(s, user.email, written)
    with session_scope() as s:
        before = _matches(s)
        stored = read_store.candidate_matches(s, fits, tenant, limit=10)
        shown_user = read_store.user_matches(s, "awkward@example.com", limit=10)
    expected = {r.job_id: stored_fields(r) for r in written}
    assert {m.job_id: stored_fields(m) for m in stored} == expected
    assert {m.job_id: stored_fields(m) for m in shown_user} == expected

    rescored = [replace(r, score=51.25, reasons=("rescored",)) for r in written]
    with session_scope() as s:
        upsert_candidate_matches(s, rescored, {fits: tenant}, batch=5_000)
    with session_scope() as s:
        after = _matches(s)
    assert after.keys() == before.keys()
    for job_id in expected:
        assert after[(fits, job_id)]["id"] == before[(fits, job_id)]["id"]
        assert after[(fits, job_id)]["score"] == 51.25
        assert after[(fits, job_id)]["reasons"] == ["rescored"]


def test_a_closed_job_s_matches_are_hidden_until_it_reopens(world: dict[str, Any]) -> None:
    """A job that left its board (`closed`) keeps its stored matches, unseen: if the
    board lists it again it is `active` and they show again without re-matching."""
    fits, tenant = world["fits"], world["tenants"]["a"]
    closed = world["jobs"][0]
    with session_scope() as s:
        service.match_jobs_inline(s, world["jobs"], SETTINGS)
        user = make.user(s, "closed@example.com", ["backend engineer"])
        service.save_user_matches(
            s, user.email, match_user(s, user.id, SETTINGS, EMBEDDER, limit=10)
        )

    def shown() -> tuple[set[int], set[int]]:
        with session_scope() as s:
            cand = read_store.candidate_matches(s, fits, tenant, limit=10)
            users = read_store.user_matches(s, "closed@example.com", limit=10)
        return {m.job_id for m in cand}, {m.job_id for m in users}

    assert shown() == (set(world["jobs"]), set(world["jobs"]))
    stored = select(func.count()).where(CandidateJobMatch.job_id == closed)
    with session_scope() as s:
        kept = s.scalar(stored)
        s.get_one(Job, closed).status = "closed"
    assert shown() == ({world["jobs"][1]}, {world["jobs"][1]})
    with session_scope() as s:
        assert s.scalar(stored) == kept >= 1
        s.get_one(Job, closed).status = "active"
    assert shown() == (set(world["jobs"]), set(world["jobs"]))


def test_user_matching_can_be_limited_to_given_jobs(world: dict[str, Any]) -> None:
    with session_scope() as s:
        user = make.user(s, "bob@example.com", [])
        only = s.get(Job, world["jobs"][1])
        assert only is not None
        results = match_user(s, user.id, SETTINGS, EMBEDDER, job_hashes=[only.job_hash])
    assert [r.job_id for r in results] == [world["jobs"][1]]


def test_backfill_embeds_in_bounded_batches(db: None) -> None:
    with session_scope() as s:
        rid = make.role(s, "data engineer")
        ids = [make.job(s, rid, embed=False).id for _ in range(5)]
        make.job(s, rid, embed=False, status="expired")
    with session_scope() as s:
        assert backfill(s, "jobs", 2, EMBEDDER) == 2
    with session_scope() as s:
        assert backfill(s, "jobs", 10, EMBEDDER) == 3
        assert backfill(s, "jobs", 10, EMBEDDER) == 0
        embedded = s.scalar(select(func.count()).where(Job.id.in_(ids), Job.embedding.is_not(None)))
    assert embedded == 5


def test_preferences_embed_alike_signed_up_stored_or_inline(db: None) -> None:
    """A signup, a stored row that lacks its vector and preferences an event carries
    inline are matched against the same job vectors, so they must embed alike."""
    wish: dict[str, Any] = {
        "roles": ["Sr. Backend Dev"],
        "skills": ["python", "sql"],
        "locations": ["Berlin"],
        "countries": ["DE"],
        "remote_ok": True,
        "salary_min": 60_000,
        "experience_years": 5,
    }
    inline = preferences_vector(Preferences(**wish), EMBEDDER)
    with session_scope() as s:
        signup = SignupInput(email="ann@example.com", name=None, **wish)
        user = create_or_find_user(s, signup, preferences_vector(signup.preferences(), EMBEDDER))
        row = s.get(UserPreferences, user.id)
        assert row is not None
        signed_up = list(row.embedding)
        row.embedding = None
        preferences_embedding(s, user.id, EMBEDDER)
        stored = list(row.embedding)
    assert signed_up == pytest.approx(inline, abs=1e-6)
    assert stored == pytest.approx(inline, abs=1e-6)
    assert preferences_vector(
        Preferences(**{**wish, "skills": ["triage"]}), EMBEDDER
    ) != pytest.approx(inline, abs=1e-6)
