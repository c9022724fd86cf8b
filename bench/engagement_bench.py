"""Engagement benchmark: a batch of new jobs and the daily digest at platform size.

    .venv/bin/python bench/engagement_bench.py [--scale 1.0]

At scale 1: 100,000 users (one or two preferred roles each, named by role name or
alias, spread over time zones, half in Europe/Berlin) and a batch of 1,000 new
jobs over 60 roles, in a fresh embedded database (`jobmatch_engagement_bench`).
`--scale 0.1` runs 10,000 users and 100 jobs.

Prints, from one run on the same data:
 (a) `alert-new-jobs` through the Lambda handler and the Inngest driver (only that
     function served, so the chunk events it fans out are counted, not run): its
     wall time and each step's, next to the baseline it replaces, a query per user
     (the user's roles resolved, then the batch's jobs of those roles), timed on a
     sample of users and extrapolated linearly (printed as such);
 (b) the first chunks' `send-alerts` steps (outbox mail backend);
 (c) `daily-digest` at 09:30 in Berlin through the handler (plan + fan-out), one
     `send-digest-chunk` run (select + fan-out of its users), and a sample of
     `send-digest` steps: the slowest digest step against the 20 s budget;
 (d) the largest step output of all of them against the 64 KB target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import Run
from jobmatch_devkit.localenv import BENCH_EVENT_KEY, use_bench_environment

SIGNING_KEY = "signkey-bench-" + "ef" * 32
DB_NAME = "jobmatch_engagement_bench"
use_bench_environment(DB_NAME, SIGNING_KEY)
# jobmatch is imported inside the functions below, after this environment is set.

STEP_BUDGET_S = 20.0
OUTPUT_TARGET_B = 64 * 1024
AS_OF = "2026-03-02T08:30:00+00:00"  # 09:30 in Berlin
FIELDS = ["backend", "frontend", "data", "mobile", "cloud", "security", "qa", "ml", "platform"]
FIELDS.append("embedded")
KINDS = ["engineer", "developer", "analyst", "architect", "manager", "specialist"]
ZONES = ["Europe/Berlin"] * 5 + [
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Lisbon",
    "Australia/Sydney",
]


def fresh_database() -> None:
    """The bench database, migrated and empty."""
    from jobmatch.db import migrate
    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    migrate.upgrade("heads")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def load_data(users: int, jobs: int) -> list[int]:
    """Roles, users with preferences, the batch's jobs, and five stored matches for
    every Berlin user (in bulk SQL); returns the batch's job ids."""
    from jobmatch.db.session import get_engine

    roles = [f"{f} {k}" for f in FIELDS for k in KINDS]
    with get_engine().begin() as conn:
        conn.execute(
            text("INSERT INTO global_roles (name, aliases) SELECT r, ARRAY[r || ' (m/f/d)'] "
                 "FROM unnest(CAST(:roles AS text[])) r"),
            {"roles": roles},
        )  # fmt: skip
        conn.execute(
            text("""
                INSERT INTO users (email, name, timezone, is_premium)
                SELECT 'user' || g || '@example.com', 'User ' || g,
                       (CAST(:zones AS text[]))[1 + g % 10], g % 20 = 0
                FROM generate_series(1, :n) g
            """),
            {"n": users, "zones": ZONES},
        )
        conn.execute(
            text("""
                INSERT INTO user_preferences (user_id, roles, skills, remote_ok)
                SELECT u.id,
                       ARRAY[CASE WHEN u.id % 2 = 0 THEN r1.name ELSE r1.name || ' (m/f/d)' END]
                       || CASE WHEN u.id % 3 = 0 THEN ARRAY[r2.name] ELSE '{}' END,
                       ARRAY['python', 'sql'], true
                FROM users u
                JOIN global_roles r1 ON r1.id = 1 + u.id % 60
                JOIN global_roles r2 ON r2.id = 1 + (u.id * 7) % 60
            """)
        )
        job_ids = conn.execute(
            text("""
                INSERT INTO jobs (job_hash, title, company, normalized_role_id, skills, location,
                                  remote, description, source, status)
                SELECT md5('bench-' || g), initcap(r.name) || ' (m/f/d) - Remote',
                       'Company ' || (g % 300), r.id, ARRAY['python', 'sql', 'docker'],
                       'Berlin', true, 'Synthetic job ' || g, 'bench', 'active'
                FROM generate_series(1, :n) g JOIN global_roles r ON r.id = 1 + g % 60
                RETURNING id
            """),
            {"n": jobs},
        ).scalars()
        batch = sorted(int(j) for j in job_ids)
        conn.execute(
            text("""
                INSERT INTO user_matches (user_email, job_hash, score, skill_score,
                    experience_score, location_score, salary_score, semantic_score,
                    method, is_recommended)
                SELECT u.email, j.job_hash, 50 + (u.id * j.id) % 50, 70, 100, 100, 70, 60,
                       'rules', (u.id * j.id) % 50 >= 20
                FROM users u
                CROSS JOIN LATERAL (
                    SELECT id, job_hash FROM jobs ORDER BY id
                    OFFSET (u.id % GREATEST(1, :jobs - 5)) LIMIT 5
                ) j
                WHERE u.timezone = 'Europe/Berlin'
            """),
            {"jobs": jobs},
        )
        conn.execute(text("ANALYZE"))
    return batch


