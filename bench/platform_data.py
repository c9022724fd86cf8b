"""Synthetic platform data for the benchmarks: roles, candidates and new jobs.

60 roles with ~15 core skills each out of a 300-skill vocabulary, candidates
preferring 1-3 roles (half by name, half by id), 85% matchable; embeddings come
from the offline provider over each row's text (real vectors of related texts,
not random ones), computed in bulk and loaded with COPY. Importing it reads no
environment (settings and the engine are read on first use), so a benchmark may
import it before `use_local_environment` runs.
"""

from __future__ import annotations

import json
import os
import random
import time

from sqlalchemy import create_engine, text

from jobmatch.db import migrate
from jobmatch.db.embedded import embedded_database_url
from jobmatch.db.models import Candidate
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.db.session import get_engine, reset_engine, session_scope
from jobmatch.embeddings.providers import OfflineEmbeddings
from jobmatch.embeddings.texts import candidate_embedding_text

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


def reset_database(db_name: str) -> None:
    """Drop and re-create `db_name` on the embedded server, migrated to head."""
    reset_engine()
    url = embedded_database_url(os.environ["DATA_DIR"], db_name)
    admin = create_engine(url.replace(f"/{db_name}?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
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
        for i, name in enumerate(ROLE_WORDS):
            s.execute(
                text("INSERT INTO global_roles (id, name, aliases) VALUES (:i, :n, :a)"),
                {"i": i + 1, "n": name, "a": [name.replace("engineer", "developer")]},
            )
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
            "id, job_hash, title, company, normalized_role_id, skills, location, country, "
            "remote, salary_min, salary_max, currency, experience_min, description, source, "
            "status, role_resolution"
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
                        role,
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
                        "exact",
                    )
                )
        # What the import stores for a title that is a role's name once cleaned
        # ("Senior Backend Engineer"): the role, resolved exactly, no search needed.
        cur.execute(
            "INSERT INTO job_roles (job_id, role_id, similarity, rank, method) "
            "SELECT id, normalized_role_id, 1.0, 1, 'exact' FROM jobs"
        )
        raw.commit()
    finally:
        raw.close()
    return list(range(1, n_jobs + 1)), embed_seconds
