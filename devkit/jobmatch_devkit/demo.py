"""The main job: `python -m jobmatch_devkit.demo` (or `make demo`).

Loads the bundled sample dataset into a fresh `demo` database on the embedded
PostgreSQL, then drives the real application end to end the way production
does: every API call is an API Gateway v2 event into a Lambda handler built
exactly as `jobmatch.handler.handler` is (`build_handler` on this process's
`Dependencies`), and every Inngest function run is played by the `InngestDriver`
against the same handler, signed like Inngest Cloud signs (cloud mode with a
signing key generated for this run; the event API is the in-process `EventAPI`).
It prints who matched what and why, and how long each part took.

`run_demo` is the scenario itself; it takes a ready driver, API client and the
app's embedder, so the e2e test runs it against the test database on a small slice.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import HandlerResponse, Run
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.localenv import use_local_environment

if TYPE_CHECKING:
    from jobmatch.ai.embedder import EmbeddingProvider

DEMO_DB = "demo"
IMPORT_BATCH = 100
SHOWN_MATCHES = 3
SHOWN_CANDIDATES_PER_TENANT = 2


@dataclass(frozen=True)
class Slice:
    """How much of the dataset a run uses (`None` = all of it)."""

    jobs: int | None = None
    candidates_per_tenant: int | None = None
    approvals_per_tenant: int = 6
    signups: int = 5  # the first users sign up through the API; the rest are loaded
    users: int | None = None


@dataclass
class Report:
    """What the demo did, for the printout and for the test that runs it."""

    timings: list[tuple[str, float, str]] = field(default_factory=list)
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    counts: dict[str, int] = field(default_factory=dict)
    shown: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def timed(self, part: str) -> Iterator[list[str]]:
        """Time a part; the block appends its one-line detail to the yielded list."""
        detail: list[str] = []
        started = time.perf_counter()
        yield detail
        self.timings.append((part, time.perf_counter() - started, "; ".join(detail)))

    def record(self, runs: list[Run]) -> str:
        """Count runs by function and status; a short summary for the timing table."""
        for run in runs:
            self.runs[(run.function_id.split("-", 1)[-1], run.status)] += 1
        by_fn = Counter(run.function_id.split("-", 1)[-1] for run in runs)
        failed = [r for r in runs if r.status != "completed"]
        text = ", ".join(f"{n}x {fn}" for fn, n in sorted(by_fn.items()))
        return text + (f"; {len(failed)} NOT completed" if failed else "")


def _expect(response: HandlerResponse, *codes: int) -> Any:
    if response.status not in codes:
        raise RuntimeError(f"unexpected {response.status}: {response.body[:500]!r}")
    return response.json()


def _tenant_header(tenant_id: int) -> dict[str, str]:
    return {"X-Tenant-Id": str(tenant_id)}


def _load(report: Report, part: Slice, embedder: EmbeddingProvider) -> list[str]:
    """Load roles, tenants, candidates and users; return the loaded users' emails."""
    from jobmatch.db.session import session_scope
    from jobmatch_devkit import sample_data

    with report.timed("load sample data (direct to DB)") as detail, session_scope() as session:
        loaded = sample_data.load(
            session,
            candidates_per_tenant=part.candidates_per_tenant,
            users=part.users,
            skip_users=part.signups,
        )
        embedded = sample_data.embed_matchable_candidates(session, embedder)
        detail.append(
            f"{len(loaded.role_ids)} roles, {len(loaded.tenant_ids)} tenants, "
            f"{len(loaded.candidate_ids)} candidates ({embedded} already approved), "
            f"{len(loaded.user_emails)} users"
        )
    return loaded.user_emails


