"""Cost per unit of work: requests, steps, billed duration and dollars.

Every Inngest step is one POST to /api/inngest: one API Gateway request and one
Lambda invocation. So what a unit of work costs is counted, not estimated, by
running it through the real Lambda handler (wrapped in a meter) and the devkit
driver playing Inngest Cloud, on the embedded PostgreSQL:

 (a) one synchronous free signup: the API call, the durable `perform-ai-matching`
     run and whatever it triggers (averaged over --signups);
 (b) one batch of --jobs imported jobs (matching_bench's data, posted through
     POST /api/jobs/import in batches of 500) matched against --candidates;
 (c) one tender sync of --releases OCDS releases (cron run, enrichment fan-out,
     alerts to 200 subscribers), from the fake publisher.

Billed duration is each invocation's wall time rounded up to 1 ms, as Lambda
bills it, times the template's MemorySize. Measured on this machine with AI off
(no Bedrock latency or model charges); Lambda's arm64 share of a core at 1 GB is
slower, so treat the duration as a floor. Request and step counts do not depend
on the machine.

    python bench/cost_bench.py [--signups 20] [--jobs 1000] [--candidates 20000]
                               [--releases 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobmatch_devkit.localenv import BENCH_EVENT_KEY, use_bench_environment

SIGNING_KEY = "signkey-bench-" + "ef" * 32
API_KEY = "cost-bench-api-key-0123456789"
DB_NAME = "jobmatch_cost_bench"
use_bench_environment(DB_NAME, SIGNING_KEY, API_KEY)

from inngest_harness.driver import InngestDriver  # noqa: E402
from inngest_harness.eventapi import EventAPI  # noqa: E402
from inngest_harness.records import Run  # noqa: E402
from jobmatch_devkit.apiclient import ApiClient  # noqa: E402
from jobmatch_devkit.ocds_publisher import OCDSPublisher, synthetic_releases  # noqa: E402

EVENT_API = EventAPI(event_key=BENCH_EVENT_KEY, signing_keys=(SIGNING_KEY,)).start()
os.environ["INNGEST_BASE_URL"] = EVENT_API.url

from lambda_env import memory_size  # noqa: E402
from platform_data import ROLE_WORDS, generate, reset_database  # noqa: E402
from sqlalchemy import delete, select, text  # noqa: E402

from jobmatch.db.models import Job, SyncState, TenderAlertSubscription  # noqa: E402
from jobmatch.db.session import get_engine, session_scope  # noqa: E402
from jobmatch.settings import get_settings  # noqa: E402

# AWS list prices, first tier, us-east-1 (Lambda's are the same in eu-west-1), as
# published on aws.amazon.com/lambda/pricing and aws.amazon.com/api-gateway/pricing,
# read 2026-11-23. HTTP API requests are metered in 512 KB steps.
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
HTTP_API_USD_PER_MILLION_REQUESTS = 1.00
HTTP_API_METERING_BYTES = 512 * 1024
# Inngest bills executions: one function run or one step is one execution
# (inngest.com/docs/durable-execution/limits; Pro includes 1 million a month).
# ASSUMPTION: $50 per further million; the overage rate is on inngest.com/pricing,
# which could not be read from here. Change it with --inngest-usd-per-million.
INNGEST_USD_PER_MILLION_EXECUTIONS = 50.0
SYNCS_PER_MONTH = 2 * 24 * 30
GOAL_SIGNUP_REQUESTS = 5
GOAL_REQUESTS_PER_1000_JOBS = 50
IMPORT_BATCH = 500
# What the scraper sends of a job (besides its id and skills), as the import route takes it.
IMPORTED_FIELDS = (
    "title",
    "company",
    "location",
    "country",
    "remote",
    "salary_min",
    "salary_max",
    "currency",
    "experience_min",
    "description",
)
STEP_BUDGET_MS = 20_000
START = datetime(2025, 3, 1, tzinfo=UTC)


@dataclass
class Call:
    """One Lambda invocation: what it served, its billed ms and its request bytes."""

    path: str
    billed_ms: int
    request_bytes: int


class MeteredHandler:
    """The Lambda handler, recording every invocation as Lambda and the gateway bill it."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self.handler = handler
        self.calls: list[Call] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.handler(event, context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.calls.append(
                Call(event["rawPath"], math.ceil(elapsed_ms), len(json.dumps(event).encode()))
            )


@dataclass
class Usage:
    """What one unit of work made AWS and Inngest bill."""

    api_requests: int
    inngest_requests: int
    runs: int
    steps: int
    billed_ms: int
    gateway_units: int  # HTTP API requests as metered (512 KB each)
    slowest_ms: int

    @classmethod
    def of(cls, calls: list[Call], runs: list[Run]) -> Usage:
        inngest = [c for c in calls if c.path.startswith("/api/inngest")]
        return cls(
            api_requests=len(calls) - len(inngest),
            inngest_requests=len(inngest),
            runs=len(runs),
            steps=sum(len(run.steps) for run in runs),
            billed_ms=sum(c.billed_ms for c in calls),
            gateway_units=sum(math.ceil(c.request_bytes / HTTP_API_METERING_BYTES) for c in calls),
            slowest_ms=max((c.billed_ms for c in calls), default=0),
        )

    def scaled(self, factor: float) -> dict[str, float]:
        """Counts per unit when this usage covered `1 / factor` units."""
        return {
            "api": self.api_requests * factor,
            "inngest": self.inngest_requests * factor,
            "runs": self.runs * factor,
            "steps": self.steps * factor,
            "executions": (self.runs + self.steps) * factor,
            "billed_ms": self.billed_ms * factor,
            "gateway_units": self.gateway_units * factor,
        }


def dollars(unit: dict[str, float], memory_mb: int, inngest_price: float) -> dict[str, float]:
    """List-price dollars of one unit, by what is billed."""
    invocations = unit["api"] + unit["inngest"]
    gb_seconds = unit["billed_ms"] / 1000 * memory_mb / 1024
    return {
        "lambda_requests": invocations * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6,
        "lambda_duration": gb_seconds * LAMBDA_ARM_USD_PER_GB_SECOND,
        "http_api": unit["gateway_units"] * HTTP_API_USD_PER_MILLION_REQUESTS / 1e6,
        "inngest": unit["executions"] * inngest_price / 1e6,
    }


def runs_since(driver: InngestDriver, mark: int) -> list[Run]:
    runs = driver.runs[mark:]
    failed = [r.function_id for r in runs if r.status != "completed"]
    if failed:
        raise RuntimeError(f"runs did not complete: {failed}")
    return runs


def imported_jobs(n_candidates: int, n_jobs: int) -> list[dict[str, Any]]:
    """matching_bench's data; its jobs are taken out again, to come back through the
    import route as the scraper sends them."""
    job_ids, _ = generate(n_candidates, n_jobs)
    with session_scope() as session:
        rows = session.scalars(select(Job).where(Job.id.in_(job_ids)).order_by(Job.id)).all()
        payloads = [
            {
                "external_id": f"bench-{job.id}",
                "skills": list(job.skills),
                **{name: getattr(job, name) for name in IMPORTED_FIELDS},
            }
            for job in rows
        ]
        session.execute(delete(Job))
    with get_engine().begin() as conn:
        conn.execute(text("ANALYZE"))
    return payloads


def import_batch(
    api: ApiClient, driver: InngestDriver, meter: MeteredHandler, payloads: list[dict[str, Any]]
) -> Usage:
    meter.calls.clear()
    mark = len(driver.runs)
    for i in range(0, len(payloads), IMPORT_BATCH):
        body = {"source": "bench", "jobs": payloads[i : i + IMPORT_BATCH]}
        response = api.post("/api/jobs/import", body)
        if response.status != 201:
            raise RuntimeError(f"import answered {response.status}: {response.body[:300]!r}")
    driver.drain()
    return Usage.of(meter.calls, runs_since(driver, mark))


def signups(api: ApiClient, driver: InngestDriver, meter: MeteredHandler, count: int) -> Usage:
    meter.calls.clear()
    mark = len(driver.runs)
    for n in range(count):
        roles = [ROLE_WORDS[n % len(ROLE_WORDS)], ROLE_WORDS[(n * 7 + 3) % len(ROLE_WORDS)]]
        body = {
            "email": f"signup{n}@bench.test",
            "roles": roles,
            "skills": ["python", "sql"],
            "locations": ["Berlin"],
            "countries": ["DE"],
        }
        response = api.post("/api/signup/free", body)
        if response.status != 201:
            raise RuntimeError(f"signup answered {response.status}: {response.body[:300]!r}")
        driver.drain()
    return Usage.of(meter.calls, runs_since(driver, mark))


def tender_sync(driver: InngestDriver, meter: MeteredHandler, releases: int) -> Usage:
    settings = get_settings()
    with OCDSPublisher(synthetic_releases(releases, start=START)) as publisher:
        settings.ocds_base_url = publisher.url
        with session_scope() as session:
            session.merge(SyncState(name="tender-sync", cursor=START))
            session.add_all(
                TenderAlertSubscription(
                    email=f"sub{n}@example.com", categories=["construction"] if n % 2 else []
                )
                for n in range(200)
            )
        meter.calls.clear()
        mark = len(driver.runs)
        driver.run_cron("tender-sync")
        return Usage.of(meter.calls, runs_since(driver, mark))


def report(
    results: list[tuple[str, dict[str, float], float, str]], memory_mb: int, inngest_price: float
) -> None:
    print(f"cost per unit of work, Lambda arm64 at {memory_mb} MB (template MemorySize):")
    print(
        f"  {'unit':<34}{'API':>5}{'/api/inngest':>13}{'runs':>6}{'steps':>7}"
        f"{'billed ms':>11}{'$ Lambda':>11}{'$ HTTP API':>11}{'$ Inngest':>11}"
    )
    for label, unit, _, _ in results:
        cost = dollars(unit, memory_mb, inngest_price)
        print(
            f"  {label:<34}{unit['api']:5.0f}{unit['inngest']:13.1f}{unit['runs']:6.1f}"
            f"{unit['steps']:7.1f}{unit['billed_ms']:11,.0f}"
            f"{cost['lambda_requests'] + cost['lambda_duration']:11.6f}"
            f"{cost['http_api']:11.6f}{cost['inngest']:11.6f}"
        )
    for _label, unit, multiplier, per in results:
        cost = dollars(unit, memory_mb, inngest_price)
        total = sum(cost.values()) * multiplier
        parts = ", ".join(f"{k} {v * multiplier:,.2f}" for k, v in cost.items())
        print(f"  ${total:,.2f} per {per} ({parts})")
    print(
        f"  prices: Lambda arm64 ${LAMBDA_ARM_USD_PER_GB_SECOND}/GB-s and "
        f"${LAMBDA_USD_PER_MILLION_REQUESTS}/M requests, HTTP API "
        f"${HTTP_API_USD_PER_MILLION_REQUESTS}/M (us-east-1 list, 2026-11-23); Inngest "
        f"${inngest_price}/M executions (run or step; ASSUMED overage rate)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument(
        "--inngest-usd-per-million", type=float, default=INNGEST_USD_PER_MILLION_EXECUTIONS
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    reset_database(DB_NAME)
    payloads = imported_jobs(args.candidates, args.jobs)

    from jobmatch.handler import handler

    meter = MeteredHandler(handler)
    driver = InngestDriver(meter, signing_key=SIGNING_KEY, event_api=EVENT_API)
    driver.sync()
    api = ApiClient(meter, api_key=API_KEY)

    jobs = import_batch(api, driver, meter, payloads)
    signup = signups(api, driver, meter, args.signups)
    sync = tender_sync(driver, meter, args.releases)

    memory_mb = memory_size("Api")
    results = [
        ("(a) one sync free signup", signup.scaled(1 / args.signups), 1e6, "million signups"),
        (
            f"(b) 1,000 jobs x {args.candidates:,} candidates",
            jobs.scaled(1000 / args.jobs),
            1e3,
            "million imported jobs",
        ),
        (
            f"(c) one sync of {args.releases:,} releases",
            sync.scaled(1),
            SYNCS_PER_MONTH,
            f"month of 30-minute syncs ({SYNCS_PER_MONTH:,} syncs)",
        ),
    ]
    report(results, memory_mb, args.inngest_usd_per_million)
    slowest = max(u.slowest_ms for u in (signup, jobs, sync))
    print(f"  slowest invocation: {slowest:,} ms (a step's budget: {STEP_BUDGET_MS:,} ms)")
    per_signup, per_1000 = results[0][1]["inngest"], results[1][1]["inngest"]
    print(
        f"  goals: /api/inngest per sync signup {per_signup:.1f} (<= {GOAL_SIGNUP_REQUESTS}: "
        f"{'OK' if per_signup <= GOAL_SIGNUP_REQUESTS else 'OVER'}); per 1,000 imported jobs "
        f"{per_1000:.1f} (<= {GOAL_REQUESTS_PER_1000_JOBS}: "
        f"{'OK' if per_1000 <= GOAL_REQUESTS_PER_1000_JOBS else 'OVER'})"
    )
    functions = sorted({r.function_id.removeprefix("jobmatch-") for r in driver.runs})
    print(f"  functions run: {', '.join(functions)}; wall {time.perf_counter() - started:.0f} s")
    EVENT_API.stop()


if __name__ == "__main__":
    main()
