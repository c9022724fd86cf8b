"""The main job runs: in-process on a slice of the sample (the test database),
and as `python -m jobmatch_devkit.demo` in a fresh process on a smaller slice."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from jobmatch.dependencies import Dependencies
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.demo import Slice, print_report, run_demo
from jobmatch_devkit.localenv import ROOT
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.e2e


def outbox_kinds() -> Counter[str]:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return Counter(session.scalars(select(OutboxMessage.kind)))


def test_the_demo_scenario_matches_and_reports(driver: InngestDriver, deps: Dependencies) -> None:
    part = Slice(jobs=80, candidates_per_tenant=20, approvals_per_tenant=3, signups=3, users=8)
    api = ApiClient(driver.handler, api_key=TEST_API_KEY)
    report = run_demo(driver, api, deps.embedder, part)

    assert report.counts["jobs"] == 80
    assert report.counts["candidates ready_for_assignment"] == 6
    assert report.counts["candidate matches"] > 0
    assert report.counts["user matches"] > 0
    # The one async signup's notice, the confirmation the repeated signup asks for,
    # and new-job alerts to the subscribed users the imported jobs fit.
    kinds = outbox_kinds()
    assert (kinds.pop("matching-complete"), kinds.pop("signup-confirmation")) == (1, 1)
    assert set(kinds) == {"new_jobs"}
    assert report.counts["emails in outbox"] == 2 + kinds["new_jobs"]
    assert {status for _, status in report.runs} == {"completed"}
    functions = {fn for fn, _ in report.runs}
    assert {
        "match-jobs-to-candidates",
        "alert-new-jobs",
        "generate-candidate-matches",
        "perform-ai-matching",
        "notify-matching-complete",
    } <= functions
    shown = [m for matches in report.shown.values() for m in matches]
    assert shown
    assert all(m["score"] >= 50 and m["reasons"] for m in shown)

    out = io.StringIO()
    print_report(report, out)
    text = out.getvalue()
    assert "== Who matched what, and why" in text
    assert "== Timing" in text
    assert "another tenant approving one: 404" in text
    assert "matched:" in text


def test_the_demo_command_runs_in_a_fresh_process() -> None:
    db_name = f"demo_test_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNGEST_", "DB_NAME"))}
    try:
        result = subprocess.run(  # noqa: S603 - our interpreter, our module, fixed args
            [sys.executable, "-m", "jobmatch_devkit.demo", "--jobs", "40", "--db", db_name],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "== Who matched what, and why" in result.stdout
        assert "40 jobs created" in result.stdout
        assert "NOT completed" not in result.stdout
    finally:
        from sqlalchemy import create_engine, text

        from jobmatch.db.embedded import embedded_database_url

        admin = create_engine(
            embedded_database_url(os.environ["DATA_DIR"], "postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
