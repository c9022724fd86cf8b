"""Role quality benchmark across every field: do job titles reach their occupation's
candidates, and only them?

    .venv/bin/python bench/role_quality_bench.py [--base d4dde13] [--split test]
        [--per-group 60] [--seed 9] [--no-base] [--also ROLE_SECOND_FLOOR=0.5,...]

Data: the packaged taxonomy (every ESCO v1.1 occupation with its alternative labels,
merged with O*NET) and `bench/data/esco_bench.json.gz` (ISCO groups, the part of each
ESCO description the taxonomy does not carry; `jobmatch_devkit.build_role_bench`).

- Occupations are sampled per ISCO major group (`--per-group` each, seeded), so
  managers, health, transport, law, trades, plant operators and elementary
  occupations weigh alike.
- An occupation's alternative labels are split in two halves by a stable hash of the
  label: `train` (to tune on) and `test` (to measure). Up to 2 labels of the chosen
  half per occupation are the titles, and the whole half is taken OUT of the
  aliases loaded for the run; a label listed under two roles is never used.
- Each title is run plain, dressed as ads dress it (one of `DRESSINGS`, seeded: level,
  gender note, place, schedule, contract, tech stack, shift, German and French
  forms) and with a description (the rest of the ESCO description as the job's
  text; only for occupations that have one).
- Preferred names: role names of the sampled occupations (plain and dressed).

Every title goes through `resolve_titles` on the embedded PostgreSQL, once with this
checkout's code and once with `--base`'s (a temporary git worktree, the same
taxonomy and titles, its own database; "today's resolver"), and once more with the
base code on the taxonomy as it was before (occupation names only, no alternative
labels outside ICT: "names only"). One candidate per role is assumed: a job reaches
the candidates of its direct roles (stored at full or similarity-ratio score), its
family roles are offered at the lower family score (counted apart), and an
unresolved job reaches its `unresolved_match_k` nearest candidates by similarity
alone. Wrong matches per job = candidates of other occupations reached that way.
"""

from __future__ import annotations

import argparse
import gzip
import json
import operator
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
BENCH_FILE = ROOT / "bench" / "data" / "esco_bench.json.gz"
TAXONOMY_FILE = ROOT / "functions" / "jobmatch" / "roles" / "data" / "occupations.json.gz"
DB_NAME = "jobmatch_role_bench"
HOLD_OUT = 2
BATCH = 200
NEIGHBOURS = 10  # the similarity-only neighbours an unresolved job meets (unresolved_match_k)
# How ads dress a title (a seeded choice per title): level, gender note, place,
# schedule, contract, stack, shift, pay, German and French forms.
DRESSINGS = (
    "Senior {t} (m/w/d)",
    "{t} (m/f/d) - Remote",
    "{t} \u2013 Berlin, full-time",
    "{t} (w/m/d) | Vollzeit | M\u00fcnchen",
    "Lead {t}, Remote (EU)",
    "{t} - 12 month contract - London",
    "Jr. {t} II - Part-time",
    "{t} - Night shift",
    "{t} (Python)",
    "Experienced {t} wanted",
    "{t} H/F - CDI - Lyon",
    "{t}, days, $25/hr",
    "Trainee {t} (all genders)",
    "{t} [Hybrid] - Manchester",
    "Head {t} | Permanent",
    "{t} - Weekend shifts - Dublin",
    "{T}",
    "{t} (Teilzeit, 20h)",
    "Temporary {t} - immediate start",
    "{t} / Amsterdam / 40h",
)
_WORDS = re.compile(r"[\w+#]+")


def words(phrase: str) -> str:
    """Lower-case words joined by single spaces."""
    return " ".join(_WORDS.findall(phrase.lower()))


def half(label: str) -> str:
    """The label's half: the same on every machine and run (crc32)."""
    return "test" if zlib.crc32(words(label).encode()) % 2 == 0 else "train"


def dress(title: str, rng: random.Random) -> str:
    """The title as an ad words it (capitalised as ads are)."""
    pattern = rng.choice(DRESSINGS)
    return pattern.format(t=title.title(), T=title.upper())


def read_data() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The taxonomy's roles (raw) and the bench file."""
    roles = json.loads(gzip.decompress(TAXONOMY_FILE.read_bytes()))["roles"]
    bench = json.loads(gzip.decompress(BENCH_FILE.read_bytes()))
    return roles, bench