def per_user_baseline(batch: list[int], sample: int) -> float:
    """Seconds per user of the loop the set-based query replaces: for each user, read
    the preferences, resolve the roles, then query the batch's jobs of those roles."""
    from jobmatch.db.models import Job, UserPreferences
    from jobmatch.db.session import session_scope
    from jobmatch.matching.store import resolve_preferred_roles

    with session_scope() as session:
        ids = list(session.scalars(select(UserPreferences.user_id).limit(sample)))
    started = time.perf_counter()
    with session_scope() as session:
        for user_id in ids:
            prefs = session.get(UserPreferences, user_id)
            assert prefs is not None
            role_ids = resolve_preferred_roles(session, prefs.roles)
            session.scalars(
                select(Job.id).where(Job.id.in_(batch), Job.normalized_role_id.in_(role_ids))
            ).all()
    return (time.perf_counter() - started) / len(ids)


def driver_serving(fn_ids: set[str], event_api: EventAPI) -> InngestDriver:
    """A driver for a handler serving only these functions: events they send to
    others are accepted by the event API and left unrun."""
    from mangum import Mangum

    from jobmatch.app import create_app
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings
    from jobmatch.workflows.registry import create_all_functions

    deps = Dependencies(get_settings())
    served = [f for f in create_all_functions(deps) if f.local_id in fn_ids]
    handler = Mangum(create_app(deps, served), lifespan="off", api_gateway_base_path="/")
    driver = InngestDriver(handler, signing_key=SIGNING_KEY, event_api=event_api)
    driver.sync()
    return driver


def steps_of(run: Run) -> list[tuple[str, float, int]]:
    """(step id, seconds of the call that ran it, output bytes) for each executed step."""
    by_hash = {s.hashed_id: s for s in run.steps}
    out = []
    for exchange in run.exchanges:
        for op, hashed in exchange.ops:
            step = by_hash.get(hashed)
            if step is not None and op in ("StepRun", "Step"):
                size = len(json.dumps(step.output).encode())
                out.append((step.id, exchange.seconds, size))
    return out


def timed(name: str, body: Any, deps: Any, inp: Any) -> tuple[str, float, int]:
    """A step body run here: (name, seconds, bytes of its output on the wire)."""
    started = time.perf_counter()
    result = body(deps, inp)
    return name, time.perf_counter() - started, len(json.dumps(body.to_json(result)).encode())


