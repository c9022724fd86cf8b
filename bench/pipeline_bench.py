"""Job pipeline benchmark: board ingestion, expiry and skill extraction at platform
size, through the Lambda handler driven like Inngest Cloud (signed requests,
memoized steps sent back on every call), against the embedded PostgreSQL.

1. `hourly-job-ingestion` over 1,000 companies x 100 postings, served by the fake
   Ashby / Greenhouse / Lever APIs on 127.0.0.1 (a third each; ~1.5 KB of HTML per
   posting). Baseline: the same boards fetched and stored one after another in
   one step, which is what a single hourly step would have to do.
2. `expire-old-jobs` over 100,000 jobs past 30 days, each with a candidate match
   and a user match. Baseline, measured on the same rows: one UPDATE of every old
   job plus one DELETE of their matches, the two statements of a single step.
3. `daily-skill-extraction` over 10,000 untagged jobs, offline (no LLM). Baseline:
   one run per job (`job/extract-skills`) on a sample.

Each part prints the slowest step call (budget 20 s) and the largest step output
(budget 64 KB). `--scale 0.1` runs everything at a tenth of the size.

    python bench/pipeline_bench.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

from mangum import Mangum
from sqlalchemy import func, select, text

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.bench_report import budget_lines, step_table
from jobmatch_devkit.job_boards import FakeJobBoards, synthetic_board
from jobmatch_devkit.localenv import BENCH_EVENT_KEY, use_bench_environment

SIGNING_KEY = "signkey-bench-" + "ef" * 32
DB_NAME = "jobmatch_pipeline_bench"
use_bench_environment(DB_NAME, SIGNING_KEY)
# jobmatch is imported inside the functions below, after this environment is set.

PROVIDERS = ("ashby", "greenhouse", "lever")
BASELINE_TAG_SAMPLE = 200


def fresh_database() -> None:
    from jobmatch.db import migrate
    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    migrate.upgrade("heads")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def report(title: str, runs: list[Any], extra: list[str]) -> None:
    rows = step_table(runs)
    print(title)
    for line in [*extra, *budget_lines(rows)]:
        print(f"  {line}")


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def ingestion(
    driver: InngestDriver, boards: FakeJobBoards, deps: Any, companies: int, postings: int
) -> None:
    from jobmatch.db.models import Company, Job
    from jobmatch.db.session import session_scope
    from jobmatch.ingestion.steps import CompanyBoard, ingest_board

    with session_scope() as session:
        for n in range(companies):
            provider = PROVIDERS[n % 3]
            token = f"bench-{provider}-{n:04d}"
            boards.add_board(provider, token, synthetic_board(provider, token, postings))
            session.add(
                Company(
                    name=token,
                    provider=provider,
                    board_token=token,
                    discovered_via="bench",
                    active=True,
                )
            )
    hourly, seconds = timed(lambda: driver.run_cron("hourly-job-ingestion"))
    runs = [hourly, *driver.runs_of("ingest-company")]
    with session_scope() as session:
        stored = session.scalar(select(func.count()).select_from(Job)) or 0
    steps = [r for r in step_table(runs) if r["step"] == "fetch-and-store"]
    per_board = sorted(r["seconds"] for r in steps)
    # Baseline: a sample of boards stored again from scratch, back to back, as one
    # step doing every board would.
    sample = max(1, companies // 20)
    with session_scope() as session:
        session.execute(text("DELETE FROM jobs WHERE company_id <= :n"), {"n": sample})
    _, sample_s = timed(
        lambda: [ingest_board(deps, CompanyBoard(company_id=c)) for c in range(1, sample + 1)]
    )
    one_step = sample_s / sample * companies
    report(
        f"hourly ingestion of {companies:,} companies x {postings} postings",
        runs,
        [
            f"runs: {len(runs) - 1:,} ingest-company ({sum(r.status == 'completed' for r in runs)} "
            f"completed incl. the fan-out); jobs stored: {stored:,}; wall {seconds:.1f} s",
            f"fetch-and-store per board: median {per_board[len(per_board) // 2]:.2f} s, "
            f"max {per_board[-1]:.2f} s",
            f"baseline, every board in one step: {one_step:,.0f} s "
            f"(extrapolated from {sample} boards back to back, {sample_s:.1f} s) "
            f"= {one_step / 20:,.0f}x the 20 s budget",
        ],
    )


def expiry(driver: InngestDriver, count: int) -> None:
    from jobmatch.db.session import session_scope

    seed_old_jobs(count)
    first, seconds = timed(lambda: driver.run_cron("expire-old-jobs"))
    runs = driver.runs_of("expire-old-jobs")
    with session_scope() as session:
        expired = session.scalar(text("SELECT count(*) FROM jobs WHERE status = 'expired'"))
        left = session.scalar(text("SELECT count(*) FROM candidate_job_matches"))
        session.execute(text("UPDATE jobs SET status = 'active', expired_at = NULL"))
    seed_matches()
    with session_scope() as session:  # the single step it replaces: two statements
        _, baseline = timed(
            lambda: (
                session.execute(
                    text("""
                    UPDATE jobs SET status = 'expired'
                    WHERE status = 'active' AND (posted_date <= current_date - 30
                          OR imported_at <= now() - interval '30 days')
                """)
                ),
                session.execute(
                    text("""
                    DELETE FROM candidate_job_matches WHERE job_id IN
                        (SELECT id FROM jobs WHERE status = 'expired')
                """)
                ),
            )
        )
    report(
        f"expiry of {count:,} jobs (one candidate and one user match each)",
        runs,
        [
            f"runs: {len(runs)} ({', '.join(str(len(r.steps)) for r in runs)} steps); "
            f"expired {expired:,}, candidate matches left {left}; wall {seconds:.1f} s; "
            f"first run: {first.output}",
            f"baseline, one step (UPDATE all + DELETE their matches): {baseline:.1f} s, "
            "and it grows with the backlog",
        ],
    )


def seed_old_jobs(count: int) -> None:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        session.execute(text("TRUNCATE jobs RESTART IDENTITY CASCADE"))
        session.execute(
            text("""
                INSERT INTO jobs (job_hash, title, company, location, remote, description,
                                  source, status, imported_at, posted_date)
                SELECT md5(g::text) || md5(g::text), 'Backend Engineer', 'Acme ' || g % 500,
                       'Berlin', false, '', 'bench', 'active', now() - interval '40 days',
                       current_date - 45
                FROM generate_series(1, :n) AS g
            """),
            {"n": count},
        )
        session.execute(
            text("INSERT INTO tenants (id, name) VALUES (1, 'Bench') ON CONFLICT DO NOTHING")
        )
        session.execute(
            text("""
                INSERT INTO candidates (id, tenant_id, first_name, last_name, email, status,
                                        remote_ok)
                VALUES (1, 1, 'A', 'B', 'a@bench.test', 'approved', true)
                ON CONFLICT DO NOTHING
            """)
        )
    seed_matches()


def seed_matches() -> None:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        session.execute(
            text("""
                INSERT INTO candidate_job_matches (candidate_id, job_id, tenant_id, score,
                    skill_score, experience_score, location_score, salary_score,
                    semantic_score, is_recommended)
                SELECT 1, id, 1, 60, 60, 60, 60, 60, 50, false FROM jobs ON CONFLICT DO NOTHING
            """)
        )
        session.execute(
            text("""
                INSERT INTO user_matches (user_email, job_hash, score, skill_score,
                    experience_score, location_score, salary_score, semantic_score, method,
                    is_recommended)
                SELECT 'u@bench.test', job_hash, 60, 60, 60, 60, 60, 50, 'rules', false FROM jobs
                ON CONFLICT DO NOTHING
            """)
        )


def skills(driver: InngestDriver, count: int) -> None:
    from jobmatch.db.session import session_scope
    from jobmatch.ingestion.postings import lever_postings
    from jobmatch.jobs.importing import import_jobs

    with session_scope() as session:
        session.execute(text("TRUNCATE jobs RESTART IDENTITY CASCADE"))
    board = lever_postings(synthetic_board("lever", "skills-bench", count), "Acme")
    assert board is not None
    for start in range(0, count, 1000):
        with session_scope() as session:
            import_jobs(session, board.jobs[start : start + 1000])
    daily, seconds = timed(lambda: driver.run_cron("daily-skill-extraction"))
    chunks = driver.runs_of("extract-skills-chunk")
    extract = [r for r in step_table(chunks) if r["step"].startswith("extract")]
    busy = sum(r["seconds"] for r in extract)
    tagged = sum(r.output["jobs"] for r in chunks if r.output)
    tags = sum(r.output["tags"] for r in chunks if r.output)
    # Baseline: one run per job, on jobs not tagged yet.
    with session_scope() as session:
        sample = [
            int(i)
            for i in session.scalars(
                text("SELECT id FROM jobs ORDER BY id LIMIT :n"), {"n": BASELINE_TAG_SAMPLE}
            )
        ]
        session.execute(
            text("UPDATE jobs SET skills_extracted_at = NULL WHERE id = ANY(:ids)"), {"ids": sample}
        )
    _, per_job = timed(
        lambda: driver.send_events(new_event("job/extract-skills", {"jobId": i}) for i in sample)
    )
    report(
        f"skill extraction of {count:,} jobs, offline",
        [daily, *chunks],
        [
            f"chunk runs: {len(chunks)}; jobs tagged {tagged:,} with {tags:,} tags "
            f"({tags / max(tagged, 1):.1f} a job); wall {seconds:.1f} s",
            f"throughput: {tagged / max(busy, 1e-9):,.0f} jobs/s in extract steps "
            f"({tagged / max(seconds, 1e-9):,.0f} jobs/s wall, driver included)",
            f"baseline, one run per job ({len(sample)} jobs): "
            f"{len(sample) / per_job:,.0f} jobs/s wall",
        ],
    )


def main() -> None:
    from jobmatch.app import create_app
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings
    from jobmatch.skills.steps import ensure_taxonomy
    from jobmatch.workflows import jobs as job_functions
    from jobmatch.workflows import skills as skill_functions

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    scale = args.scale

    event_api = EventAPI(event_key=BENCH_EVENT_KEY, signing_keys=(SIGNING_KEY,)).start()
    os.environ["INNGEST_BASE_URL"] = event_api.url
    fresh_database()
    with FakeJobBoards() as boards:
        settings = get_settings().model_copy(update=boards.api_urls())
        deps = Dependencies(settings)
        ensure_taxonomy(deps)
        # Only the pipeline's functions: the jobs/imported these runs announce would
        # start candidate matching, which bench/matching_bench.py measures.
        functions = [*job_functions.create_functions(deps), *skill_functions.create_functions(deps)]
        handler = Mangum(create_app(deps, functions=functions), lifespan="off")
        driver = InngestDriver(handler, signing_key=SIGNING_KEY, event_api=event_api)
        driver.sync()
        print(f"job pipeline benchmark, scale {scale}")
        ingestion(driver, boards, deps, max(3, round(1000 * scale)), 100)
        expiry(driver, max(1000, round(100_000 * scale)))
        skills(driver, max(500, round(10_000 * scale)))
    event_api.stop()


if __name__ == "__main__":
    main()