def _import_jobs(report: Report, driver: InngestDriver, api: ApiClient, part: Slice) -> None:
    from jobmatch_devkit import sample_data

    batches = sample_data.job_batches(IMPORT_BATCH, limit=part.jobs)
    with report.timed("POST /api/jobs/import") as detail:
        created = sum(
            _expect(api.post("/api/jobs/import", batch), 200, 201)["created"] for batch in batches
        )
        again = _expect(api.post("/api/jobs/import", batches[0]), 200, 201)
        detail.append(
            f"{len(batches)} batches, {created} jobs created; batch 1 re-posted: "
            f"{again['created']} created, {again['duplicates']} duplicates"
        )
    with report.timed("  jobs/imported + jobs/new-batch runs") as detail:
        detail.append(report.record(driver.drain()))


def _approve(report: Report, driver: InngestDriver, api: ApiClient, part: Slice) -> list[int]:
    from sqlalchemy import select

    from jobmatch.db.models import Candidate
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        pending = session.execute(
            select(Candidate.id, Candidate.tenant_id)
            .where(Candidate.status == "pending")
            .order_by(Candidate.tenant_id, Candidate.id)
        ).all()
    chosen: list[tuple[int, int]] = []
    for cid, tenant in pending:
        if sum(t == tenant for _, t in chosen) < part.approvals_per_tenant:
            chosen.append((cid, tenant))
    with report.timed("POST /api/candidates/{id}/approve") as detail:
        for cid, tenant in chosen:
            _expect(api.post(f"/api/candidates/{cid}/approve", headers=_tenant_header(tenant)), 200)
        other = next(t for _, t in chosen if t != chosen[0][1])
        refused = api.post(f"/api/candidates/{chosen[0][0]}/approve", headers=_tenant_header(other))
        detail.append(f"{len(chosen)} approved; another tenant approving one: {refused.status}")
    with report.timed("  job-match/generate-candidate runs") as detail:
        detail.append(report.record(driver.drain()))
    return [cid for cid, _ in chosen]


def _signups(report: Report, driver: InngestDriver, api: ApiClient, part: Slice) -> list[str]:
    from jobmatch_devkit import sample_data

    users = sample_data.dataset("users")[: part.signups]
    emails = []
    with report.timed("POST /api/signup/free") as detail:
        statuses: Counter[str] = Counter()
        for index, user in enumerate(users):
            body = {k: user[k] for k in sample_data.SIGNUP_FIELDS}
            body["mode"] = "async" if index % 3 == 2 else "sync"
            answer = api.post("/api/signup/free", body)
            data = _expect(answer, 201, 202)
            statuses[f"{answer.status} {body['mode']}"] += 1
            emails.append(data["email"])
        # The first address again with another name: a change its owner must confirm
        # (the same signup repeated within minutes would be a retry, not a change).
        again = {k: users[0][k] for k in sample_data.SIGNUP_FIELDS}
        repeat = api.post("/api/signup/free", {**again, "name": "Someone Else"})
        statuses[f"{repeat.status} repeated"] += 1
        detail.append(", ".join(f"{n}x {s}" for s, n in sorted(statuses.items())))
    with report.timed("  matching/perform runs (+ notifications)") as detail:
        detail.append(report.record(driver.drain()))
    return emails


def _batch_match(report: Report, driver: InngestDriver, api: ApiClient, emails: list[str]) -> None:
    if not emails:
        return
    with report.timed("POST /api/match-users") as detail:
        answer = _expect(api.post("/api/match-users", {"emails": emails}), 202)
        detail.append(f"{answer['users']} users, {len(answer['event_ids'])} events")
    with report.timed("  matching/perform runs (batch)") as detail:
        detail.append(report.record(driver.drain()))


def _profile(roles: list[str], skills: list[str], years: int | None, places: list[str]) -> str:
    return (
        f"wants {', '.join(roles)} | {years} yrs | {', '.join(places) or 'anywhere'} | "
        f"skills: {_skills(skills, 8)}"
    )


