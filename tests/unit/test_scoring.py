"""The scoring engine, pure: thresholds, components, reasons, missing skills."""

from __future__ import annotations

from typing import Any

import pytest

from jobmatch.matching.scoring import (
    FAMILY_FACTOR,
    RECOMMEND_THRESHOLD,
    SIMILARITY_ONLY_FLOOR,
    SIMILARITY_ONLY_MIN_FIT,
    STORE_THRESHOLD,
    WEIGHTS,
    JobFeatures,
    MatchResult,
    ProfileFeatures,
    score,
    score_batch,
    stored_fields,
)


def job(**kw: Any) -> JobFeatures:
    values: dict[str, Any] = {
        "job_id": 1,
        "job_hash": "h1",
        "title": "Backend Engineer",
        "company": "Acme",
        "skills": ("Python", "SQL", "Docker", "Kubernetes"),
        "location": "Berlin",
        "country": "DE",
        "remote": False,
        "salary_min": 60_000,
        "salary_max": 80_000,
        "experience_min": 3,
    }
    values.update(kw)
    return JobFeatures(**values)


def profile(**kw: Any) -> ProfileFeatures:
    values: dict[str, Any] = {
        "skills": ["python", " sql ", "Django"],
        "experience_years": 5,
        "locations": ["berlin"],
        "countries": ["de"],
        "remote_ok": False,
        "salary_expectation": 70_000,
    }
    values.update(kw)
    return ProfileFeatures.build(7, **values)


def test_components_and_weighted_total() -> None:
    r = score(profile(), job(), 0.6)
    assert r.skill_score == 50.0  # python + sql of four
    assert r.matched_skills == ("python", "sql")
    assert r.missing_skills == ("docker", "kubernetes")
    assert (r.experience_score, r.location_score, r.salary_score) == (100.0, 100.0, 100.0)
    assert r.semantic_score == 60.0
    expected = (
        WEIGHTS["skill"] * 50
        + WEIGHTS["experience"] * 100
        + WEIGHTS["location"] * 100
        + WEIGHTS["salary"] * 100
        + WEIGHTS["semantic"] * 60
    )
    assert r.score == pytest.approx(expected, abs=0.05)
    assert r.profile_id == 7
    assert r.job_hash == "h1"


def test_thresholds_store_at_50_and_recommend_at_70() -> None:
    strong = score(profile(skills=["python", "sql", "docker", "kubernetes"]), job(), 0.9)
    assert strong.score >= RECOMMEND_THRESHOLD
    assert strong.is_recommended
    assert strong.stored
    weak = score(
        profile(skills=["cooking"], experience_years=0, locations=["Oslo"], countries=["NO"]),
        job(),
        0.05,
    )
    assert weak.score < STORE_THRESHOLD
    assert not weak.stored
    assert not weak.is_recommended


def test_experience_gap_costs_25_points_a_year() -> None:
    assert score(profile(experience_years=1), job(experience_min=3), 0.5).experience_score == 50.0
    assert score(profile(experience_years=None), job(), 0.5).experience_score == 50.0
    assert score(profile(experience_years=0), job(experience_min=None), 0.5).experience_score == 100


def test_location_remote_city_country() -> None:
    remote = job(remote=True, location="Lisbon", country="PT")
    assert score(profile(remote_ok=True, locations=[]), remote, 0.5).location_score == 100.0
    assert (
        score(profile(locations=["Munich"]), job(location="Munich, Bavaria"), 0.5).location_score
        == 100
    )
    assert score(profile(locations=["Hamburg"]), job(), 0.5).location_score == 70.0
    far = score(profile(locations=["Oslo"], countries=["NO"]), job(), 0.5)
    assert far.location_score == 10.0
    assert any("outside the preferred areas" in reason for reason in far.reasons)


def test_salary_shortfall_falls_off() -> None:
    assert score(profile(salary_expectation=80_000), job(), 0.5).salary_score == 100.0
    assert score(profile(salary_expectation=100_000), job(), 0.5).salary_score == 60.0
    assert score(profile(salary_expectation=None), job(), 0.5).salary_score == 70.0


def test_reasons_are_human_readable() -> None:
    r = score(profile(), job(), 0.7)
    assert "Has 2 of 4 required skills (python, sql)" in r.reasons
    assert "Missing: docker, kubernetes" in r.reasons
    assert "Meets the 3+ years experience requirement" in r.reasons
    assert "Located in Berlin" in r.reasons
    assert "Profile and job description are closely related (0.70)" in r.reasons


