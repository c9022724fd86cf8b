"""Tender sync benchmark: 10,000 OCDS releases through the real functions.

A fake publisher (devkit) serves 10,000 synthetic releases of real-world shape
(two per ocid, one in 500 malformed) on 127.0.0.1; `tender-sync` runs through the
Lambda handler, driven like Inngest Cloud by the devkit driver (signed requests,
memoized steps sent back on every call), against the embedded PostgreSQL. Then
the alerts it triggers run for 200 subscribers. Reported against the budgets:

- the slowest step call (one Lambda invocation behind API Gateway): budget 20 s;
- the largest step output, and the largest request Inngest would send (every
  memoized output rides along): budget 64 KB per output, 6 MB per request;
- database connections held at peak: pg_stat_activity for the bench database
  and the engine pool's checked-out count, sampled every 10 ms during the run.

    python bench/tender_sync_bench.py [--releases 10000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select, text

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.bench_report import step_table
from jobmatch_devkit.localenv import BENCH_EVENT_KEY, use_bench_environment
from jobmatch_devkit.ocds_publisher import OCDSPublisher, synthetic_releases

SIGNING_KEY = "signkey-bench-" + "cd" * 32
DB_NAME = "jobmatch_tender_bench"
use_bench_environment(DB_NAME, SIGNING_KEY)
# jobmatch is imported inside the functions below, after this environment is set:
# Powertools reads its part (log level, metrics) when jobmatch is imported.

STEP_BUDGET_S = 20.0
OUTPUT_BUDGET_B = 64 * 1024
REQUEST_LIMIT_B = 6 * 1024 * 1024
START = datetime(2025, 3, 1, tzinfo=UTC)


class ConnectionSampler(threading.Thread):
    """Peak backends connected to the bench database, and peak pool checkouts."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        self.stop = threading.Event()
        self.peak_backends = 0
        self.peak_active = 0
        self.peak_checked_out = 0

    def run(self) -> None:
        from jobmatch.db.session import get_engine

        query = text(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                backends, active = conn.execute(query, {"db": DB_NAME}).one()
                conn.rollback()
                self.peak_backends = max(self.peak_backends, backends)
                self.peak_active = max(self.peak_active, active)
                self.peak_checked_out = max(self.peak_checked_out, get_engine().pool.checkedout())  # type: ignore[attr-defined]
                time.sleep(0.01)
        self.engine.dispose()


def fresh_database() -> str:
    from jobmatch.db import migrate
    from jobmatch.db.embedded import embedded_database_url
    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    url = embedded_database_url(os.environ["DATA_DIR"], DB_NAME)
    migrate.upgrade("heads")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return url


def main() -> None:
    from jobmatch.app import build_handler
    from jobmatch.db.models import SyncState, Tender, TenderAlertSubscription
    from jobmatch.db.session import session_scope
    from jobmatch.dependencies import Dependencies
    from jobmatch.events.tenders import TenderSyncRequested
    from jobmatch.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--subscribers", type=int, default=200)
    args = parser.parse_args()

    event_api = EventAPI(event_key=BENCH_EVENT_KEY, signing_keys=(SIGNING_KEY,)).start()
    os.environ["INNGEST_BASE_URL"] = event_api.url
    url = fresh_database()
    releases = synthetic_releases(args.releases, start=START)
    with OCDSPublisher(releases) as publisher:
        settings = get_settings().model_copy(
            update={
                "ocds_base_url": publisher.url,
                "ocds_page_size": args.page_size,
                "tender_sync_max_window_days": 31,
            }
        )
        with session_scope() as session:
            session.add(SyncState(name="tender-sync", cursor=START))
            session.add_all(
                TenderAlertSubscription(
                    email=f"sub{n}@example.com",
                    categories=["construction"] if n % 2 else [],
                    keywords=["site 1"] if n % 3 == 0 else [],
                )
                for n in range(args.subscribers)
            )

        handler = build_handler(Dependencies(settings))
        driver = InngestDriver(handler, signing_key=SIGNING_KEY, event_api=event_api)
        driver.sync()
        sampler = ConnectionSampler(url)
        sampler.start()
        started = time.perf_counter()
        request = {"maxEnrichment": 300, "triggeredBy": "bench"}
        runs = driver.send(TenderSyncRequested.NAME, request)
        elapsed = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()

    sync = next(r for r in runs if r.function_id.endswith("tender-sync"))
    with session_scope() as session:
        saved = session.scalar(select(func.count()).select_from(Tender))
    rows = step_table(runs)
    slowest = max(rows, key=lambda r: r["seconds"])
    largest = max(rows, key=lambda r: r["output_bytes"])
    biggest_request = max(rows, key=lambda r: r["request_bytes"])
    by_function: dict[str, int] = {}
    for run in runs:
        by_function[run.function_id] = by_function.get(run.function_id, 0) + 1

    print(f"tender sync of {args.releases:,} releases, page size {args.page_size}")
    print(f"  sync run: {sync.status}; output {json.dumps(sync.output)}")
    print(f"  tenders saved: {saved:,}; runs: {by_function}")
    print(f"  wall time (sync + fan-out + alerts): {elapsed:.1f} s")
    print(
        f"  slowest step call: {slowest['function']}/{slowest['step']} "
        f"{slowest['seconds']:.2f} s (budget {STEP_BUDGET_S:.0f} s: "
        f"{'OK' if slowest['seconds'] < STEP_BUDGET_S else 'OVER'})"
    )
    pages = [r for r in rows if r["step"].startswith("fetch-page-")]
    if pages:
        mean = sum(r["seconds"] for r in pages) / len(pages)
        print(f"  fetch-page steps: {len(pages)}, mean {mean:.3f} s")
    print(
        f"  largest step output: {largest['function']}/{largest['step']} "
        f"{largest['output_bytes']:,} B (budget {OUTPUT_BUDGET_B:,} B: "
        f"{'OK' if largest['output_bytes'] < OUTPUT_BUDGET_B else 'OVER'})"
    )
    print(
        f"  largest request to the app: {biggest_request['function']}/{biggest_request['step']} "
        f"{biggest_request['request_bytes']:,} B (Lambda limit {REQUEST_LIMIT_B:,} B)"
    )
    print(
        f"  database connections at peak: {sampler.peak_backends} backend(s) connected "
        f"({sampler.peak_active} active), pool checked out {sampler.peak_checked_out} "
        f"(pool_size=1, max_overflow=0)"
    )
    event_api.stop()


if __name__ == "__main__":
    main()