def _show(report: Report, api: ApiClient, candidates: list[int], emails: list[str]) -> None:
    from sqlalchemy import select

    from jobmatch.db.models import Candidate, GlobalRole, User, UserPreferences
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        rows = [session.get_one(Candidate, c) for c in candidates]
        role_names = dict(session.execute(select(GlobalRole.id, GlobalRole.name)).all())
        prefs = dict(
            session.execute(
                select(User.email, UserPreferences)
                .join(UserPreferences, UserPreferences.user_id == User.id)
                .where(User.email.in_(emails))
            ).all()
        )
    shown: list[Candidate] = []
    for row in rows:
        if sum(c.tenant_id == row.tenant_id for c in shown) < SHOWN_CANDIDATES_PER_TENANT:
            shown.append(row)
    tenants = {c.id: c.tenant_id for c in shown}
    names = {c.id: f"{c.first_name} {c.last_name}" for c in shown}
    candidates = [c.id for c in shown]
    profiles = {
        c.id: _profile(
            [role_names[r] for r in c.preferred_role_ids],
            c.skills,
            c.experience_years,
            [c.location or ""],
        )
        for c in shown
    }
    with report.timed("GET matches (candidates and users)") as detail:
        for cid in candidates:
            got = api.get(f"/api/candidates/{cid}/matches", headers=_tenant_header(tenants[cid]))
            key = f"candidate {cid} {names[cid]} (tenant {tenants[cid]})"
            report.shown[key] = _expect(got, 200)["matches"][:SHOWN_MATCHES]
            report.profiles[key] = profiles[cid]
        for email in emails:
            got = api.get(f"/api/users/{email}/matches")
            key = f"user {email}"
            report.shown[key] = _expect(got, 200)["matches"][:SHOWN_MATCHES]
            p = prefs[email]
            report.profiles[key] = _profile(p.roles, p.skills, p.experience_years, p.locations)
        detail.append(f"{len(candidates)} candidates, {len(emails)} users read back")


def _count_rows(report: Report) -> None:
    from sqlalchemy import func, select

    from jobmatch.db.models import Candidate, CandidateJobMatch, Job, OutboxMessage, UserMatch
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        for label, model in (
            ("jobs", Job),
            ("candidate matches", CandidateJobMatch),
            ("user matches", UserMatch),
            ("emails in outbox", OutboxMessage),
        ):
            report.counts[label] = int(session.scalar(select(func.count()).select_from(model)) or 0)
        report.counts["candidates ready_for_assignment"] = int(
            session.scalar(select(func.count()).where(Candidate.status == "ready_for_assignment"))
            or 0
        )


def run_demo(
    driver: InngestDriver, api: ApiClient, embedder: EmbeddingProvider, part: Slice = Slice()
) -> Report:
    """The scenario: load, import jobs, approve candidates, sign users up, batch-match
    the rest, read the matches back. Raises on any unexpected answer. `embedder` is
    the app's (`Dependencies.embedder`): it embeds the already approved candidates."""
    report = Report()
    with report.timed("sync the app (PUT /api/inngest)") as detail:
        detail.append(f"{len(driver.sync())} functions registered")
    loaded_users = _load(report, part, embedder)
    _import_jobs(report, driver, api, part)
    approved = _approve(report, driver, api, part)
    signed_up = _signups(report, driver, api, part)
    _batch_match(report, driver, api, loaded_users)
    _show(report, api, approved, signed_up)
    _count_rows(report)
    return report


def _skills(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "") if items else "-"


