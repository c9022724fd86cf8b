"""Skill extraction through the Lambda handler and the Inngest driver, on the
bundled taxonomy loaded with the offline embedder: aliases map to their skill,
an LLM's phrases are normalised the same way, an LLM failure falls back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from jobmatch.ai.llm import LLMUnavailableError
from jobmatch.db.models import CandidateJobMatch, Job, JobSkill, Skill
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch.skills.steps import Jobs, ensure_taxonomy, extract_jobs
from tests import matching_data as make

pytestmark = pytest.mark.e2e

DriverFor = Callable[[Dependencies], InngestDriver]
DESCRIPTION = (
    "You will build our API in Python and JS. We run Postgres on k8s, "
    "deploy with Terraform and expose a GraphQL-API. Series C funded."
)


class ScriptedLLM:
    """A model that names the skills it was told to (and counts its calls)."""

    def __init__(self, skills: list[dict[str, Any]]) -> None:
        self.skills = skills
        self.calls = 0

    def complete_json(
        self, system: str, prompt: str, *, max_tokens: int = 800, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        self.calls += 1
        assert "Title: Senior Backend Engineer" in prompt
        assert deadline is not None
        assert 0 < deadline.remaining() <= 20  # the step's time, minus what the save keeps
        return {"skills": self.skills}


class BedrockDown:
    """Bedrock throttling or unreachable: what `BedrockLLM` raises then."""

    calls = 0

    def complete_json(
        self, system: str, prompt: str, *, max_tokens: int = 800, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        self.calls += 1
        raise LLMUnavailableError("bedrock converse failed: ThrottlingException")


def a_job(**fields: Any) -> int:
    with session_scope() as session:
        values = {"title": "Senior Backend Engineer", "description": DESCRIPTION, **fields}
        return make.job(session, None, embed=False, **values).id


def tags(job_id: int) -> dict[str, tuple[float, str]]:
    with session_scope() as session:
        rows = session.execute(
            select(Skill.name, JobSkill.confidence, JobSkill.source)
            .join(Skill, Skill.id == JobSkill.skill_id)
            .where(JobSkill.job_id == job_id)
        )
        return {name: (confidence, source) for name, confidence, source in rows}


@pytest.fixture
def taxonomy(db: None, settings: Settings) -> int:
    return ensure_taxonomy(Dependencies(settings, embedder=make.EMBEDDER))


OFFLINE = {
    "Python": (1.0, "exact"),
    "JavaScript": (0.95, "alias"),
    "PostgreSQL": (0.95, "alias"),
    "Kubernetes": (0.95, "alias"),
    "Terraform": (1.0, "exact"),
}


def test_offline_extraction_maps_aliases_and_is_idempotent(
    taxonomy: int, driver_for: DriverFor, settings: Settings
) -> None:
    job = a_job()
    driver = driver_for(Dependencies(settings))

    [run] = [r for r in driver.send("job/extract-skills", {"jobId": job}) if r.event["data"]]

    assert run.status == "completed", run.error
    found = tags(job)
    graphql = found.pop("GraphQL")  # "GraphQL-API" names no skill: found by vector
    assert graphql[1] == "vector"
    assert graphql[0] >= settings.skill_similarity_floor
    assert found == OFFLINE  # "Series C" is no C
    assert run.output == {"jobs": 1, "tags": 6, "llm": 0, "llmFailed": 0, "rescored": 0}
    with session_scope() as session:
        assert session.get(Job, job).skills_extracted_at is not None  # type: ignore[union-attr]
    driver.send("job/extract-skills", {"jobId": job})
    assert tags(job) == {**OFFLINE, "GraphQL": graphql}


def test_the_llm_s_phrases_are_normalised_to_the_taxonomy(
    taxonomy: int, driver_for: DriverFor, settings: Settings
) -> None:
    job = a_job()
    llm = ScriptedLLM(
        [
            {"name": "JS", "confidence": 0.9},
            {"name": "Postgres", "confidence": 1.0},
            {"name": "Terraform Cloud", "confidence": 0.8},  # no name: by vector
            {"name": "Underwater basket weaving", "confidence": 1.0},  # below the floor
            {"name": "Go", "confidence": 0.5},  # a skill name, however it is spelled
        ]
    )
    driver = driver_for(Dependencies(settings, llm=llm))  # offline embeddings, this LLM

    [run] = driver.send("job/extract-skills", {"jobId": job})

    assert run.status == "completed", run.error
    assert llm.calls == 1
    found = tags(job)
    assert found["JavaScript"] == (0.95, "alias")  # the text's own match is surer
    assert found["PostgreSQL"] == (0.95, "alias")
    assert found["Go"] == (0.5, "llm-exact")
    assert found["Terraform"] == (1.0, "exact")
    assert set(found) == {*OFFLINE, "Go"}
    assert run.output["llm"] == 1


def test_a_bedrock_failure_falls_back_to_offline_extraction(
    taxonomy: int, driver_for: DriverFor, settings: Settings
) -> None:
    job = a_job()
    bedrock = BedrockDown()
    driver = driver_for(Dependencies(settings, llm=bedrock))

    [run] = driver.send("job/extract-skills", {"jobId": job})

    assert run.status == "completed", run.error
    assert bedrock.calls == 1
    assert run.output == {"jobs": 1, "tags": 6, "llm": 0, "llmFailed": 1, "rescored": 0}
    found = tags(job)
    found.pop("GraphQL")
    assert found == OFFLINE


def test_daily_extraction_loads_the_taxonomy_and_fans_out_untagged_jobs(
    db: None, driver_for: DriverFor, settings: Settings
) -> None:
    ids = [a_job(description=f"Python and JS, job {i}") for i in range(7)]
    a_job(status="expired")  # not live: not tagged
    small = settings.model_copy(update={"skill_fanout_batch_size": 3, "skill_extract_batch": 2})
    driver = driver_for(Dependencies(small))

    daily = driver.run_cron("daily-skill-extraction")

    assert daily.status == "completed", daily.error
    assert daily.output["jobsQueued"] == 7
    assert daily.output["skills"] > 300
    chunks = driver.runs_of("extract-skills-chunk")
    assert sorted(len(r.event["data"]["jobIds"]) for r in chunks) == [1, 3, 3]
    assert all(r.status == "completed" for r in chunks)
    assert [s for s in chunks[0].step_ids] == ["extract-1", "extract-2"]
    assert all(set(tags(j)) == {"Python", "JavaScript"} for j in ids)
    again = driver.run_cron("daily-skill-extraction")
    assert again.output["jobsQueued"] == 0


def stored_match(candidate_id: int, job_id: int) -> CandidateJobMatch:
    with session_scope() as session:
        match = session.scalars(
            select(CandidateJobMatch).where(
                CandidateJobMatch.candidate_id == candidate_id, CandidateJobMatch.job_id == job_id
            )
        ).one()
        session.expunge(match)
        return match


def test_a_job_without_listed_skills_is_scored_on_its_tags_and_matched_again(
    taxonomy: int, driver_for: DriverFor, settings: Settings
) -> None:
    """Job boards rarely list skills. Such a job is first matched with none; once its
    description is tagged, it is matched again on the tags. A job that lists its own
    skills keeps being scored on them and is not matched again."""
    with session_scope() as session:
        role = make.role(session, "backend engineer")
        tenant = make.tenant(session, "Alpha Staffing")
        skills = ["python", "javascript", "postgresql", "kubernetes", "terraform"]
        cand = make.candidate(session, tenant, ["backend engineer"], skills=skills).id
        bare = make.job(session, role, skills=[], description=DESCRIPTION).id
        listed = make.job(session, role, skills=["python", "cobol"], description=DESCRIPTION).id
    driver = driver_for(Dependencies(settings))
    driver.send("jobs/imported", {"job_ids": [bare, listed]})
    before = stored_match(cand, bare)
    assert before.matched_skills == []
    listed_before = stored_match(cand, listed)

    driver.send("job/extract-skills", {"jobId": bare})
    driver.send("job/extract-skills", {"jobId": listed})

    [run, listed_run] = driver.runs_of("extract-job-skills")
    assert run.status == listed_run.status == "completed", run.error
    assert listed_run.output["rescored"] == 0
    assert run.output["rescored"] == 1
    rematch = [
        r
        for r in driver.runs_of("match-jobs-to-candidates")
        if r.event["data"].get("source") == "skills"
    ]
    assert [r.event["data"]["job_ids"] for r in rematch] == [[bare]]
    after = stored_match(cand, bare)
    assert {s.lower() for s in after.matched_skills} == set(skills)
    assert [s.lower() for s in after.missing_skills] == ["graphql"]
    assert after.skill_score > before.skill_score
    assert stored_match(cand, listed).matched_skills == listed_before.matched_skills == ["python"]

    # A step retried after its first try committed finds the tags already written:
    # it names the same job again, so the rescore is not lost; the listed one, never.
    for job, expected in ((bare, [bare]), (listed, [])):
        offline = Dependencies(settings, embedder=make.EMBEDDER)
        assert offline.llm is None
        again = extract_jobs(offline, Jobs(job_ids=[job]))
        assert again.rescore == expected
