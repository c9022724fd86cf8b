"""Role functions: embed the taxonomy, re-resolve jobs, switch the embedding model.

All three walk their work in bounded steps and continue themselves with an event
carrying their cursor when a run has done `STEPS_PER_RUN` steps, so no run nears
Inngest's step limit and every step stays far inside its time budget.
"""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.events.matching import JobsImported
from jobmatch.events.roles import ReembedRequested, RolesEmbedMissing, RolesReResolveRequested
from jobmatch.roles import steps
from jobmatch.workflows.flow import continue_as_new, paged

STEPS_PER_RUN = 20


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The role functions, closing over `deps`."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="embed-roles",
        name="Embed Roles Missing a Vector",
        trigger=[RolesEmbedMissing.trigger(), inngest.TriggerCron(cron="7 * * * *")],
        # One at a time: a second request (an admin adding a role, then an alias)
        # finds the first one's work done, and the waiting jobs are re-resolved once.
        concurrency=[inngest.Concurrency(limit=1)],
        retries=3,
    )
    def embed_roles(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Roles and terms without a vector (a loaded taxonomy, a new role or alias).
        Once all have one, jobs that found no role (or a weak one) are resolved
        again: the new names may fit them. Whether that is due rests on a read-only
        count taken before anything is written, not on how many vectors the embed
        steps report: a step retried after its first try committed reports none."""
        missing = RolesEmbedMissing.parse(
            ctx.event.data
        ).missing_at_start or steps.count_missing_vectors.run(ctx, "count-missing", deps)
        if not missing:
            return {"embedded": 0, "continued": False, "reResolve": False}
        batch = settings.role_embed_batch
        embedded, more = paged(
            ctx,
            "embed",
            deps,
            steps.embed_roles,
            steps.Batch(limit=batch),
            size=batch,
            max_steps=STEPS_PER_RUN,
        )
        if more:
            rest = RolesEmbedMissing(missing_at_start=missing)
            continue_as_new(ctx, rest.to_event(id=f"embed-roles-{ctx.run_id}"))
        else:
            ctx.step.send_event(
                "re-resolve",
                RolesReResolveRequested().to_event(id=f"re-resolve-after-embed-{ctx.run_id}"),
            )
        return {"embedded": embedded, "continued": more, "reResolve": not more}

    @deps.inngest.create_function(
        fn_id="re-resolve-job-roles",
        name="Re-resolve Job Roles",
        trigger=RolesReResolveRequested.trigger(),
        retries=3,
    )
    def re_resolve(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Jobs pending, unresolved or resolved below the confidence, resolved again
        with the current taxonomy, then matched again (`jobs/imported`)."""
        event = RolesReResolveRequested.parse(ctx.event.data)
        below = event.below_confidence
        below = settings.role_re_resolve_below if below is None else below
        batch = settings.role_resolve_batch
        cursor, totals, more = event.after_id, {"resolved": 0, "unresolved": 0}, False
        for i in range(STEPS_PER_RUN):
            out = steps.re_resolve_batch.run(
                ctx,
                f"resolve-{i + 1}",
                deps,
                steps.ResolveAgain(after_id=cursor, batch=batch, below_confidence=below),
            )
            totals["resolved"] += out.resolved
            totals["unresolved"] += out.unresolved
            if out.job_ids:
                ctx.step.send_event(
                    f"rematch-{i + 1}",
                    JobsImported(job_ids=out.job_ids, source="re-resolve").to_event(
                        id=f"re-resolve-{ctx.run_id}-{i}"
                    ),
                )
            cursor = out.last_id
            more = len(out.job_ids) == batch
            if not more:
                break
        if more:
            rest = RolesReResolveRequested(after_id=cursor, below_confidence=below)
            continue_as_new(ctx, rest.to_event(id=f"re-resolve-continue-{ctx.run_id}"))
        return totals | {"last_id": cursor, "continued": more}

    @deps.inngest.create_function(
        fn_id="reembed-all",
        name="Re-embed Everything With the Current Provider",
        trigger=ReembedRequested.trigger(),
        retries=3,
    )
    def reembed(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Switch the stored vectors to the running provider: record it as the
        target, rewrite each entity's vectors in cursor order, then make it the model."""
        event = ReembedRequested.parse(ctx.event.data)
        model_id = deps.embedder.model_id
        target = steps.ModelSwitch(model_id=model_id)
        old = steps.begin_reembed.run(ctx, "begin-switch", deps, target)
        switch = {"from": old, "to": model_id}
        entities = steps.REEMBED_ENTITIES
        entity, cursor, rewritten = event.entity, event.after_id, 0
        batch = settings.reembed_batch
        for i in range(STEPS_PER_RUN):
            out = steps.reembed_batch.run(
                ctx,
                f"reembed-{entity}-{i + 1}",
                deps,
                steps.ReembedBatch(entity=entity, after_id=cursor, batch=batch),
            )
            rewritten += out.count
            cursor = out.last_id
            if out.count < batch:
                position = entities.index(entity)
                if position + 1 == len(entities):
                    steps.finish_reembed.run(ctx, "finish-switch", deps, target)
                    return switch | {"rewritten": rewritten, "finished": True}
                entity, cursor = entities[position + 1], 0
        rest = ReembedRequested.model_validate({"entity": entity, "after_id": cursor})
        continue_as_new(ctx, rest.to_event(id=f"reembed-continue-{ctx.run_id}"))
        return switch | {"rewritten": rewritten, "finished": False}

    return [embed_roles, re_resolve, reembed]
