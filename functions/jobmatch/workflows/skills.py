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

from collections.abc import Sequence
from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.jobs import ExtractJobSkills, ExtractSkillsChunk
from jobmatch.events.matching import JobsImported
from jobmatch.skills import steps
from jobmatch.workflows.flow import event_time, numbered, select_and_send, slices


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The skill extraction functions."""
    settings = deps.settings
    bounded = [inngest.Concurrency(limit=settings.skill_extract_concurrency)]

    def extract(ctx: inngest.ContextSync, job_ids: list[int]) -> dict[str, int]:
        llm = deps.llm
        size = settings.skill_llm_jobs_per_step if llm else settings.skill_extract_batch
        parts = slices(job_ids, size)
        outs = [
            steps.extract_jobs.run(
                ctx, numbered("extract", i, len(parts)), deps, steps.Jobs(job_ids=part)
            )
            for i, part in enumerate(parts)
        ]
        rescore = [job for out in outs for job in out.rescore]
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
        return {
            "jobs": sum(o.jobs for o in outs),
            "tags": sum(o.tags for o in outs),
            "llm": sum(o.llm for o in outs),
            "llmFailed": sum(o.llm_failed for o in outs),
            "rescored": len(rescore),
        }

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
        skills = steps.ensure_taxonomy.run(ctx, "ensure-taxonomy", deps)
        day = event_time(ctx).date().isoformat()

        def untagged(step_id: str, after: int, limit: int) -> list[int]:
            page = steps.UntaggedPage(after_id=after, limit=limit)
            return steps.jobs_without_tags.run(ctx, step_id, deps, page)

        def chunk(ids: Sequence[int]) -> list[inngest.Event]:
            return [
                ExtractSkillsChunk(job_ids=list(ids)).to_event(
                    id=f"skills-{day}-{ids[0]}-{ids[-1]}"
                )
            ]

        queued = select_and_send(
            ctx,
            ("select-jobs", "fan-out"),
            untagged,
            lambda job: job,
            0,
            chunk,
            size=settings.skill_fanout_batch_size,
            limit=settings.skill_daily_max_jobs,
        )
        return {"skills": skills, "jobsQueued": queued}

    return [extract_job_skills, extract_skills_chunk, daily_skill_extraction]
