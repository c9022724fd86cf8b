"""Role quality benchmark: do job titles reach the candidates they fit?

    .venv/bin/python bench/role_quality_bench.py [--names 150] [--seed 9]

Built from the packaged taxonomy (O*NET occupations + ESCO ICT occupations with
their alternative titles), on the embedded PostgreSQL in its own database:

- held-out titles: up to 2 ESCO alternative titles per occupation (seeded), taken
  OUT of the aliases loaded for the measurement (a title ESCO lists under two
  occupations is left out: it has no single right answer);
- preferred names: the names of `--names` roles (seeded, every ESCO one included);
- each title plain and dressed as ads word them (7 variants);
- one approved candidate per role involved, preferring the role by its name, all
  other features neutral and equal (same city, no skills, no salary), so that what
  decides a match is the role and the similarity, not the rest;
- the jobs go through `POST /api/jobs/import` and the functions (Lambda handler +
  the harness driver), exactly as scraped jobs do.

Printed per variant: recall (the right candidate got a stored match), wrong matches
per job (stored matches of candidates of other roles), unresolved jobs; next to the
old rule (the longest role name or alias occurring in the title as whole words, no
match without it) on the same titles, computed by the tiny implementation below.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import select, text

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.localenv import BENCH_EVENT_KEY, use_bench_environment

SIGNING_KEY = "signkey-bench-" + "ab" * 32
DB_NAME = "jobmatch_role_bench"
API_KEY = "role-bench-api-key"
use_bench_environment(DB_NAME, SIGNING_KEY, API_KEY)
# jobmatch is imported inside the functions below, after this environment is set.

HOLD_OUT = 2
DRESSINGS = {
    "plain": "{t}",
    "senior_mfd_remote": "Senior {t} (m/f/d) - Remote",
    "berlin_fulltime": "{t} \u2013 Berlin, full-time",
    "de_pipes": "{t} (w/m/d) | Vollzeit | M\u00fcnchen",
    "lead_remote_eu": "Lead {t}, Remote (EU)",
    "contract_london": "{t} - 12 month contract - London",
    "jr_ii_parttime": "Jr. {t} II - Part-time",
}
IMPORT_BATCH = 500
_WORDS = re.compile(r"[\w+#]+")


def words(phrase: str) -> str:
    return " ".join(_WORDS.findall(phrase.lower()))


class OldRule:
    """The exact-phrase resolver this replaces: the longest role name or alias that
    occurs in the raw title as whole words; a title with none gets no role."""

    def __init__(self, roles: list[Any]) -> None:
        pairs = [(words(p), i) for i, r in enumerate(roles) for p in [r.name, *r.aliases]]
        pairs.sort(key=lambda item: len(item[0]), reverse=True)
        self.patterns = [
            (re.compile(rf"(?<![\w]){re.escape(p)}(?![\w])"), i) for p, i in pairs if p
        ]

    def role(self, title: str) -> int | None:
        lowered = words(title)
        return next((i for pattern, i in self.patterns if pattern.search(lowered)), None)


def build_sets(roles: list[Any], names: int, seed: int) -> tuple[list[Any], list[tuple[str, int]]]:
    """Roles with the held-out titles removed from their aliases, and the titles:
    (title, index of the role it came from), held-out ones first."""
    rng = random.Random(seed)
    listed: dict[str, set[int]] = defaultdict(set)
    for i, r in enumerate(roles):
        for phrase in [r.name, *r.aliases]:
            listed[words(phrase)].add(i)
    held: list[tuple[str, int]] = []
    kept_roles = []
    for i, r in enumerate(roles):
        esco = [a for a in r.aliases if r.source != "onet" and words(a) != words(r.name + "s")]
        unique = [a for a in esco if listed[words(a)] == {i}]
        rng.shuffle(unique)
        out = unique[:HOLD_OUT]
        held.extend((a, i) for a in out)
        kept_roles.append(replace(r, aliases=tuple(a for a in r.aliases if a not in out)))
    esco_roles = sorted({i for _, i in held})
    others = [i for i in range(len(roles)) if i not in set(esco_roles)]
    picked = esco_roles + rng.sample(others, max(0, names - len(esco_roles)))
    return kept_roles, held + [(roles[i].name, -1 - i) for i in sorted(picked)]


def main() -> None:
    from jobmatch.app import build_handler
    from jobmatch.db import migrate
    from jobmatch.db.models import Base, Candidate, CandidateJobMatch, Job, JobRole, Tenant
    from jobmatch.db.models.matching import EMBEDDING_DIM
    from jobmatch.db.session import get_engine, session_scope
    from jobmatch.dependencies import Dependencies
    from jobmatch.embeddings.providers import OfflineEmbeddings
    from jobmatch.embeddings.texts import candidate_embedding_text
    from jobmatch.jobs.importing import JobInput, job_hash
    from jobmatch.roles import store as repository
    from jobmatch.roles.taxonomy import load_taxonomy
    from jobmatch.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=150, help="roles tested by preferred name")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()

    t0 = time.perf_counter()
    event_api = EventAPI(event_key=BENCH_EVENT_KEY, signing_keys=(SIGNING_KEY,)).start()
    os.environ["INNGEST_BASE_URL"] = event_api.url
    migrate.upgrade("heads")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    taxonomy, _sources = load_taxonomy()
    roles, titles = build_sets(taxonomy, args.names, args.seed)
    embedder = OfflineEmbeddings(EMBEDDING_DIM)
    with session_scope() as s:
        repository.load_taxonomy(s, roles)
    with session_scope() as s:
        while repository.embed_missing(s, embedder, 2000):
            pass
        role_id = dict(s.execute(text("SELECT code, id FROM global_roles")).all())
        tenant = Tenant(name="bench")
        s.add(tenant)
        s.flush()
        wanted = sorted({i if i >= 0 else -1 - i for _, i in titles})
        cands = [
            Candidate(
                tenant_id=tenant.id,
                first_name=f"C{i}",
                last_name="Bench",
                email=f"c{i}@bench.test",
                status="approved",
                preferred_roles=[roles[i].name],
                preferred_role_ids=[role_id[roles[i].code]],
                skills=[],
                experience_years=5,
                location="Berlin",
                country="DE",
                remote_ok=False,
                salary_expectation=None,
            )
            for i in wanted
        ]
        vectors = embedder.embed([candidate_embedding_text(c) for c in cands])
        for c, v in zip(cands, vectors, strict=True):
            c.embedding = v
        s.add_all(cands)
        s.flush()
        cand_of_role = {role_id[roles[i].code]: c.id for i, c in zip(wanted, cands, strict=True)}
    n_held = sum(1 for _, i in titles if i >= 0)
    print(
        f"taxonomy: {len(roles):,} roles ({sum(1 for r in roles if r.source != 'onet')} with "
        f"ESCO alternative titles); {n_held} held-out titles (not loaded as aliases), "
        f"{len(titles) - n_held} preferred names; {len(cands)} candidates; "
        f"{len(DRESSINGS)} variants; setup {time.perf_counter() - t0:.1f} s"
    )

    # ------------------------------------------------------------ through the API
    settings = get_settings()
    handler = build_handler(Dependencies(settings))
    driver = InngestDriver(handler, signing_key=SIGNING_KEY, event_api=event_api)
    driver.sync()
    api = ApiClient(handler, api_key=API_KEY)
    jobs: list[dict[str, Any]] = []
    truth: dict[str, tuple[str, int, str]] = {}  # external id -> (set, role id, variant)
    for variant, fmt in DRESSINGS.items():
        for k, (title, i) in enumerate(titles):
            index = i if i >= 0 else -1 - i
            ext = f"{variant}-{k}"
            truth[ext] = ("held-out" if i >= 0 else "names", role_id[roles[index].code], variant)
            jobs.append(
                {
                    "external_id": ext,
                    "title": fmt.format(t=title)[:300],
                    "company": "Bench",
                    "location": "Berlin",
                    "country": "DE",
                }
            )
    started = time.perf_counter()
    runs: list[Any] = []
    for start in range(0, len(jobs), IMPORT_BATCH):
        response = api.post(
            "/api/jobs/import", {"source": "bench", "jobs": jobs[start : start + IMPORT_BATCH]}
        )
        assert response.status == 201, response.body
        runs += driver.drain()
    elapsed = time.perf_counter() - started
    failed = [r for r in runs if r.status != "completed"]
    assert not failed, [r.error for r in failed]
    calls = [(f"{ex.function_id}:{ex.step_id}", ex.seconds) for r in runs for ex in r.exchanges]
    outputs = [(st.id, len(json.dumps(st.output))) for r in runs for st in r.steps]

    with session_scope() as s:
        job_rows = {
            r.job_hash: r
            for r in s.execute(
                select(Job.id, Job.job_hash, Job.role_resolution, Job.normalized_role_id)
            )
        }
        matched: dict[int, set[int]] = defaultdict(set)
        for cid, jid in s.execute(select(CandidateJobMatch.candidate_id, CandidateJobMatch.job_id)):
            matched[jid].add(cid)
        direct: dict[int, set[int]] = defaultdict(set)
        family: dict[int, set[int]] = defaultdict(set)
        for jid, rid, method in s.execute(select(JobRole.job_id, JobRole.role_id, JobRole.method)):
            (family if method == "family" else direct)[jid].add(rid)

    role_of_cand = {c: r for r, c in cand_of_role.items()}
    old = OldRule(roles)
    table: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for job in jobs:
        kind, right, variant = truth[job["external_id"]]
        stored = job_rows[job_hash(JobInput("bench", "", "", "", external_id=job["external_id"]))]
        row = table[(kind, variant)]
        row["n"] += 1
        got = matched.get(stored.id, set())
        right_cand = cand_of_role[right]
        row["recall"] += right_cand in got
        wrong = got - {right_cand}
        row["wrong"] += len(wrong)
        if stored.role_resolution == "unresolved":
            row["wrong_similarity"] += len(wrong)
        else:
            row["wrong_family"] += sum(role_of_cand[c] in family[stored.id] for c in wrong)
        row["unresolved"] += stored.role_resolution == "unresolved"
        row["top1"] += stored.normalized_role_id == right
        row["roles"] += len(direct[stored.id])
        row["family"] += len(family[stored.id])
        old_index = old.role(job["title"])
        old_role = role_id[roles[old_index].code] if old_index is not None else None
        row["old_recall"] += old_role == right
        row["old_wrong"] += old_role is not None and old_role != right and old_role in cand_of_role
        row["old_unresolved"] += old_role is None

    print(
        f"\nimport + matching of {len(jobs):,} jobs through the API and the functions: "
        f"{elapsed:.1f} s ({len(runs)} runs)"
    )
    header = (
        f"{'set / variant':34s}{'jobs':>6s} | {'recall':>7s}{'wrong/job':>10s}"
        f"{'(family':>8s}{'simil.)':>8s}{'unres.':>7s}"
        f"{'top-1':>7s}{'roles':>6s}{'family':>7s} | {'old recall':>10s}{'old wrong':>10s}"
        f"{'old unres.':>11s}"
    )
    print(header)
    print("-" * len(header))
    for (kind, variant), row in table.items():
        n = row["n"]
        print(
            f"{kind + ' / ' + variant:34s}{int(n):6d} | {100 * row['recall'] / n:6.1f}%"
            f"{row['wrong'] / n:10.2f}{row['wrong_family'] / n:8.2f}"
            f"{row['wrong_similarity'] / n:8.2f}{int(row['unresolved']):7d}"
            f"{100 * row['top1'] / n:6.1f}%"
            f"{row['roles'] / n:6.2f}{row['family'] / n:7.2f} | {100 * row['old_recall'] / n:9.1f}%"
            f"{row['old_wrong'] / n:10.2f}{int(row['old_unresolved']):11d}"
        )
    slowest = max(calls, key=lambda x: x[1])
    largest = max(outputs, key=lambda x: x[1])
    print(
        f"\nslowest call {slowest[0]} {slowest[1]:.2f} s (budget 20 s); largest step output "
        f"{largest[0]} {largest[1]:,} bytes (budget 64 KB)"
    )


if __name__ == "__main__":
    main()