def test_a_job_without_skills_is_neutral_on_skills() -> None:
    r = score(profile(), job(skills=()), 0.5)
    assert r.skill_score == 50.0
    assert r.missing_skills == ()


def test_batch_keeps_only_pairs_over_the_threshold_and_skips_unknown_rows() -> None:
    profiles = {
        1: profile(skills=["python", "sql", "docker", "kubernetes"]),
        2: profile(skills=[], locations=["Oslo"], countries=["NO"], experience_years=0),
    }
    jobs = {10: job(job_id=10, job_hash="h10")}
    kept = score_batch(profiles, jobs, [(1, 10, 0.8), (2, 10, 0.1), (3, 10, 0.9), (1, 11, 0.9)])
    assert [(r.job_id, r.score >= STORE_THRESHOLD) for r in kept] == [(10, True)]
    assert kept[0] == score(profiles[1], jobs[10], 0.8)


def test_semantic_score_is_the_clamped_cosine_on_the_0_100_scale() -> None:
    opposite = score(profile(), job(), -0.4)
    assert opposite.semantic_score == 0.0
    assert score(profile(), job(), 0.4567).semantic_score == 45.7
    assert score(profile(), job(), 1.7).semantic_score == 100.0
    assert not any("closely related" in reason for reason in opposite.reasons)


def test_stored_fields_are_the_one_set_of_names_with_arrays_as_lists() -> None:
    r = score(profile(), job(), 0.6)
    fields = stored_fields(r)
    assert fields == {
        "score": r.score,
        "skill_score": 50.0,
        "experience_score": 100.0,
        "location_score": 100.0,
        "salary_score": 100.0,
        "semantic_score": 60.0,
        "matched_skills": ["python", "sql"],
        "missing_skills": ["docker", "kubernetes"],
        "reasons": list(r.reasons),
        "is_recommended": r.is_recommended,
    }
    assert r.to_dict() == {
        "profile_id": 7,
        "job_id": 1,
        "job_hash": "h1",
        **fields,
        "method": "rules",
    }


def test_result_round_trips_through_json_and_ai_rescoring_is_clamped() -> None:
    r = score(profile(), job(), 0.6)
    assert MatchResult.from_dict(r.to_dict()) == r
    # A step output memoised by the release that also carried the raw cosine.
    assert MatchResult.from_dict({**r.to_dict(), "semantic_similarity": 0.6}) == r
    ai = r.with_ai(140, "Great fit")
    assert (ai.score, ai.method, ai.reasons[0]) == (100.0, "ai", "Great fit")


# ------------------------------------------------------------------ role fit


def test_the_best_role_keeps_the_full_score_a_close_second_is_scaled() -> None:
    roles = ((11, 0.9), (12, 0.72))  # stored best first
    plain = score(profile(), job(), 0.6).score
    best = score(profile(role_ids=[11]), job(roles=roles), 0.6)
    second = score(profile(role_ids=[12]), job(roles=roles), 0.6)
    assert best.score == plain
    assert second.score == pytest.approx(plain * 0.72 / 0.9, abs=0.1)
    assert any("close second" in r for r in second.reasons)


def test_a_related_occupation_is_offered_lower_and_an_unrelated_profile_is_not_scaled() -> None:
    features = job(roles=((11, 0.9),), family=frozenset({30}))
    plain = score(profile(), job(), 0.6).score
    family = score(profile(role_ids=[30]), features, 0.6)
    assert family.score == pytest.approx(plain * FAMILY_FACTOR, abs=0.1)
    assert any("Related occupation" in r for r in family.reasons)
    # No role in common, or a profile without roles: unscaled.
    assert score(profile(role_ids=[99]), features, 0.6).score == plain
    assert score(profile(), features, 0.6).score == plain


def test_an_unresolved_title_meets_profiles_by_similarity_only_above_the_floor() -> None:
    unresolved = job()  # no roles, no family
    at_floor = SIMILARITY_ONLY_FLOOR
    plain = score(profile(), unresolved, at_floor).score
    sure = score(profile(role_ids=[11]), unresolved, 1.0)
    unsure = score(profile(role_ids=[11]), unresolved, at_floor)
    below = score(profile(role_ids=[11]), unresolved, at_floor - 0.01)
    assert unsure.score == pytest.approx(plain * SIMILARITY_ONLY_MIN_FIT, abs=0.1)
    assert sure.score == score(profile(), unresolved, 1.0).score
    assert below.score == 0.0
    assert any("similarity alone" in r for r in unsure.reasons)
