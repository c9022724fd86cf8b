"""Small builders for matching tests: roles, tenants, candidates and jobs written
through the same code paths the app uses (role resolution, embeddings)."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from sqlalchemy.orm import Session

from jobmatch.db.models import Candidate, Job, Tenant, User, UserPreferences
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.embeddings.providers import OfflineEmbeddings
from jobmatch.embeddings.store import embed_candidate, embed_jobs, preferences_embedding
from jobmatch.matching.store import resolve_preferred_roles
from jobmatch.roles import store as roles_repo
from jobmatch.roles.resolver import Resolution, RoleHit

# What `Dependencies` builds with AI off, as in every test: rows embedded here and
# rows the app embeds are comparable.
EMBEDDER = OfflineEmbeddings(EMBEDDING_DIM)
_seq = itertools.count(1)


def role(
    session: Session, name: str, *aliases: str, description: str = "", parent: int | None = None
) -> int:
    """A role as the admin route adds one, with its vectors (name, aliases, terms)."""
    row = roles_repo.add_role(session, name, aliases, description, parent)
    roles_repo.embed_missing(session, EMBEDDER, 10_000)
    return row.id


def tenant(session: Session, name: str) -> int:
    row = Tenant(name=name)
    session.add(row)
    session.flush()
    return row.id


def candidate(
    session: Session, tenant_id: int, preferred_roles: list[Any], **fields: Any
) -> Candidate:
    n = next(_seq)
    values: dict[str, Any] = {
        "first_name": f"Cand{n}",
        "last_name": "Test",
        "email": f"cand{n}@example.com",
        "status": "approved",
        "skills": ["python", "sql", "django"],
        "experience_years": 5,
        "location": "Berlin",
        "country": "DE",
        "remote_ok": True,
        "salary_expectation": 60_000,
    }
    values.update(fields)
    row = Candidate(tenant_id=tenant_id, preferred_roles=preferred_roles, **values)
    row.preferred_role_ids = resolve_preferred_roles(session, preferred_roles)
    session.add(row)
    session.flush()
    embed_candidate(session, row, EMBEDDER)
    return row


def job(session: Session, role_id: int | None, *, embed: bool = True, **fields: Any) -> Job:
    n = next(_seq)
    values: dict[str, Any] = {
        "title": "Backend Engineer",
        "company": f"Acme {n}",
        "skills": ["python", "sql", "django", "docker"],
        "location": "Berlin",
        "country": "DE",
        "remote": True,
        "salary_min": 55_000,
        "salary_max": 75_000,
        "experience_min": 3,
        "description": "Build Python services with Django and PostgreSQL.",
        "source": "test",
        "status": "active",
    }
    values.update(fields)
    values.setdefault("job_hash", hashlib.sha256(f"test-{n}".encode()).hexdigest())
    row = Job(normalized_role_id=role_id, **values)
    session.add(row)
    session.flush()
    if role_id is not None:  # as an import whose title is the role's name stores it
        resolved = Resolution(row.title, row.title, "exact", (RoleHit(role_id, 1.0, "exact"),))
        roles_repo.store_resolutions(session, [row.id], [resolved])
    if embed:
        embed_jobs(session, [row.id], EMBEDDER)
    return row


def user(session: Session, email: str, roles: list[str], **prefs: Any) -> User:
    row = User(email=email, is_premium=bool(prefs.pop("premium", False)))
    session.add(row)
    session.flush()
    values: dict[str, Any] = {
        "skills": ["python", "sql", "django"],
        "locations": ["Berlin"],
        "countries": ["DE"],
        "remote_ok": True,
        "salary_min": 60_000,
        "experience_years": 5,
    }
    values.update(prefs)
    p = UserPreferences(user_id=row.id, roles=roles, **values)
    session.add(p)
    session.flush()
    preferences_embedding(session, row.id, EMBEDDER)
    return row
