"""Matching functions (seeds 000 and 002), thin over `jobmatch.matching.service`.

Every step opens its own session, does one bounded unit of work and returns
counts or ids; the next step re-reads what it needs from Postgres. Every step is
idempotent (upserts on natural keys, "embed if missing", stale matches removed in
the same transaction that writes the fresh ones), so a step retried after a
gateway timeout, or a whole run sent twice, changes nothing more.

Big work is cut by `plan_job_chunks` into chunks of at most
`matching_pair_budget` pairs, one step each; a plan with more chunks than
`matching_max_chunk_steps` fans out as `matching/jobs-chunk` events instead, so
no run nears Inngest's 1,000 steps and no request carries a huge step history.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import inngest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.db.models import Job, User
from jobmatch.db.session import session_scope
from jobmatch.matching import repository as repo
from jobmatch.matching import service
from jobmatch.matching.approval import CandidateNotFoundError, tenant_candidate
from jobmatch.matching.embedding_store import backfill, embed_candidate, embed_jobs
from jobmatch.matching.repository import JobChunk
from jobmatch.matching.scoring import MatchResult
from jobmatch.observability import logger
from jobmatch.settings import get_settings
from jobmatch.workflows.client import inngest_client
from jobmatch.workflows.events import parse_event
from jobmatch.workflows.events.matching import (
    BACKFILL_EMBEDDINGS,
    GENERATE_CANDIDATE,
    JOB_POSTING_UPDATED,
    JOBS_CHUNK,
    JOBS_IMPORTED,
    MATCHING_COMPLETED,
    PERFORM_BATCH,
    PERFORM_MATCHING,
    REFRESH_CANDIDATE,
    BackfillEmbeddings,
    GenerateCandidateMatches,
    JobPostingUpdated,
    JobsChunk,
    JobsImported,
    PerformBatchMatching,
    PerformMatching,
    RefreshCandidateMatches,
)

T = TypeVar("T")
PREMIUM_PRIORITY = inngest.Priority(run="event.data.premium == true ? 120 : 0")
MATCH_TIME_BUDGET_SECONDS = 10.0  # rule-based part of match-with-fallback; the LLM has its own
BACKFILL_STEPS_PER_RUN = 10
EVENTS_PER_SEND = 100
USERS_PER_STEP = 500


def in_session(work: Callable[[Session], T]) -> Callable[[], T]:
    """A step body: `work` inside its own session, committed at the end of the step."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    return run


def numbered(name: str, index: int, total: int) -> str:
    """`name` for a single step, `name-1`, `name-2`, ... when there are several."""
    return name if total == 1 else f"{name}-{index + 1}"