def print_report(report: Report, out: TextIO) -> None:
    """Who matched what and why, then the run counts, row counts and the timing table."""
    print("\n== Who matched what, and why", file=out)
    for who, matches in report.shown.items():
        print(f"\n{who}", file=out)
        print(f"   {report.profiles.get(who, '')}", file=out)
        if not matches:
            print("   (no job scored 50 or more)", file=out)
        for m in matches:
            flag = "*" if m["is_recommended"] else " "
            print(
                f" {flag} {m['score']:5.1f}  {m['title']} at {m['company']}, {m['location']}"
                f"  [{m['method'] or 'rules'}]",
                file=out,
            )
            print(
                f"          skills {m['skill_score']:.0f} exp {m['experience_score']:.0f} "
                f"loc {m['location_score']:.0f} salary {m['salary_score']:.0f} "
                f"semantic {m['semantic_score']:.0f} | matched: {_skills(m['matched_skills'])}"
                f" | missing: {_skills(m['missing_skills'])}",
                file=out,
            )
            for reason in m["reasons"][:3]:
                print(f"          - {reason}", file=out)
    print("\n   * = recommended (score >= 70)", file=out)
    print("\n== Inngest runs", file=out)
    for (fn, status), n in sorted(report.runs.items()):
        print(f"   {n:4d}  {fn:32s} {status}", file=out)
    print("\n== Rows", file=out)
    for label, n in report.counts.items():
        print(f"   {n:6d}  {label}", file=out)
    print("\n== Timing", file=out)
    width = max(len(part) for part, _, _ in report.timings)
    for part, seconds, detail in report.timings:
        print(f"   {part:{width}s} {seconds:7.2f} s  {detail}", file=out)
    total = sum(s for _, s, _ in report.timings)
    print(f"   {'total':{width}s} {total:7.2f} s", file=out)


def _configure_environment(
    signing_key: str, api_key: str, event_api: EventAPI, db_name: str
) -> None:
    """Cloud-mode settings for this process, set before `jobmatch` is imported (its
    settings are read once, and Powertools reads its part at import)."""
    use_local_environment(
        env="local",
        db_name=db_name,
        signing_key=signing_key,
        event_key="demo-event-key",
        api_key=api_key,
        extra={
            "INNGEST_BASE_URL": event_api.url,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        },
    )


def _fresh_database(data_dir: str, db_name: str) -> float:
    """Drop and recreate the demo database, migrate it; return the seconds it took."""
    from sqlalchemy import create_engine, text

    from jobmatch.db import migrate
    from jobmatch.db.embedded import embedded_database_url

    started = time.perf_counter()
    admin = create_engine(embedded_database_url(data_dir, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    admin.dispose()
    embedded_database_url(data_dir, db_name)
    migrate.upgrade("heads")
    return time.perf_counter() - started


def _db_name(value: str) -> str:
    """A plain identifier: the name goes into DROP/CREATE DATABASE statements."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise argparse.ArgumentTypeError("use lower-case letters, digits and _")
    return value


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the whole demo in this process (a fresh `demo` database every time)."""
    parser = argparse.ArgumentParser(description="jobmatch end-to-end demo on sample data")
    parser.add_argument("--jobs", type=int, default=None, help="import only the first N jobs")
    parser.add_argument(
        "--db", default=DEMO_DB, type=_db_name, help="database name (dropped and recreated)"
    )
    args = parser.parse_args(argv)
    if "jobmatch.settings" in sys.modules:
        # This process may already have read (and cached) other settings.
        raise RuntimeError("run the demo in a fresh process: jobmatch is already configured")

    # Local-only noise: no XDG runtime dir, and Powertools' "no metrics" notice.
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", category=UserWarning, module="aws_lambda_powertools")
    signing_key = "signkey-demo-" + secrets.token_hex(32)
    api_key = "demo-" + secrets.token_urlsafe(24)
    event_api = EventAPI(event_key="demo-event-key", signing_keys=(signing_key,)).start()
    _configure_environment(signing_key, api_key, event_api, args.db)
    try:
        started = time.perf_counter()
        from jobmatch.app import build_handler
        from jobmatch.dependencies import Dependencies
        from jobmatch.settings import get_settings

        deps = Dependencies(get_settings())
        handler = build_handler(deps)
        startup = time.perf_counter() - started
        db_seconds = _fresh_database(os.environ["DATA_DIR"], args.db)
        driver = InngestDriver(handler, signing_key=signing_key, event_api=event_api)
        api = ApiClient(handler, api_key=api_key)
        report = run_demo(driver, api, deps.embedder, Slice(jobs=args.jobs))
        report.timings[:0] = [
            ("import app (cold start)", startup, "settings, Inngest client, FastAPI, functions"),
            ("fresh database + migrations", db_seconds, f"embedded PostgreSQL, db {args.db}"),
        ]
        print_report(report, out)
    finally:
        event_api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
