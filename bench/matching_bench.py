"""Matching benchmark: 1,000 new jobs against 20,000 candidates, on the embedded
PostgreSQL in its own database (`jobmatch_bench`).

    .venv/bin/python bench/matching_bench.py [--candidates 20000] [--jobs 1000]

Prints, from one run on the same data:
 (a) our engine: titles resolved to roles (`resolve-roles`), embeddings, then
     `plan_job_chunks` + one `match_job_chunk` per chunk, each in its
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
import os
import random
import sys
import time
from typing import Any

from sqlalchemy import create_engine, select, text

from jobmatch.ai.embeddings import OfflineEmbeddings, candidate_embedding_text, cosine
from jobmatch.db import migrate
from jobmatch.db.embedded import embedded_database_url
from jobmatch.db.models import Candidate, CandidateJobMatch, Job, User, UserPreferences
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.db.session import get_engine, session_scope
from jobmatch.matching import repository as repo
from jobmatch.matching import service
from jobmatch.matching.embedding_store import embed_jobs
from jobmatch.matching.scoring import score, stored_fields
from jobmatch.roles import repository as roles_repo
from jobmatch.roles import steps as role_steps
from jobmatch.roles.resolver import ResolverLimits
from jobmatch.roles.taxonomy import RoleSpec
from jobmatch.settings import get_settings
from jobmatch_devkit.localenv import use_local_environment

# None of these modules reads the environment when imported (settings and the
# engine are read on first use; none creates a Powertools logger), so `main()`
# can set it before anything runs.
BUDGET_SECONDS = 20.0
ROLE_WORDS = [
    "backend engineer",
    "frontend developer",
    "data engineer",
    "data scientist",
    "devops engineer",
    "site reliability engineer",
    "mobile developer",
    "ios developer",
    "android developer",
    "qa engineer",
    "security engineer",
    "cloud architect",
    "machine learning engineer",
    "product manager",
    "project manager",
    "business analyst",
    "ux designer",
    "ui designer",
    "technical writer",
    "scrum master",
    "database administrator",
    "network engineer",
    "systems administrator",
    "embedded engineer",
    "firmware engineer",
    "game developer",
    "solutions architect",
    "sales engineer",
    "support engineer",
    "registered nurse",
    "nurse practitioner",
    "pharmacist",
    "physiotherapist",
    "medical assistant",
    "accountant",
    "financial analyst",
    "auditor",
    "tax advisor",
    "payroll specialist",
    "hr generalist",
    "recruiter",
    "marketing manager",
    "content writer",
    "seo specialist",
    "graphic designer",
    "video editor",
    "electrician",
    "plumber",
    "mechanical engineer",
    "civil engineer",
    "architect",
    "teacher",
    "lecturer",
    "lawyer",
    "paralegal",
    "logistics coordinator",
    "warehouse manager",
    "truck driver",
    "chef",
    "customer service agent",
]
CITIES = [
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Hamburg", "DE"),
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("Madrid", "ES"),
    ("Lisbon", "PT"),
    ("Amsterdam", "NL"),
    ("Warsaw", "PL"),
    ("Vienna", "AT"),
    ("Dublin", "IE"),
    ("Milan", "IT"),
]
SYLLABLES = [
    "py",
    "ja",
    "ro",
    "ku",
    "te",
    "la",
    "mi",
    "so",
    "na",
    "ve",
    "do",
    "ri",
    "ka",
    "lo",
    "zen",
    "tor",
    "flux",
    "net",
    "gra",
    "sql",
]


def skill_vocabulary(rng: random.Random, size: int = 300) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def reset_database() -> None:
    url = embedded_database_url(os.environ["DATA_DIR"], "jobmatch_bench")
    admin = create_engine(
        url.replace("/jobmatch_bench?", "/postgres?"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "jobmatch_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "jobmatch_bench"'))
    admin.dispose()
    migrate.upgrade("heads")


def vec(values: list[float]) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in values) + "]"


def generate(n_candidates: int, n_jobs: int, seed: int = 7) -> tuple[list[int], float]:
    """Insert roles, tenants, candidates (with embeddings) and new jobs (without:
    the function embeds them). Returns the job ids and the seconds spent embedding."""
    rng = random.Random(seed)
    vocab = skill_vocabulary(rng)
    clusters = {i + 1: rng.sample(vocab, 15) for i in range(len(ROLE_WORDS))}
    provider = OfflineEmbeddings(EMBEDDING_DIM)
    with session_scope() as s:
        specs = [
            RoleSpec(
                code=f"bench:{i + 1}",
                name=name,
                aliases=(name.replace("engineer", "developer"),),
                description="",
                group_code=None,
                group_name=None,
                parent_code=None,
                source="bench",
            )
            for i, name in enumerate(ROLE_WORDS)
        ]
        roles_repo.load_taxonomy(s, specs)  # ids 1..60 in order, as before
        roles_repo.embed_missing(s, provider, 10_000)
        for t in range(1, 5):
            s.execute(
                text("INSERT INTO tenants (id, name) VALUES (:i, :n)"), {"i": t, "n": f"Tenant {t}"}
            )

    candidates: list[Candidate] = []
    for i in range(n_candidates):
        roles = rng.sample(range(1, len(ROLE_WORDS) + 1), rng.randint(1, 3))
        core = [sk for r in roles for sk in rng.sample(clusters[r], 4)]
        city, country = rng.choice(CITIES)
        c = Candidate(
            id=i + 1,
            tenant_id=rng.randint(1, 4),
            first_name=f"F{i}",
            last_name=f"L{i}",
            email=f"c{i}@bench.test",
            status=rng.choices(
                ["approved", "ready_for_assignment", "pending", "inactive"], [60, 25, 10, 5]
            )[0],
            preferred_roles=[ROLE_WORDS[r - 1] if rng.random() < 0.5 else r for r in roles],
            preferred_role_ids=sorted(roles),
            skills=sorted(set(core + rng.sample(vocab, 3))),
            experience_years=rng.randint(0, 15),
            location=city,
            country=country,
            remote_ok=rng.random() < 0.5,
            salary_expectation=rng.randrange(30_000, 110_000, 5_000),
        )
        candidates.append(c)
    started = time.perf_counter()
    c_vectors = provider.embed([candidate_embedding_text(c) for c in candidates])
    embed_seconds = time.perf_counter() - started

    raw = get_engine().raw_connection()
    try:
        cur = raw.cursor()
        cols = (
            "id, tenant_id, first_name, last_name, email, status, preferred_roles, "
            "preferred_role_ids, skills, experience_years, location, country, remote_ok, "
            "salary_expectation, embedding"
        )
        with cur.copy(f"COPY candidates ({cols}) FROM STDIN") as copy:
            for c, v in zip(candidates, c_vectors, strict=True):
                copy.write_row(
                    (
                        c.id,
                        c.tenant_id,
                        c.first_name,
                        c.last_name,
                        c.email,
                        c.status,
                        json.dumps(c.preferred_roles),
                        c.preferred_role_ids,
                        c.skills,
                        c.experience_years,
                        c.location,
                        c.country,
                        c.remote_ok,
                        c.salary_expectation,
                        vec(v),
                    )
                )
        jcols = (
            "id, job_hash, title, company, skills, location, country, "
            "remote, salary_min, salary_max, currency, experience_min, description, source, "
            "status"
        )
        with cur.copy(f"COPY jobs ({jcols}) FROM STDIN") as copy:
            for j in range(n_jobs):
                role = rng.randint(1, len(ROLE_WORDS))
                skills = rng.sample(clusters[role], rng.randint(4, 8))
                city, country = rng.choice(CITIES)
                low = rng.randrange(35_000, 95_000, 5_000)
                title = ("Senior " if rng.random() < 0.3 else "") + ROLE_WORDS[role - 1].title()
                copy.write_row(
                    (
                        j + 1,
                        f"{j + 1:064x}",
                        title,
                        f"Company {j % 400}",
                        skills,
                        city,
                        country,
                        rng.random() < 0.4,
                        low,
                        low + 20_000,
                        "EUR",
                        rng.randint(0, 8),
                        f"{title} at Company {j % 400}. Work with {', '.join(skills)}.",
                        "bench",
                        "active",
                    )
                )
        raw.commit()
    finally:
        raw.close()
    return list(range(1, n_jobs + 1)), embed_seconds


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
    limits = ResolverLimits.from_settings(settings)
    for i in range(0, len(job_ids), settings.role_resolve_batch):
        part = job_ids[i : i + settings.role_resolve_batch]
        timed(
            f"resolve-roles-{i // settings.role_resolve_batch + 1}",
            steps,
            lambda s, part=part: role_steps.resolve_jobs(part, embedder, limits, True),
        )
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
        lambda s: {
            "chunks": [
                c.to_dict()
                for c in service.plan_job_chunks(
                    s, job_ids, pair_budget=budget, unresolved_k=settings.unresolved_match_k
                )
            ]
        },
    )
    totals: dict[str, int] = {"pairs": 0, "stored": 0, "recommended": 0, "chunks": 0}
    for k, raw_chunk in enumerate(planned["chunks"]):
        chunk = repo.JobChunk.from_dict(raw_chunk)
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


def user_step_output() -> int:
    """Bytes of `match-with-fallback`'s output for a user with broad preferences."""
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
        results = service.match_user(s, user.id, get_settings(), embedder, time_budget=10.0)
        out = {"method": "rules", "results": [r.to_dict() for r in results]}
    return len(json.dumps(out))


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
    reset_database()
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
    user_bytes = user_step_output()
    print(
        f"(d) largest step output: {biggest['step']} {biggest['bytes']:,} bytes; "
        f"match-with-fallback (top {settings.user_match_limit}) {user_bytes:,} bytes"
    )


if __name__ == "__main__":
    sys.exit(main())