def slices(items: list[T], size: int) -> list[list[T]]:
    """`items` in consecutive slices of at most `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------- jobs -> candidates


def ensure_job_embeddings(ctx: inngest.ContextSync, parts: list[list[int]]) -> int:
    """Embed the jobs of `parts` lacking one, one part (`embedding_batch_size` jobs)
    per step."""
    generated = 0
    for i, part in enumerate(parts):
        generated += ctx.step.run(
            numbered("ensure-job-embeddings", i, len(parts)),
            in_session(functools.partial(embed_jobs, job_ids=part)),
        )
    return generated


def run_job_matching(
    ctx: inngest.ContextSync,
    job_ids: list[int],
    *,
    tenant_id: int | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    """Plan chunks, then one `generate-matches` step per chunk (or fan out)."""
    settings = get_settings()

    def plan(session: Session) -> dict[str, Any]:
        chunks = service.plan_job_chunks(session, job_ids, tenant_id=tenant_id)
        role_ids = session.scalars(
            select(Job.normalized_role_id)
            .where(Job.id.in_(job_ids), Job.normalized_role_id.is_not(None))
            .distinct()
        )
        found = repo.count_eligible_candidates(session, [r for r in role_ids if r], tenant_id)
        return {"candidates_found": found, "chunks": [c.to_dict() for c in chunks]}

    planned = ctx.step.run("find-matching-candidates", in_session(plan))
    chunks = [JobChunk.from_dict(c) for c in planned["chunks"]]
    totals = {"candidates_found": planned["candidates_found"], "chunks": len(chunks)}
    totals |= {"matches_created": 0, "recommended": 0, "removed": 0, "fanned_out": 0}
    if len(chunks) > settings.matching_max_chunk_steps:
        for i, group in enumerate(slices(chunks, EVENTS_PER_SEND)):
            events = [
                inngest.Event(
                    name=JOBS_CHUNK,
                    id=f"jobs-chunk-{ctx.run_id}-{i}-{k}",
                    data={**c.to_dict(), "tenant_id": tenant_id, "batch_id": batch_id},
                )
                for k, c in enumerate(group)
            ]
            ctx.step.send_event(f"fan-out-chunks-{i + 1}", events)
        totals["fanned_out"] = len(chunks)
        return totals
    for i, chunk in enumerate(chunks):
        counts = ctx.step.run(
            numbered("generate-matches", i, len(chunks)),
            in_session(
                functools.partial(service.match_job_chunk, chunk=chunk, tenant_id=tenant_id)
            ),
        )
        totals["matches_created"] += counts["stored"]
        totals["recommended"] += counts["recommended"]
        totals["removed"] += counts["removed"]
    return totals


@inngest_client.create_function(
    fn_id="match-jobs-to-candidates",
    name="Match New Jobs to Candidates",
    trigger=inngest.TriggerEvent(event=JOBS_IMPORTED),
    retries=3,
)
def match_jobs_to_candidates(ctx: inngest.ContextSync) -> dict[str, Any]:
    """New jobs -> the candidates whose preferred roles fit them (seed 002)."""
    event = parse_event(JobsImported, ctx.event.data)
    summary: dict[str, Any] = {"batch_id": event.batch_id, "source": event.source}
    if not event.job_ids:
        return summary | {"jobs_processed": 0, "matches_created": 0}

    # The lookup also embeds the first part: one step (one request) less per import.
    first, *rest = slices(event.job_ids, get_settings().embedding_batch_size)

    def get_jobs(session: Session) -> dict[str, Any]:
        generated = embed_jobs(session, first)
        rows = session.execute(
            select(Job.id, Job.normalized_role_id, Job.embedding.is_(None)).where(
                Job.id.in_(event.job_ids)
            )
        ).all()
        return {
            "found": len(rows),
            "missing": len(event.job_ids) - len(rows),
            "role_ids": sorted({r[1] for r in rows if r[1] is not None}),
            "embedded": generated,
            "without_embedding": sum(1 for r in rows if r[2]),
        }

    jobs = ctx.step.run("get-jobs-with-roles", in_session(get_jobs))
    embedded = jobs["embedded"]
    if jobs["without_embedding"]:
        embedded += ensure_job_embeddings(ctx, rest)
    totals = run_job_matching(ctx, event.job_ids, batch_id=event.batch_id)
    return summary | {"jobs_processed": jobs["found"], "embeddings_generated": embedded} | totals


@inngest_client.create_function(
    fn_id="match-jobs-chunk",
    name="Match One Chunk of Jobs",
    trigger=inngest.TriggerEvent(event=JOBS_CHUNK),
    retries=3,
)
def match_jobs_chunk(ctx: inngest.ContextSync) -> dict[str, Any]:
    """One fanned-out chunk of a large import (same step body as the inline path)."""
    event = parse_event(JobsChunk, ctx.event.data)
    chunk = JobChunk(tuple(event.job_ids), event.after, event.upto)
    counts: dict[str, Any] = ctx.step.run(
        "generate-matches",
        in_session(lambda s: service.match_job_chunk(s, chunk, tenant_id=event.tenant_id)),
    )
    return counts | {"batch_id": event.batch_id}


# ---------------------------------------------------------------- one candidate


def candidate_steps(
    ctx: inngest.ContextSync, candidate_id: int, tenant_id: int, *, reembed: bool
) -> dict[str, Any]:
    """validate-candidate (tenant check), ensure-embedding, generate-matches."""

    def validate(session: Session) -> dict[str, Any]:
        try:
            c = tenant_candidate(session, candidate_id, tenant_id)
        except CandidateNotFoundError as exc:
            raise inngest.NonRetriableError(str(exc)) from exc
        return {"id": c.id, "name": f"{c.first_name} {c.last_name}", "status": c.status}

    def ensure(session: Session) -> dict[str, Any]:
        c = tenant_candidate(session, candidate_id, tenant_id)
        c.preferred_role_ids = repo.resolve_preferred_roles(session, c.preferred_roles or [])
        return {"generated": embed_candidate(session, c, force=reembed)}

    candidate = ctx.step.run("validate-candidate", in_session(validate))
    embedding = ctx.step.run("ensure-embedding", in_session(ensure))
    counts = ctx.step.run(
        "generate-matches",
        in_session(lambda s: service.match_candidate(s, candidate_id, tenant_id)),
    )
    return {
        "candidate_id": candidate_id,
        "candidate_name": candidate["name"],
        "embedding_generated": embedding["generated"],
        "matches_created": counts["stored"],
        "matches_removed": counts["removed"],
        "jobs_processed": counts["jobs_considered"],
    }


@inngest_client.create_function(
    fn_id="generate-candidate-matches",
    name="Generate Candidate Matches",
    trigger=inngest.TriggerEvent(event=GENERATE_CANDIDATE),
    retries=3,
)
def generate_candidate_matches(ctx: inngest.ContextSync) -> dict[str, Any]:
    """One candidate's matches (approval, profile update, manual); approval then
    moves the candidate to ready_for_assignment."""
    event = parse_event(GenerateCandidateMatches, ctx.event.data)
    result = candidate_steps(
        ctx, event.candidate_id, event.tenant_id, reembed=event.trigger == "profile_update"
    )
    if event.trigger == "onboarding_approval":

        def update_status(session: Session) -> dict[str, str]:
            c = tenant_candidate(session, event.candidate_id, event.tenant_id)
            if c.status == "approved":  # never moves a candidate back (e.g. from assigned)
                c.status = "ready_for_assignment"
            return {"new_status": c.status}

        result |= ctx.step.run("update-status", in_session(update_status))
    return result | {"trigger": event.trigger}


@inngest_client.create_function(
    fn_id="refresh-candidate-matches",
    name="Refresh Candidate Matches",
    trigger=inngest.TriggerEvent(event=REFRESH_CANDIDATE),
    retries=3,
)
def refresh_candidate_matches(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Recompute a candidate's matches: new ones upserted, stale ones removed."""
    event = parse_event(RefreshCandidateMatches, ctx.event.data)
    return candidate_steps(ctx, event.candidate_id, event.tenant_id, reembed=False)