def main() -> None:
    from jobmatch.alerts import digest, new_jobs
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    users, jobs = int(100_000 * args.scale), int(1_000 * args.scale)
    event_api = EventAPI(event_key=BENCH_EVENT_KEY, signing_keys=(SIGNING_KEY,)).start()
    os.environ["INNGEST_BASE_URL"] = event_api.url
    settings = get_settings()
    deps = Dependencies(settings)

    fresh_database()
    started = time.perf_counter()
    batch = load_data(users, jobs)
    print(f"{users:,} users, a batch of {len(batch):,} new jobs over 60 roles "
          f"(data loaded in {time.perf_counter() - started:.1f} s)")  # fmt: skip
    rows: list[tuple[str, float, int]] = []

    # (a) the fan-out, through the handler, against the per-user loop
    driver = driver_serving({"alert-new-jobs"}, event_api)
    started = time.perf_counter()
    [run] = driver.send("jobs/new-batch", {"jobIds": batch, "source": "bench"})
    fan_out = time.perf_counter() - started
    assert run.status == "completed", run.error
    alert_steps = steps_of(run)
    rows += [(f"alert-new-jobs/{s}", sec, size) for s, sec, size in alert_steps]
    sample = min(1_000, users)
    per_user = per_user_baseline(batch, sample)
    print("\n(a) jobs/new-batch fan-out (alert-new-jobs through the handler)")
    print(f"  recipients {run.output['recipients']:,} in {run.output['chunks']:,} chunks "
          f"of {settings.alert_users_per_chunk}")  # fmt: skip
    print(
        f"  our function: {fan_out:.2f} s wall, steps: "
        + ", ".join(f"{s} {sec:.2f} s" for s, sec, _ in alert_steps)
    )
    print(f"  baseline, a query per user: {per_user * 1000:.2f} ms/user measured on {sample:,}, "
          f"{per_user * users:.1f} s for {users:,} users, extrapolated "
          f"(ratio {per_user * users / fan_out:.1f}x)")  # fmt: skip

    # (b) sending: the first chunks' steps
    batch_id = run.output["batch_id"]
    chunking = new_jobs.Chunking(batch_id=batch_id, users_per_chunk=settings.alert_users_per_chunk)
    chunks = new_jobs.plan_chunks(deps, chunking)
    budget = settings.step_budget_seconds
    sends = [
        timed("send-new-job-alerts/send-alerts", new_jobs.send_alert_chunk, deps,
              new_jobs.AlertChunk(batch_id=batch_id, after=a, upto=b, budget_seconds=budget))
        for a, b in chunks[:5]
    ]  # fmt: skip
    rows += sends
    print("\n(b) send-alerts steps (first 5 chunks, outbox backend): "
          + ", ".join(f"{sec:.2f} s" for _, sec, _ in sends))  # fmt: skip

    # (c) the digest: plan + fan-out, one chunk, a sample of users
    driver = driver_serving({"daily-digest"}, event_api)
    [run] = driver.send("digest/run.requested", {"asOf": AS_OF})
    assert run.status == "completed", run.error
    rows += [(f"daily-digest/{s}", sec, size) for s, sec, size in steps_of(run)]
    chunk_event = next(e for e in event_api.received() if e["name"] == "digest/chunk.requested")
    chunk_driver = driver_serving({"send-digest-chunk"}, event_api)
    [chunk_run] = chunk_driver.send_events([chunk_event])
    assert chunk_run.status == "completed", chunk_run.error
    rows += [(f"send-digest-chunk/{s}", sec, size) for s, sec, size in steps_of(chunk_run)]
    as_of = datetime.fromisoformat(AS_OF)
    chunk = digest.Chunk(as_of=as_of, hour=settings.digest_hour, after=0, upto=None)
    due = [(u, on.local_date) for on in digest.due_users(deps, chunk) for u in on.user_ids][:200]
    random.Random(7).shuffle(due)
    rows += [
        timed("send-user-digest/send-digest", digest.send_user_digest, deps,
              digest.DigestFor(user_id=u, digest_date=day, max_jobs=settings.digest_max_jobs))
        for u, day in due[:50]
    ]  # fmt: skip
    digest_rows = [r for r in rows if "digest" in r[0]]
    print(f"\n(c) daily digest at {AS_OF} (09:30 in Berlin): {run.output['due']:,} users due, "
          f"{run.output['chunks']} chunks of {settings.digest_users_per_chunk}")  # fmt: skip
    for name in dict.fromkeys(r[0] for r in digest_rows):
        secs = [r[1] for r in digest_rows if r[0] == name]
        print(f"  {name}: {len(secs)} timed, slowest {max(secs):.2f} s")

    slowest = max(rows, key=lambda r: r[1])
    slowest_digest = max(digest_rows, key=lambda r: r[1])
    largest = max(rows, key=lambda r: r[2])
    verdict = "OK" if slowest[1] < STEP_BUDGET_S else "OVER"
    print(
        f"\nslowest step: {slowest[0]} {slowest[1]:.2f} s (budget {STEP_BUDGET_S:.0f} s: {verdict})"
    )
    print(f"slowest digest step: {slowest_digest[0]} {slowest_digest[1]:.2f} s")
    size_verdict = "OK" if largest[2] < OUTPUT_TARGET_B else "OVER"
    print(f"largest step output: {largest[0]} {largest[2]:,} B "
          f"(target {OUTPUT_TARGET_B:,} B: {size_verdict})")  # fmt: skip
    event_api.stop()


if __name__ == "__main__":
    main()
