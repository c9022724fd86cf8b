"""Matching functions, thin wiring over the step bodies in `matching.steps`.

The workflow orders steps, fans out and decides what happens next; every step
body opens its own session, does one bounded, idempotent unit of work and
returns counts or ids, so a step retried after a gateway timeout, or a whole run
sent twice, changes nothing more.

Big work is cut by `plan_job_chunks` into chunks of at most
`matching_pair_budget` pairs, one step each; a plan with more chunks than
`matching_max_chunk_steps` fans out as `matching/jobs-chunk` events instead, so
no run nears Inngest's 1,000 steps and no request carries a huge step history.
"""

from __future__ import annotations

from typing import Any

import inngest

from jobmatch.dependencies import Dependencies
from jobmatch.embeddings import steps as embedding_steps
from jobmatch.events.matching import (
    BackfillEmbeddings,
    GenerateCandidateMatches,
    JobPostingUpdated,
    JobsChunk,
    JobsImported,
    MatchingCompleted,
    PerformBatchMatching,
    PerformMatching,
    RefreshCandidateMatches,
)
from jobmatch.matching import steps
from jobmatch.matching.store import JobChunk
from jobmatch.observability import logger
from jobmatch.roles import steps as role_steps
from jobmatch.users import steps as user_steps
from jobmatch.workflows.flow import EVENTS_PER_SEND, continue_as_new, numbered, paged, slices

PREMIUM_PRIORITY = inngest.Priority(run="event.data.premium == true ? 120 : 0")
BACKFILL_STEPS_PER_RUN = 10
USERS_PER_STEP = 500


def ensure_job_embeddings(
    ctx: inngest.ContextSync, deps: Dependencies, parts: list[list[int]]
) -> int:
    """Embed the jobs of `parts` lacking one, one part (`embedding_batch_size` jobs)
    per step."""
    return sum(
        embedding_steps.embed_missing_jobs.run(
            ctx,
            numbered("ensure-job-embeddings", i, len(parts)),
            deps,
            embedding_steps.JobsToEmbed(job_ids=part),
        )
        for i, part in enumerate(parts)
    )


def resolve_job_roles(
    ctx: inngest.ContextSync, deps: Dependencies, job_ids: list[int], *, only_pending: bool = True
) -> dict[str, int]:
    """Resolve the jobs' titles to roles by meaning, `role_resolve_batch` per step;
    how many found roles and how many are unresolved (matched by similarity alone)."""
    parts = slices(job_ids, deps.settings.role_resolve_batch)
    totals = {"resolved": 0, "unresolved": 0}
    for i, part in enumerate(parts):
        counts = role_steps.resolve_jobs.run(
            ctx,
            numbered("resolve-roles", i, len(parts)),
            deps,
            role_steps.JobsToResolve(job_ids=part, only_pending=only_pending),
        )
        totals["resolved"] += counts.resolved
        totals["unresolved"] += counts.unresolved
    return totals