# ---------------------------------------------------------------- embeddings


@inngest_client.create_function(
    fn_id="update-job-embedding",
    name="Update Job Embedding",
    trigger=inngest.TriggerEvent(event=JOB_POSTING_UPDATED),
    retries=3,
)
def update_job_embedding(ctx: inngest.ContextSync) -> dict[str, Any]:
    """A job's content changed: new embedding, then re-match that job."""
    event = parse_event(JobPostingUpdated, ctx.event.data)
    if not event.content_changed:
        return {"job_id": event.job_id, "skipped": True, "reason": "No content fields changed"}

    def regenerate(session: Session) -> dict[str, bool]:
        if session.get(Job, event.job_id) is None:
            raise inngest.NonRetriableError(f"job {event.job_id} not found")
        return {"embedding_updated": embed_jobs(session, [event.job_id], only_missing=False) == 1}

    result = ctx.step.run("regenerate-embedding", in_session(regenerate))
    totals = run_job_matching(ctx, [event.job_id])
    return {"job_id": event.job_id, "changed_fields": event.changed_fields} | result | totals


@inngest_client.create_function(
    fn_id="backfill-embeddings",
    name="Backfill Missing Embeddings",
    trigger=inngest.TriggerEvent(event=BACKFILL_EMBEDDINGS),
    retries=1,
)
def backfill_embeddings(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Embed rows missing one: bounded steps, then a continuation event if more remain."""
    event = parse_event(BackfillEmbeddings, ctx.event.data)
    batch = min(event.batch_size, get_settings().backfill_max_batch_size)
    processed, more = 0, False
    for i in range(BACKFILL_STEPS_PER_RUN):
        done = ctx.step.run(
            f"backfill-{event.entity_type}-{i + 1}",
            in_session(lambda s: backfill(s, event.entity_type, batch)),
        )
        processed += done
        more = done == batch
        if not more:
            break
    if more:
        ctx.step.send_event(
            "continue",
            inngest.Event(
                name=BACKFILL_EMBEDDINGS,
                id=f"backfill-continue-{ctx.run_id}",
                data={"entity_type": event.entity_type, "batch_size": batch},
            ),
        )
    return {
        "entity_type": event.entity_type,
        "batch_size": batch,
        "processed": processed,
        "continued": more,
    }


# ---------------------------------------------------------------- free-signup users


@inngest_client.create_function(
    fn_id="perform-ai-matching",
    name="Perform AI Matching",
    trigger=inngest.TriggerEvent(event=PERFORM_MATCHING),
    retries=3,
    priority=PREMIUM_PRIORITY,
)
def perform_ai_matching(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Match with AI and a rule-based fallback, save (upsert on user_email + job_hash),
    then announce `matching/completed` when someone is to be notified.

    Finding the user (once an `initialize` step of its own) is part of
    `match-with-fallback`, and the announcement is sent only when `context.notify`
    asks for one: every step and every run is a paid request, and neither carried
    work of its own."""
    event = parse_event(PerformMatching, ctx.event.data)
    hashes = event.wanted_hashes

    def who(session: Session) -> tuple[int | None, str]:
        if event.user_id is not None:
            user = session.get(User, event.user_id)
            if user is None:
                raise inngest.NonRetriableError(f"user {event.user_id} not found")
            return user.id, user.email
        email = str((event.user_prefs or {})["email"]).strip().lower()
        user = session.scalars(select(User).where(User.email == email)).one_or_none()
        # None: seed 000's inline preferences for someone not stored.
        return (user.id if user else None), email

    def match() -> dict[str, Any]:
        with session_scope() as session:
            user_id, email = who(session)
            if user_id is not None:
                results = service.match_user(
                    session, user_id, job_hashes=hashes, time_budget=MATCH_TIME_BUDGET_SECONDS
                )
                prefs: dict[str, Any] = service.stored_preferences(session, user_id)
            else:
                prefs = dict(event.user_prefs or {})
                results = service.match_profile(
                    session,
                    service.preferences_profile(session, None, prefs),
                    service.inline_preferences_embedding(prefs),
                    job_hashes=hashes,
                    time_budget=MATCH_TIME_BUDGET_SECONDS,
                )
            profile = service.preferences_profile(session, user_id, prefs)
            jobs = repo.load_jobs(session, [r.job_id for r in results])
        # The LLM call happens with the connection back in the pool: a slow model
        # must not hold one of RDS Proxy's connections for its whole timeout.
        ranked, method = service.ai_rerank(results, profile, jobs)
        return {
            "user_id": user_id,
            "email": email,
            "method": method,
            "results": [r.to_dict() for r in ranked],
        }

    matched = ctx.step.run("match-with-fallback", match)
    results = [MatchResult.from_dict(r) for r in matched["results"]]
    saved = ctx.step.run(
        "save", in_session(lambda s: service.save_user_matches(s, matched["email"], results))
    )
    if matched["user_id"] is not None and event.context.notify:
        ctx.step.send_event(
            "announce-completed",
            inngest.Event(
                name=MATCHING_COMPLETED,
                id=f"matching-completed-{ctx.run_id}",
                data={
                    "userId": str(matched["user_id"]),
                    "matchesSaved": saved,
                    "method": matched["method"],
                    "context": event.context.model_dump(by_alias=True),
                },
            ),
        )
    logger.info("matching saved", extra={"matches": saved, "method": matched["method"]})
    return {"user_id": matched["user_id"], "method": matched["method"], "matches_saved": saved}


@inngest_client.create_function(
    fn_id="perform-batch-matching",
    name="Perform Batch Matching",
    trigger=inngest.TriggerEvent(event=PERFORM_BATCH),
    retries=3,
)
def perform_batch_matching(ctx: inngest.ContextSync) -> dict[str, Any]:
    """Many users in one run: one `matching/perform` per user, sent in slices, each
    carrying the user's premium flag so premium runs are prioritised."""
    event = parse_event(PerformBatchMatching, ctx.event.data)
    parts = slices(sorted(set(event.user_ids)), USERS_PER_STEP)
    sent, unknown = 0, 0
    for i, part in enumerate(parts):

        def load(session: Session, part: list[int] = part) -> list[list[Any]]:
            rows = session.execute(
                select(User.id, User.is_premium).where(User.id.in_(part)).order_by(User.id)
            ).all()
            return [[r.id, r.is_premium] for r in rows]

        users = ctx.step.run(numbered("load-users", i, len(parts)), in_session(load))
        unknown += len(part) - len(users)
        if users:
            ctx.step.send_event(
                numbered("fan-out", i, len(parts)),
                [
                    inngest.Event(
                        name=PERFORM_MATCHING,
                        id=f"perform-{ctx.run_id}-{uid}",
                        data={
                            "userId": uid,
                            "premium": premium,
                            "context": event.context.model_dump(by_alias=True),
                        },
                    )
                    for uid, premium in users
                ],
            )
            sent += len(users)
    return {"users": len(event.user_ids), "events_sent": sent, "unknown_users": unknown}


FUNCTIONS: list[inngest.Function[Any]] = [
    perform_ai_matching,
    perform_batch_matching,
    match_jobs_to_candidates,
    match_jobs_chunk,
    generate_candidate_matches,
    refresh_candidate_matches,
    update_job_embedding,
    backfill_embeddings,
]
