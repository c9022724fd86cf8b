"""Matching benchmark: 1,000 new jobs against 20,000 candidates, on the embedded
PostgreSQL in its own database (`jobmatch_bench`).

    .venv/bin/python bench/matching_bench.py [--candidates 20000] [--jobs 1000]

Prints, from one run on the same data:
 (a) our engine: `plan_job_chunks` + one `match_job_chunk` per chunk, each in its
     own session exactly as the `match-jobs-to-candidates` steps run them;
 (b) the per-pair loop it replaces (load every approved candidate, filter roles in
     Python, then for each candidate and each job: get the job, query for an
     existing match, score, add) timed on a sample of candidates and
     extrapolated linearly (printed as such);
 (c) every step body of the function at the configured batch limits, the
     slowest one against the 20 s budget;
 (d) the largest step output in bytes (JSON), including `match-with-fallback`.

Data are synthetic: 60 roles with ~15 core skills each out of a 300-skill
vocabulary, candidates preferring 1-3 roles (half by name, half by id), 85%
matchable; embeddings come from the offline provider over each row's text
(real vectors of related texts, not random ones), computed in bulk.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from platform_data import ROLE_WORDS, generate, reset_database
from pydantic import TypeAdapter
from sqlalchemy import select, text

from jobmatch.db.models import Candidate, CandidateJobMatch, Job, User, UserPreferences
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.db.session import get_engine, session_scope
from jobmatch.deadline import Deadline
from jobmatch.embeddings.providers import OfflineEmbeddings, cosine
from jobmatch.embeddings.store import embed_jobs
from jobmatch.matching import service
from jobmatch.matching import store as repo
from jobmatch.matching.scoring import score, stored_fields
from jobmatch.matching.store import JobChunk
from jobmatch.settings import get_settings
from jobmatch.users.profile import match_user
from jobmatch_devkit.localenv import use_local_environment

# None of these modules reads the environment when imported (settings and the
# engine are read on first use; none creates a Powertools logger), so `main()`
# can set it before anything runs.
BUDGET_SECONDS = 20.0


# The chunks as a step's output carries them.
CHUNKS = TypeAdapter(list[JobChunk])


def timed(label: str, steps: list[dict[str, Any]], body: Any) -> Any:
    started = time.perf_counter()
    with session_scope() as s:
        out = body(s)
    steps.append(
        {"step": label, "seconds": time.perf_counter() - started, "bytes": len(json.dumps(out))}
    )
    return out


def engine_run(job_ids: list[int]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The function's step bodies, in order, each in its own session (as Lambda runs them)."""
    settings = get_settings()
    embedder = OfflineEmbeddings(EMBEDDING_DIM)  # what the app builds with AI off
    budget, upsert_batch = settings.matching_pair_budget, settings.matching_score_batch
    steps: list[dict[str, Any]] = []
    for i in range(0, len(job_ids), settings.embedding_batch_size):
        part = job_ids[i : i + settings.embedding_batch_size]
        timed(
            f"ensure-job-embeddings-{i // settings.embedding_batch_size + 1}",
            steps,
            lambda s, part=part: embed_jobs(s, part, embedder),
        )
    planned = timed(
        "find-matching-candidates",
        steps,
        lambda s: CHUNKS.dump_python(
            service.plan_job_chunks(s, job_ids, pair_budget=budget), mode="json"
        ),
    )
    totals: dict[str, int] = {"pairs": 0, "stored": 0, "recommended": 0, "chunks": 0}
    for k, chunk in enumerate(CHUNKS.validate_python(planned)):
        counts = timed(
            f"generate-matches-{k + 1}",
            steps,
            lambda s, chunk=chunk: service.match_job_chunk(s, chunk, upsert_batch=upsert_batch),
        )
        for key in ("pairs", "stored", "recommended"):
            totals[key] += counts[key]
        totals["chunks"] += 1
    return steps, totals


def per_pair_loop(job_ids: list[int], sample: int) -> dict[str, float]:
    """The baseline: `find_matching_candidates` + `generate_matches`, pair by pair."""
    with session_scope() as s:
        started = time.perf_counter()
        role_ids = set(s.scalars(select(Job.normalized_role_id).where(Job.id.in_(job_ids))))
        names = {r.lower() for r in ROLE_WORDS}
        cands = s.scalars(
            select(Candidate).where(
                Candidate.status.in_(["approved", "ready_for_assignment"]),
                Candidate.embedding.is_not(None),
            )
        ).all()
        matching = [
            c
            for c in cands
            if any(
                (isinstance(p, int) and p in role_ids)
                or (isinstance(p, str) and p.lower() in names)
                for p in c.preferred_roles
            )
        ]
        find_seconds = time.perf_counter() - started

        started = time.perf_counter()
        pairs = 0
        for cand in matching[:sample]:
            profile = repo.candidate_profile(cand)
            for job_id in job_ids:
                job = s.get(Job, job_id)
                if job is None or job.embedding is None:
                    continue
                existing = s.scalars(
                    select(CandidateJobMatch).where(
                        CandidateJobMatch.candidate_id == cand.id,
                        CandidateJobMatch.job_id == job.id,
                    )
                ).first()
                pairs += 1
                if existing:
                    continue
                result = score(
                    profile,
                    repo.job_features(job),
                    cosine(list(cand.embedding), list(job.embedding)),
                )
                if result.stored:
                    s.add(
                        CandidateJobMatch(
                            candidate_id=cand.id,
                            job_id=job.id,
                            tenant_id=cand.tenant_id,
                            **stored_fields(result),
                        )
                    )
        s.flush()
        loop_seconds = time.perf_counter() - started
        s.rollback()
    sampled = min(sample, len(matching))
    return {
        "find_seconds": find_seconds,
        "sample_candidates": sampled,
        "sample_pairs": pairs,
        "sample_seconds": loop_seconds,
        "candidates": len(matching),
        "all_pairs": len(matching) * len(job_ids),
        "extrapolated_seconds": find_seconds + loop_seconds * len(matching) / max(sampled, 1),
    }


