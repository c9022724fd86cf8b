"""Skill extraction functions, thin wiring over `skills.steps`.

- `extract-job-skills` (`job/extract-skills`): one job's skill tags.
- `extract-skills-chunk` (`skills/extract-chunk`): a chunk of jobs, a step per
  `skill_extract_batch` jobs (`skill_llm_jobs_per_step` when the LLM reads each).
- `daily-skill-extraction` (cron 2 AM): loads the bundled taxonomy into an empty
  table, then fans out chunks over active jobs never tagged (at most
  `skill_daily_max_jobs` a day; the rest the next day).

Both extraction functions run at most `skill_extract_concurrency` at once: with
AI on each step calls Bedrock, and a day's fan-out must not become a burst. A job
that lists no skills is scored on its tags, so the tagged ones are announced again
in one `jobs/imported` (source `skills`) and matched again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.jobs import ExtractJobSkills, ExtractSkillsChunk
from jobmatch.events.matching import JobsImported
from jobmatch.skills import steps
from jobmatch.workflows.flow import numbered, slices


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The skill extraction functions."""
    settings = deps.settings
    bounded = [inngest.Concurrency(limit=settings.skill_extract_concurrency)]

    def extract(ctx: inngest.ContextSync, job_ids: list[int]) -> dict[str, int]:
        llm = deps.llm
        size = settings.skill_llm_jobs_per_step if llm else settings.skill_extract_batch
        parts = slices(job_ids, size)
        totals = {"jobs": 0, "tags": 0, "llm": 0, "llmFailed": 0}
        rescore: list[int] = []
        for i, part in enumerate(parts):
            out = ctx.step.run(
                numbered("extract", i, len(parts)),
                steps.extract_jobs,
                part,
                deps.embedder,
                llm,
                settings.skill_similarity_floor,
                settings.step_budget_seconds,
            )
            totals = {k: totals[k] + int(out[k]) for k in totals}
            rescore += out["rescore"]
        if rescore:
            # Jobs scored on their tags were matched before they had these: match again.
            ctx.step.send_event(
                "rescore-jobs",
                [
                    JobsImported(job_ids=rescore, source="skills").to_event(
                        id=f"skills-rescore-{ctx.run_id}"
                    )
                ],
            )
        return totals | {"rescored": len(rescore)}

    @deps.inngest.create_function(
        fn_id="extract-job-skills",
        name="Extract one job's skills",
        trigger=ExtractJobSkills.trigger(),
        concurrency=bounded,
        retries=3,
    )
    def extract_job_skills(ctx: inngest.ContextSync) -> dict[str, int]:
        """Tag one job (its stored title and description)."""
        return extract(ctx, [ExtractJobSkills.parse(ctx.event.data).job_id])

    @deps.inngest.create_function(
        fn_id="extract-skills-chunk",
        name="Extract skills for a chunk of jobs",
        trigger=ExtractSkillsChunk.trigger(),
        concurrency=bounded,
        retries=3,
    )
    def extract_skills_chunk(ctx: inngest.ContextSync) -> dict[str, int]:
        """Tag a chunk of jobs, a bounded batch per step."""
        return extract(ctx, ExtractSkillsChunk.parse(ctx.event.data).job_ids)

    @deps.inngest.create_function(
        fn_id="daily-skill-extraction",
        name="Daily skill extraction",
        trigger=inngest.TriggerCron(cron="0 2 * * *"),
        retries=3,
    )
    def daily_skill_extraction(ctx: inngest.ContextSync) -> dict[str, int]:
        """Fan out `skills/extract-chunk` over the jobs without skill tags."""
        skills = ctx.step.run("ensure-taxonomy", steps.ensure_taxonomy, deps.embedder)
        ts = ctx.event.ts
        day = (datetime.fromtimestamp(ts / 1000, UTC) if ts else datetime.now(UTC)).date()
        size, after, batch, queued = settings.skill_fanout_batch_size, 0, 1, 0
        while queued < settings.skill_daily_max_jobs:
            limit = min(size, settings.skill_daily_max_jobs - queued)
            ids = ctx.step.run(f"select-jobs-{batch}", steps.jobs_without_tags, after, limit)
            if not ids:
                break
            ctx.step.send_event(
                f"fan-out-{batch}",
                [
                    ExtractSkillsChunk(job_ids=ids).to_event(
                        id=f"skills-{day.isoformat()}-{ids[0]}-{ids[-1]}"
                    )
                ],
            )
            queued, after, batch = queued + len(ids), ids[-1], batch + 1
            if len(ids) < limit:
                break
        return {"skills": skills, "jobsQueued": queued}

    return [extract_job_skills, extract_skills_chunk, daily_skill_extraction]