def run_job_matching(
    ctx: inngest.ContextSync,
    deps: Dependencies,
    job_ids: list[int],
    *,
    tenant_id: int | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    """Plan chunks, then one `generate-matches` step per chunk (or fan out)."""
    planned = steps.plan_matching.run(
        ctx,
        "find-matching-candidates",
        deps,
        steps.TenantJobs(job_ids=job_ids, tenant_id=tenant_id),
    )
    chunks = planned.chunks
    totals = {"candidates_found": planned.candidates_found, "chunks": len(chunks)}
    totals |= {"matches_created": 0, "recommended": 0, "removed": 0, "fanned_out": 0}
    if len(chunks) > deps.settings.matching_max_chunk_steps:
        for i, group in enumerate(slices(chunks, EVENTS_PER_SEND)):
            events = [
                JobsChunk(
                    job_ids=list(chunk.job_ids),
                    after=chunk.after,
                    upto=chunk.upto,
                    tenant_id=tenant_id,
                    batch_id=batch_id,
                ).to_event(id=f"jobs-chunk-{ctx.run_id}-{i}-{k}")
                for k, chunk in enumerate(group)
            ]
            ctx.step.send_event(f"fan-out-chunks-{i + 1}", events)
        totals["fanned_out"] = len(chunks)
        return totals
    for i, chunk in enumerate(chunks):
        counts = steps.match_chunk.run(
            ctx,
            numbered("generate-matches", i, len(chunks)),
            deps,
            steps.ChunkToMatch(chunk=chunk, tenant_id=tenant_id),
        )
        totals["matches_created"] += counts.stored
        totals["recommended"] += counts.recommended
        totals["removed"] += counts.removed
    return totals


def candidate_steps(
    ctx: inngest.ContextSync,
    deps: Dependencies,
    candidate_id: int,
    tenant_id: int,
    *,
    reembed: bool,
) -> dict[str, Any]:
    """validate-candidate (tenant check), ensure-embedding, generate-matches."""
    ref = steps.CandidateOfTenant(candidate_id=candidate_id, tenant_id=tenant_id)
    candidate = steps.validate_candidate.run(ctx, "validate-candidate", deps, ref)
    generated = steps.ensure_candidate_embedding.run(
        ctx,
        "ensure-embedding",
        deps,
        steps.CandidateToEmbed(candidate_id=candidate_id, tenant_id=tenant_id, reembed=reembed),
    )
    counts = steps.match_one_candidate.run(ctx, "generate-matches", deps, ref)
    return {
        "candidate_id": candidate_id,
        "candidate_name": candidate.name,
        "embedding_generated": generated,
        "matches_created": counts.stored,
        "matches_removed": counts.removed,
        "jobs_processed": counts.jobs_considered,
    }


def create_functions(deps: Dependencies) -> list[inngest.Function[Any]]:
    """The matching functions, closing over `deps`."""
    settings = deps.settings

    @deps.inngest.create_function(
        fn_id="match-jobs-to-candidates",
        name="Match New Jobs to Candidates",
        trigger=JobsImported.trigger(),
        retries=3,
    )
    def match_jobs_to_candidates(ctx: inngest.ContextSync) -> dict[str, Any]:
        """New jobs -> the candidates whose preferred roles fit them."""
        event = JobsImported.parse(ctx.event.data)
        summary: dict[str, Any] = {"batch_id": event.batch_id, "source": event.source}
        if not event.job_ids:
            return summary | {"jobs_processed": 0, "matches_created": 0}
        # The overview also embeds the first part: one step (one request) less per import.
        first, *rest = slices(event.job_ids, settings.embedding_batch_size)
        jobs = steps.job_overview.run(
            ctx,
            "get-jobs-with-roles",
            deps,
            steps.JobsToOverview(job_ids=event.job_ids, embed_first=first),
        )
        roles = resolve_job_roles(ctx, deps, event.job_ids) if jobs.pending_roles else {}
        embedded = jobs.embedded
        if jobs.without_embedding:
            embedded += ensure_job_embeddings(ctx, deps, rest)
        totals = run_job_matching(ctx, deps, event.job_ids, batch_id=event.batch_id)
        return (
            summary
            | {"jobs_processed": jobs.found, "embeddings_generated": embedded}
            | {"roles_resolved": roles.get("resolved", 0)}
            | {"unresolved": roles.get("unresolved", 0)}
            | totals
        )

    @deps.inngest.create_function(
        fn_id="match-jobs-chunk",
        name="Match One Chunk of Jobs",
        trigger=JobsChunk.trigger(),
        retries=3,
    )
    def match_jobs_chunk(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One fanned-out chunk of a large import (same step body as the inline path)."""
        event = JobsChunk.parse(ctx.event.data)
        chunk = JobChunk(tuple(event.job_ids), event.after, event.upto)
        counts = steps.match_chunk.run(
            ctx,
            "generate-matches",
            deps,
            steps.ChunkToMatch(chunk=chunk, tenant_id=event.tenant_id),
        )
        return counts.model_dump() | {"batch_id": event.batch_id}

    @deps.inngest.create_function(
        fn_id="generate-candidate-matches",
        name="Generate Candidate Matches",
        trigger=GenerateCandidateMatches.trigger(),
        retries=3,
    )
    def generate_candidate_matches(ctx: inngest.ContextSync) -> dict[str, Any]:
        """One candidate's matches (approval, profile update, manual); approval then
        moves the candidate to ready_for_assignment."""
        event = GenerateCandidateMatches.parse(ctx.event.data)
        result = candidate_steps(
            ctx,
            deps,
            event.candidate_id,
            event.tenant_id,
            reembed=event.reason == "profile_update",
        )
        if event.reason == "onboarding_approval":
            ref = steps.CandidateOfTenant(
                candidate_id=event.candidate_id, tenant_id=event.tenant_id
            )
            new_status = steps.promote_approved.run(ctx, "update-status", deps, ref)
            result |= {"new_status": new_status}
        return result | {"trigger": event.reason}

    @deps.inngest.create_function(
        fn_id="refresh-candidate-matches",
        name="Refresh Candidate Matches",
        trigger=RefreshCandidateMatches.trigger(),
        retries=3,
    )
    def refresh_candidate_matches(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Recompute a candidate's matches: new ones upserted, stale ones removed."""
        event = RefreshCandidateMatches.parse(ctx.event.data)
        return candidate_steps(ctx, deps, event.candidate_id, event.tenant_id, reembed=False)

    @deps.inngest.create_function(
        fn_id="update-job-embedding",
        name="Update Job Embedding",
        trigger=JobPostingUpdated.trigger(),
        retries=3,
    )
    def update_job_embedding(ctx: inngest.ContextSync) -> dict[str, Any]:
        """A job's content changed: new embedding, then re-match that job."""
        event = JobPostingUpdated.parse(ctx.event.data)
        if not event.content_changed:
            return {"job_id": event.job_id, "skipped": True, "reason": "No content fields changed"}
        updated = embedding_steps.regenerate_job_embedding.run(
            ctx, "regenerate-embedding", deps, embedding_steps.JobToEmbed(job_id=event.job_id)
        )
        result: dict[str, Any] = {"embedding_updated": updated}
        if "title" in event.changed_fields:
            result |= resolve_job_roles(ctx, deps, [event.job_id], only_pending=False)
        totals = run_job_matching(ctx, deps, [event.job_id])
        return {"job_id": event.job_id, "changed_fields": event.changed_fields} | result | totals

    @deps.inngest.create_function(
        fn_id="backfill-embeddings",
        name="Backfill Missing Embeddings",
        trigger=BackfillEmbeddings.trigger(),
        retries=1,
    )
    def backfill_embeddings(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Embed rows missing one: bounded steps, then a continuation event if more remain."""
        event = BackfillEmbeddings.parse(ctx.event.data)
        batch = min(event.batch_size, settings.backfill_max_batch_size)
        processed, more = paged(
            ctx,
            f"backfill-{event.entity_type}",
            deps,
            embedding_steps.backfill_batch,
            embedding_steps.BackfillBatch(entity_type=event.entity_type, batch_size=batch),
            size=batch,
            max_steps=BACKFILL_STEPS_PER_RUN,
        )
        if more:
            rest = BackfillEmbeddings(entity_type=event.entity_type, batch_size=batch)
            continue_as_new(ctx, rest.to_event(id=f"backfill-continue-{ctx.run_id}"))
        return {
            "entity_type": event.entity_type,
            "batch_size": batch,
            "processed": processed,
            "continued": more,
        }

    @deps.inngest.create_function(
        fn_id="perform-ai-matching",
        name="Perform AI Matching",
        trigger=PerformMatching.trigger(),
        retries=3,
        priority=PREMIUM_PRIORITY,
    )
    def perform_ai_matching(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Match (the user lookup included) with AI and a rule-based fallback, save
        (upsert on user_email + job_hash), then announce `matching/completed` if a
        notification is asked for: otherwise that run would be a request paid for
        nothing."""
        event = PerformMatching.parse(ctx.event.data)
        matched = user_steps.match_with_fallback.run(
            ctx, "match-with-fallback", deps, user_steps.UserToMatch.of(event)
        )
        user_id = matched.user_id
        saved = user_steps.save_user_matches.run(
            ctx,
            "save",
            deps,
            user_steps.MatchesToSave(email=matched.email, results=matched.results),
        )
        if user_id is not None and event.context.notify:
            completed = MatchingCompleted(
                user_id=user_id,
                matches_saved=saved,
                method=matched.method,
                context=event.context,
            )
            ctx.step.send_event(
                "announce-completed", completed.to_event(id=f"matching-completed-{ctx.run_id}")
            )
        logger.info("matching saved", extra={"matches": saved, "method": matched.method})
        return {"user_id": user_id, "method": matched.method, "matches_saved": saved}

    @deps.inngest.create_function(
        fn_id="perform-batch-matching",
        name="Perform Batch Matching",
        trigger=PerformBatchMatching.trigger(),
        retries=3,
    )
    def perform_batch_matching(ctx: inngest.ContextSync) -> dict[str, Any]:
        """Many users in one run: one `matching/perform` per user, sent in slices, each
        carrying the user's premium flag so premium runs are prioritised."""
        event = PerformBatchMatching.parse(ctx.event.data)
        parts = slices(sorted(set(event.user_ids)), USERS_PER_STEP)
        sent, unknown = 0, 0
        for i, part in enumerate(parts):
            users = user_steps.load_users.run(
                ctx, numbered("load-users", i, len(parts)), deps, user_steps.UserIds(user_ids=part)
            )
            unknown += len(part) - len(users)
            if users:
                ctx.step.send_event(
                    numbered("fan-out", i, len(parts)),
                    [
                        PerformMatching(
                            user_id=u.id, premium=u.is_premium, context=event.context
                        ).to_event(id=f"perform-{ctx.run_id}-{u.id}")
                        for u in users
                    ],
                )
                sent += len(users)
        return {"users": len(event.user_ids), "events_sent": sent, "unknown_users": unknown}

    return [
        perform_ai_matching,
        perform_batch_matching,
        match_jobs_to_candidates,
        match_jobs_chunk,
        generate_candidate_matches,
        refresh_candidate_matches,
        update_job_embedding,
        backfill_embeddings,
    ]