def user_step_output() -> tuple[int, int]:
    """Bytes of `match-with-fallback`'s output for a user with broad preferences, and
    how many results it holds (at most `user_match_limit`)."""
    with session_scope() as s:
        user = User(email="bench@bench.test")
        s.add(user)
        s.flush()
        skills = sorted(
            {
                sk
                for row in s.scalars(
                    select(Job.skills).where(Job.normalized_role_id.in_([1, 2, 3]))
                )
                for sk in row
            }
        )[:12]
        s.add(
            UserPreferences(
                user_id=user.id,
                roles=ROLE_WORDS[:3],
                skills=skills,
                locations=["Berlin"],
                countries=["DE"],
                remote_ok=True,
            )
        )
        s.flush()
        embedder = OfflineEmbeddings(EMBEDDING_DIM)
        results = match_user(s, user.id, get_settings(), embedder, deadline=Deadline.after(10.0))
        out = {"method": "rules", "results": [r.to_dict() for r in results]}
    return len(json.dumps(out)), len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument(
        "--sample", type=int, default=20, help="candidates timed in the per-pair loop"
    )
    args = parser.parse_args()
    use_local_environment(
        env="test",
        db_name="jobmatch_bench",
        signing_key=None,
        event_key="bench-event-key",
        extra={"POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    settings = get_settings()

    t0 = time.perf_counter()
    reset_database("jobmatch_bench")
    job_ids, embed_seconds = generate(args.candidates, args.jobs)
    with get_engine().begin() as conn:
        conn.execute(text("ANALYZE"))
    print(
        f"data: {args.candidates:,} candidates, {args.jobs:,} jobs, {len(ROLE_WORDS)} roles, "
        f"300 skills; offline embeddings of {args.candidates:,} candidates in "
        f"{embed_seconds:.1f} s; load {time.perf_counter() - t0:.1f} s total"
    )
    print(
        f"limits: pair budget {settings.matching_pair_budget:,}/step, embedding batch "
        f"{settings.embedding_batch_size}/step, upsert batch {settings.matching_score_batch:,}"
    )

    started = time.perf_counter()
    steps, totals = engine_run(job_ids)
    engine_seconds = time.perf_counter() - started
    print(
        f"(a) engine: {engine_seconds:.2f} s for {totals['pairs']:,} role-fitting pairs in "
        f"{totals['chunks']} chunk steps (+ embedding steps) -> {totals['stored']:,} stored, "
        f"{totals['recommended']:,} recommended"
    )

    with session_scope() as s:
        s.execute(text("DELETE FROM candidate_job_matches"))
    loop = per_pair_loop(job_ids, args.sample)
    print(
        f"(b) per-pair loop: find-matching-candidates {loop['find_seconds']:.2f} s "
        f"({loop['candidates']:,} candidates); measured {loop['sample_pairs']:,} pairs "
        f"({loop['sample_candidates']} candidates x {len(job_ids):,} jobs) in "
        f"{loop['sample_seconds']:.2f} s; EXTRAPOLATED to {loop['all_pairs']:,} pairs: "
        f"{loop['extrapolated_seconds']:,.0f} s"
    )
    print(f"    ratio (b)/(a): {loop['extrapolated_seconds'] / engine_seconds:,.0f}x")
    same_pairs = loop["sample_seconds"] / max(loop["sample_pairs"], 1) * totals["pairs"]
    print(
        f"    the loop's per-pair cost over only our {totals['pairs']:,} role-fitting pairs "
        f"(EXTRAPOLATED): {same_pairs:,.0f} s, ratio {same_pairs / engine_seconds:,.1f}x"
    )

    slowest = max(steps, key=lambda x: x["seconds"])
    print(
        f"(c) slowest step: {slowest['step']} {slowest['seconds']:.2f} s vs budget "
        f"{BUDGET_SECONDS:.0f} s ({len(steps)} steps, "
        f"{'OK' if slowest['seconds'] < BUDGET_SECONDS else 'OVER'})"
    )
    biggest = max(steps, key=lambda x: x["bytes"])
    user_bytes, user_results = user_step_output()
    limit = settings.user_match_limit
    print(
        f"(d) largest step output: {biggest['step']} {biggest['bytes']:,} bytes; "
        f"match-with-fallback (top {limit}) {user_bytes:,} bytes ({user_results} results, "
        f"{user_bytes // max(user_results, 1):,} bytes a result: about "
        f"{user_bytes // max(user_results, 1) * limit:,} bytes at the limit)"
    )


if __name__ == "__main__":
    sys.exit(main())