def build_cases(
    roles: list[dict[str, Any]], bench: dict[str, Any], split: str, per_group: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The roles to load (the split's labels out of the aliases) and the cases:
    dicts of set, variant, field, title, description, role code."""
    rng = random.Random(seed)
    esco = {o["code"]: o for o in bench["occupations"]}
    listed: dict[str, set[str]] = defaultdict(set)
    for r in roles:
        for phrase in [r["name"], *r["aliases"]]:
            listed[words(phrase)].add(r["code"])
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in roles:
        occupation = esco.get(r.get("esco_code") or r["code"])
        if occupation is not None:
            by_group[occupation["isco"][0]].append(r)
    loaded, cases = [], []
    held: dict[str, set[str]] = {}
    for r in roles:
        held[r["code"]] = {
            a for a in r["aliases"] if half(a) == split and words(a) != words(r["name"] + "s")
        }
        loaded.append(r | {"aliases": [a for a in r["aliases"] if a not in held[r["code"]]]})
    for group in sorted(by_group):
        members = sorted(by_group[group], key=lambda r: r["code"])
        for r in rng.sample(members, min(per_group, len(members))):
            occupation = esco[r.get("esco_code") or r["code"]]
            usable = sorted(a for a in held[r["code"]] if listed[words(a)] == {r["code"]})
            rng.shuffle(usable)
            base = {"field": group, "code": r["code"], "description": ""}
            for title in usable[:HOLD_OUT]:
                cases.append(base | {"set": "held-out", "variant": "plain", "title": title})
                cases.append(
                    base | {"set": "held-out", "variant": "dressed", "title": dress(title, rng)}
                )
                if occupation["description"]:
                    cases.append(
                        base
                        | {
                            "set": "held-out",
                            "variant": "description",
                            "title": title,
                            "description": occupation["description"],
                        }
                    )
            cases.append(base | {"set": "names", "variant": "plain", "title": r["name"]})
            cases.append(
                base | {"set": "names", "variant": "dressed", "title": dress(r["name"], rng)}
            )
    return loaded, cases


def names_only(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The taxonomy as it was before: occupations outside ICT with their name only."""
    ict = {"25", "35"}  # ISCO ICT professionals and technicians kept their labels
    return [
        r
        | {
            "aliases": r["aliases"]
            if (r.get("group_code") or "")[:2] in ict or r["source"] == "onet"
            else [a for a in r["aliases"] if words(a) == words(r["name"] + "s")]
        }
        for r in roles
    ]


# ------------------------------------------------------------------ the worker
def worker(spec_path: Path, out_path: Path) -> None:
    """Load the roles, embed them, resolve the cases' titles with the code on
    PYTHONPATH; write what each resolved to (role codes)."""
    spec = json.loads(spec_path.read_text())
    from jobmatch_devkit.localenv import use_bench_environment

    use_bench_environment(spec["db"], "signkey-bench-" + "ab" * 32)
    import inspect

    from sqlalchemy import text

    try:  # the package since issue #19
        from jobmatch.embeddings.providers import OfflineEmbeddings
        from jobmatch.roles import store as repository
    except ImportError:  # a revision before it (the baseline)
        from jobmatch.ai.embeddings import OfflineEmbeddings
        from jobmatch.roles import repository
    from jobmatch.db import migrate
    from jobmatch.db.models import Base
    from jobmatch.db.models.matching import EMBEDDING_DIM
    from jobmatch.db.session import get_engine, session_scope
    from jobmatch.roles import resolver
    from jobmatch.roles.taxonomy import RoleSpec
    from jobmatch.settings import get_settings

    migrate.upgrade("heads")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    embedder = OfflineEmbeddings(EMBEDDING_DIM)
    t0 = time.perf_counter()
    with session_scope() as s:
        repository.load_taxonomy(s, [RoleSpec.from_dict(r) for r in spec["roles"]])
    with session_scope() as s:
        while repository.embed_missing(s, embedder, 5000):
            pass
    setup = time.perf_counter() - t0
    limits = resolver.ResolverLimits.from_settings(get_settings())
    takes_descriptions = "descriptions" in inspect.signature(resolver.resolve_titles).parameters
    cases = spec["cases"]
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with session_scope() as s:
        code_of: dict[int, str] = dict(s.execute(text("SELECT id, code FROM global_roles")).all())
        for start in range(0, len(cases), BATCH):
            chunk = cases[start : start + BATCH]
            extra: dict[str, Any] = {}
            if takes_descriptions:
                extra["descriptions"] = [c["description"] for c in chunk]
            for res in resolver.resolve_titles(
                s, [c["title"] for c in chunk], embedder, limits, **extra
            ):
                results.append(
                    {
                        "status": res.status,
                        "roles": [code_of[h.role_id] for h in res.roles],
                        "family": [code_of[r] for r, _ in res.family],
                    }
                )
    elapsed = time.perf_counter() - t0
    out_path.write_text(
        json.dumps(
            {
                "results": results,
                "neighbours": neighbours(spec, embedder) if spec.get("calibrate") else None,
                "setup_s": setup,
                "ms_per_title": 1000 * elapsed / max(1, len(cases)),
            }
        )
    )


def neighbours(spec: dict[str, Any], embedder: Any) -> list[list[tuple[float, bool]]]:
    """Per case: its job's `NEIGHBOURS` nearest bench candidates by cosine, and whether
    each is the right one (what an unresolved job would meet by similarity alone).
    Job and candidate texts are built as the app builds them."""
    try:  # the package since issue #19
        from jobmatch.embeddings.texts import candidate_embedding_text, job_embedding_text
    except ImportError:  # a revision before it (the baseline)
        from jobmatch.ai.embeddings import candidate_embedding_text, job_embedding_text

    cases = spec["cases"]
    name_of = {r["code"]: r["name"] for r in spec["roles"]}
    codes = sorted({c["code"] for c in cases})
    candidates = embedder.embed(
        [
            candidate_embedding_text(
                cast(Any, SimpleNamespace)(
                    preferred_roles=[name_of[code]],
                    skills=[],
                    experience_years=5,
                    location="Berlin",
                )
            )
            for code in codes
        ]
    )
    jobs = embedder.embed(
        [
            job_embedding_text(
                cast(Any, SimpleNamespace)(
                    title=c["title"],
                    skills=[],
                    location="Berlin",
                    remote=False,
                    description=c["description"],
                )
            )
            for c in cases
        ]
    )
    out = []
    for case, job in zip(cases, jobs, strict=True):
        sims = sorted(
            (
                (sum(map(operator.mul, job, other)), code)
                for other, code in zip(candidates, codes, strict=True)
            ),
            reverse=True,
        )[:NEIGHBOURS]
        out.append([(round(sim, 4), code == case["code"]) for sim, code in sims])
    return out


def run_worker(
    label: str,
    checkout: Path,
    roles: list[dict[str, Any]],
    cases: list[dict[str, Any]],
    *,
    calibrate: bool = False,
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One worker process on `checkout`'s code; its output."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        out = Path(tmp) / "out.json"
        spec.write_text(
            json.dumps(
                {"db": f"{DB_NAME}_{label}", "roles": roles, "cases": cases, "calibrate": calibrate}
            )
        )
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(str(checkout / p) for p in ("functions", "devkit")),
            DATA_DIR=os.environ.get("DATA_DIR", str(ROOT / ".data")),
            **(settings or {}),
        )
        subprocess.run(  # noqa: S603 - this interpreter, this file
            [sys.executable, __file__, "--worker", str(spec), str(out)], env=env, check=True
        )
        return dict(json.loads(out.read_text()))


# ------------------------------------------------------------------ the report
def score(
    case: dict[str, Any],
    result: dict[str, Any],
    near: list[tuple[float, bool]],
    floor: float | None,
) -> dict[str, float]:
    """What one job reaches: the right candidate, wrong ones (by roles, by similarity),
    family offers, unresolved. An unresolved job meets its nearest candidates by
    similarity alone: all `NEIGHBOURS` (today), or those at the similarity-only
    floor (`floor`)."""
    roles = result["roles"]
    unresolved = not roles
    met = [right for sim, right in near if floor is None or sim >= floor] if unresolved else []
    by_similarity = sum(1 for right in met if not right)
    return {
        "n": 1,
        "recall": case["code"] in roles or any(met),
        "top1": bool(roles) and roles[0] == case["code"],
        "wrong": sum(1 for r in roles if r != case["code"]) + by_similarity,
        "wrong_similarity": by_similarity,
        "family": len([r for r in result["family"] if r != case["code"]]),
        "unresolved": unresolved,
    }


def table(
    cases: list[dict[str, Any]], runs: dict[str, dict[str, Any]], key: Any
) -> dict[Any, dict[str, dict[str, float]]]:
    """Sums per row key and run."""
    out: dict[Any, dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    near = runs["now"]["neighbours"]
    for label, run in runs.items():
        for case, result, nearest in zip(cases, run["results"], near, strict=True):
            row = key(case)
            if row is None:
                continue
            for name, value in score(case, result, nearest, run.get("floor")).items():
                out[row][label][name] += float(value)
    return out


def print_table(
    title: str, rows: dict[Any, dict[str, dict[str, float]]], labels: list[str]
) -> None:
    """Recall / wrong per job / unresolved per row, each run side by side."""
    print(f"\n{title}")
    head = f"{'':44s}{'jobs':>6s}"
    for label in labels:
        head += f" | {label + ': recall':>18s} {'top-1':>6s} {'wrong/job':>9s}"
        head += f" {'(simil.)':>8s} {'unres':>5s}"
    print(head)
    print("-" * len(head))
    for row in sorted(rows, key=str):
        cells = rows[row]
        n = cells[labels[0]]["n"]
        line = f"{' / '.join(map(str, row)) if isinstance(row, tuple) else str(row):44s}{int(n):6d}"
        for label in labels:
            c = cells[label]
            line += (
                f" | {100 * c['recall'] / n:17.1f}% {100 * c['top1'] / n:5.1f}%"
                f" {c['wrong'] / n:9.2f} {c['wrong_similarity'] / n:8.2f} {int(c['unresolved']):5d}"
            )
        print(line)


def _git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True)  # noqa: S603,S607


def print_calibration(near: list[list[tuple[float, bool]]], cases: list[dict[str, Any]]) -> None:
    """What a similarity-only floor keeps, over every held-out job's neighbours: the
    jobs still meeting their own occupation's candidate, and the others met per job."""
    held = [n for n, c in zip(near, cases, strict=True) if c["set"] == "held-out"]
    print(f"\nsimilarity-only floor (the {NEIGHBOURS} nearest candidates of {len(held)} jobs):")
    for floor in (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        right = sum(any(r for s, r in n if s >= floor) for n in held) / len(held)
        wrong = sum(sum(1 for s, r in n if s >= floor and not r) for n in held) / len(held)
        print(
            f"  floor {floor:.2f}: own candidate met {100 * right:5.1f} %, others {wrong:5.2f}/job"
        )


def main() -> None:
    """Run the bench (or, with `--worker`, one side of it)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="d4dde13", help="today's resolver (a git revision)")
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--per-group", type=int, default=60)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--no-base", action="store_true", help="this checkout only (tuning)")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=VALUE,...",
        help="one more run of this checkout with these settings (e.g. ROLE_SECOND_FLOOR=0.5)",
    )
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    raw_roles, bench = read_data()
    roles, cases = build_cases(raw_roles, bench, args.split, args.per_group, args.seed)
    groups = bench["major_groups"]
    print(
        f"taxonomy: {len(roles):,} roles, {sum(len(r['aliases']) for r in roles):,} aliases "
        f"loaded ('{args.split}' half of the alternative labels held out); "
        f"{len(cases):,} cases over {len({c['code'] for c in cases})} occupations in "
        f"{len({c['field'] for c in cases})} ISCO major groups"
    )
    from jobmatch.matching.scoring import SIMILARITY_ONLY_FLOOR

    runs = {"now": run_worker("now", ROOT, roles, cases, calibrate=True)}
    runs["now"]["floor"] = SIMILARITY_ONLY_FLOOR
    for k, overrides in enumerate(args.also):
        pairs = dict(item.split("=", 1) for item in overrides.split(","))
        runs[f"now, {overrides}"] = run_worker(f"also{k}", ROOT, roles, cases, settings=pairs)
        runs[f"now, {overrides}"]["floor"] = SIMILARITY_ONLY_FLOOR
    if not args.no_base:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / "base"
            _git("worktree", "add", "--detach", str(base), args.base)
            try:
                runs[f"today {args.base}"] = run_worker("base", base, roles, cases)
                runs["today, names only"] = run_worker("names", base, names_only(roles), cases)
            finally:
                _git("worktree", "remove", "--force", str(base))
    labels = list(runs)
    print_calibration(runs["now"]["neighbours"], cases)
    for label, run in runs.items():
        print(f"{label}: setup {run['setup_s']:.1f} s, {run['ms_per_title']:.2f} ms per title")
    print_table(
        "overall (set / variant)", table(cases, runs, lambda c: (c["set"], c["variant"])), labels
    )
    print_table(
        "held-out titles per field (ISCO major group), plain and dressed",
        table(
            cases,
            runs,
            lambda c: (
                (f"{c['field']} {groups[c['field']][:36]}",)
                if c["set"] == "held-out" and c["variant"] != "description"
                else None
            ),
        ),
        labels,
    )
    print_table(
        "preferred names per field",
        table(
            cases,
            runs,
            lambda c: (f"{c['field']} {groups[c['field']][:36]}",) if c["set"] == "names" else None,
        ),
        labels,
    )


if __name__ == "__main__":
    main()
