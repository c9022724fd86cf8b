"""Roles end to end: jobs imported through the API resolve by meaning in the matching
function; an unknown title is matched by similarity and counted; the admin routes
add roles and aliases and re-resolve; the model switch re-embeds everything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import (
    Candidate,
    CandidateJobMatch,
    EmbeddingState,
    GlobalRole,
    Job,
    JobRole,
    RoleTerm,
)
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.embeddings.providers import OfflineEmbeddings
from jobmatch.roles import steps as role_steps
from jobmatch.roles import store as roles_repo
from jobmatch.settings import Settings
from jobmatch.step_contract import StepDeps, step_body
from jobmatch_devkit.apiclient import ApiClient
from tests import matching_data as make

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(db: None) -> dict[str, int]:
    """Two roles and a candidate each, and a cook whose preferred role is no role."""
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "backend developer")
        nurse = make.role(s, "registered nurse", "nurse", description="Cares for patients.")
        tenant = make.tenant(s, "Alpha")
        fits = make.candidate(s, tenant, ["backend engineer"]).id
        carer = make.candidate(s, tenant, [nurse], skills=["triage"]).id
        cook = make.candidate(
            s,
            tenant,
            ["sous chef"],
            skills=["cooking", "menu planning", "food safety"],
            location="Hamburg",
        ).id
    return {"backend": backend, "nurse": nurse, "fits": fits, "carer": carer, "cook": cook}


def _job(i: int, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": f"r-{i}",
        "title": title,
        "company": f"Company {i}",
        "location": "Hamburg",
        "country": "DE",
        "description": f"{title}. Join our team.",
        **extra,
    }


def _import(api: ApiClient, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.post("/api/jobs/import", {"source": "test", "jobs": jobs})
    assert response.status in (200, 201), response.body
    body: dict[str, Any] = response.json()
    return body


def _matches(job_id: int) -> set[int]:
    with session_scope() as s:
        rows = s.scalars(
            select(CandidateJobMatch.candidate_id).where(CandidateJobMatch.job_id == job_id)
        )
        return set(rows)


def test_titles_resolve_by_meaning_and_an_unknown_one_is_matched_by_similarity_and_counted(
    api: ApiClient, driver: InngestDriver, world: dict[str, int]
) -> None:
    imported = _import(
        api,
        [
            _job(1, "Sr. Backend Dev (m/f/d) - Remote", skills=["python", "sql"], remote=True),
            _job(2, "Server-side software engineer - Berlin, full-time", skills=["python"]),
            _job(3, "Sous Chef (w/m/d) | Vollzeit", skills=["cooking", "food safety"]),
        ],
    )
    backend_dev, server_side, chef = imported["job_ids"]
    [run] = [r for r in driver.drain() if r.function_id.endswith("match-jobs-to-candidates")]
    assert run.status == "completed", run.error
    assert "resolve-roles" in [s.id for s in run.steps]
    assert run.output["roles_resolved"] == 1  # job 1 was an alias at import already
    assert run.output["unresolved"] == 1
    with session_scope() as s:
        status = dict(s.execute(select(Job.id, Job.role_resolution)).all())
        best = dict(s.execute(select(Job.id, Job.normalized_role_id)).all())
    assert status == {backend_dev: "alias", server_side: "vector", chef: "unresolved"}
    assert best[server_side] == world["backend"]
    assert world["fits"] in _matches(backend_dev) & _matches(server_side)
    # No role fits the chef's title, yet the cook is reached by similarity.
    assert _matches(chef) == {world["cook"]}

    listed = api.get("/api/admin/roles/unresolved")
    assert listed.status == 200, listed.body
    assert listed.json()["items"] == [
        {"title": "Sous Chef (w/m/d) | Vollzeit", "jobs": 1, "latest_job_id": chef}
    ]


def test_a_role_the_admin_adds_reaches_the_jobs_that_waited_for_one(
    api: ApiClient, driver: InngestDriver, world: dict[str, int], event_api: EventAPI
) -> None:
    [chef] = _import(api, [_job(3, "Sous Chef (w/m/d) | Vollzeit", skills=["cooking"])])["job_ids"]
    driver.drain()

    added = api.post(
        "/api/admin/roles",
        {"name": "Chef", "aliases": ["sous chef", "Head Cook"], "description": "Runs a kitchen."},
    )
    assert added.status == 201, added.body
    role = added.json()
    assert (role["name"], role["aliases"], role["source"]) == (
        "chef",
        ["head cook", "sous chef"],
        "custom",
    )
    assert api.post("/api/admin/roles", {"name": "chef"}).status == 409
    alias = api.post(f"/api/admin/roles/{role['id']}/aliases", {"alias": "Commis Chef"})
    assert alias.status == 200
    assert "commis chef" in alias.json()["aliases"]
    assert api.post("/api/admin/roles/999999/aliases", {"alias": "x y"}).status == 404
    assert api.post("/api/admin/roles", {"name": "x", "extra": 1}).status == 422
    names = [e["name"] for e in event_api.received()]
    assert names.count("roles/embed-missing") == 2
    runs = driver.drain()
    embed = [r for r in runs if r.function_id.endswith("embed-roles")]
    assert embed
    assert all(r.status == "completed" for r in embed)
    # Once the new names have vectors, the jobs that found no role are resolved
    # again, announced again and matched: no operator call needed. Two requests
    # (role, alias), one re-resolve: without embed-roles' concurrency limit both
    # runs count the same missing vectors and both ask.
    [re_resolve] = [r for r in runs if r.function_id.endswith("re-resolve-job-roles")]
    assert re_resolve.status == "completed", re_resolve.error
    assert re_resolve.output["resolved"] == 1
    rematched = [r for r in runs if r.function_id.endswith("match-jobs-to-candidates")]
    assert [r.event["data"]["job_ids"] for r in rematched] == [[chef]]
    with session_scope() as s:
        assert (
            s.scalar(select(func.count()).select_from(RoleTerm).where(RoleTerm.embedding.is_(None)))
            == 0
        )
        with_cook = s.get(Candidate, world["cook"])
        assert with_cook is not None
        job = s.get(Job, chef)
        assert job is not None
        assert (job.role_resolution, job.normalized_role_id) == ("alias", role["id"])
    assert api.get("/api/admin/roles/unresolved").json()["total"] == 0

    # The operator's route does the same on demand; nothing is left to resolve.
    triggered = api.post("/api/admin/roles/re-resolve", {"belowConfidence": 0.6})
    assert triggered.status == 202, triggered.body
    assert triggered.json()["event"] == "roles/re-resolve.requested"
    [again] = [r for r in driver.drain() if r.function_id.endswith("re-resolve-job-roles")]
    assert (again.status, again.output["resolved"]) == ("completed", 0)
    # An hourly embedding run with nothing to embed resolves nothing again.
    idle = driver.send("roles/embed-missing", {})
    assert not [r for r in idle if r.function_id.endswith("re-resolve-job-roles")]


def test_an_embedding_chain_of_several_runs_re_resolves_once_at_its_end(
    db: None,
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loaded taxonomy takes several runs to embed: only the run that finds nothing
    left asks for the re-resolve, also when it embedded nothing itself."""
    from jobmatch.workflows import roles as role_functions

    monkeypatch.setattr(role_functions, "STEPS_PER_RUN", 1)
    with session_scope() as s:
        roles_repo.add_role(s, "chef", ["sous chef", "head cook"], "Runs a kitchen.", None)
        missing = roles_repo.count_missing_vectors(s)
    small = settings.model_copy(update={"role_embed_batch": missing})
    runs = driver_for(Dependencies(small)).send("roles/embed-missing", {})

    embeds = [r for r in runs if r.function_id.endswith("embed-roles")]
    assert [(r.output["embedded"], r.output["reResolve"]) for r in embeds] == [
        (missing, False),
        (0, True),
    ]
    assert len([r for r in runs if r.function_id.endswith("re-resolve-job-roles")]) == 1


def test_the_re_resolve_is_not_lost_when_an_embed_step_is_retried_after_it_committed(
    db: None,
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A step whose first try wrote the vectors but whose answer was lost runs again
    and reports none; the run still asks for the re-resolve (the decision rests on
    the count taken before any write)."""
    real = role_steps.embed_roles

    @step_body
    def committed_then_retried(deps: StepDeps, inp: role_steps.Batch) -> int:
        real(deps, inp)  # the first try: vectors written, answer lost
        return 0  # the retry: nothing left to embed

    monkeypatch.setattr(role_steps, "embed_roles", committed_then_retried)
    with session_scope() as s:
        roles_repo.add_role(s, "chef", ["sous chef"], "Runs a kitchen.", None)
    runs = driver_for(Dependencies(settings)).send("roles/embed-missing", {})

    [embed] = [r for r in runs if r.function_id.endswith("embed-roles")]
    assert (embed.output["embedded"], embed.output["reResolve"]) == (0, True)
    assert [r.status for r in runs if r.function_id.endswith("re-resolve-job-roles")] == [
        "completed"
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/admin/roles"),
        ("POST", "/api/admin/roles/1/aliases"),
        ("POST", "/api/admin/roles/re-resolve"),
        ("GET", "/api/admin/roles/unresolved"),
    ],
)
def test_role_admin_routes_need_the_api_key(driver: InngestDriver, method: str, path: str) -> None:
    response = ApiClient(driver.handler, api_key="wrong").call(method, path, body={"name": "ab"})
    assert response.status == 401


@dataclass
class SwitchedModel:
    """The provider after the switch (as Titan would be): another vector space."""

    dimension: int = EMBEDDING_DIM
    model_id: str = "switched-model"

    def embed(self, texts: list[str], *, deadline: Any = None) -> list[list[float]]:
        return [list(reversed(v)) for v in OfflineEmbeddings(EMBEDDING_DIM).embed(texts)]


def test_switching_the_provider_re_embeds_every_row_in_bounded_steps(
    settings: Settings, driver_for: Any, world: dict[str, int]
) -> None:
    with session_scope() as s:
        make.job(s, world["backend"])
        before = s.scalar(select(GlobalRole.embedding).where(GlobalRole.id == world["backend"]))
    deps = Dependencies(settings.model_copy(update={"reembed_batch": 2}), embedder=SwitchedModel())
    driver = driver_for(deps)
    driver.sync()
    runs = driver.send("system/reembed", {})
    assert all(r.status == "completed" for r in runs), [r.error for r in runs]
    steps = [st.id for r in runs for st in r.steps if st.id.startswith("reembed-")]
    assert "reembed-roles-2" in steps  # two rows a step: bounded, cursor-walked
    assert {st.split("-")[1] for st in steps} == {
        "roles",
        "role_terms",
        "jobs",
        "candidates",
        "users",
    }
    assert runs[-1].output["finished"] is True
    with session_scope() as s:
        state = s.get(EmbeddingState, 1)
        assert state is not None
        assert (state.model, state.target_model) == ("switched-model", None)
        after = s.scalar(select(GlobalRole.embedding).where(GlobalRole.id == world["backend"]))
        assert list(after) == pytest.approx(list(reversed(list(before))), abs=1e-6)
        assert s.scalar(select(func.count()).select_from(JobRole)) == 1
    # The old provider is refused now: its vectors would not compare.
    with session_scope() as s:
        roles_repo.add_role(s, "chef", [], "", None)
    old = driver_for(Dependencies(settings))
    old.sync()
    [run] = old.send("roles/embed-missing", {})
    assert run.status == "failed"
    assert "switched-model" in str(run.error)
