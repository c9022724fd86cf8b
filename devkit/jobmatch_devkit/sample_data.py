"""Load the bundled sample dataset (`data/*.json`, see generate_sample_data.py).

Roles, tenants, candidates and free-signup users are written straight to the
database (they are the state the product starts from); jobs are NOT: the demo
and the tests post them through `POST /api/jobs/import`, as the scraper does,
so that their import, dedup and `jobs/imported` run are exercised for real.
Loading twice adds nothing (roles and tenants by name, candidates by tenant and
email, users by email).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.models import Candidate, GlobalRole, Tenant, User, UserPreferences
from jobmatch.db.models.matching import EMBEDDING_DIM, MATCHABLE_STATUSES
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.embeddings.providers import OfflineEmbeddings
from jobmatch.embeddings.texts import candidate_embedding_text
from jobmatch.matching.store import resolve_preferred_roles
from jobmatch.roles import store as roles_repo
from jobmatch.roles.taxonomy import RoleSpec

DATA_DIR = Path(__file__).resolve().parent / "data"
# The fields of a user record that `POST /api/signup/free` takes.
SIGNUP_FIELDS = (
    "email",
    "name",
    "roles",
    "skills",
    "locations",
    "countries",
    "salary_min",
    "experience_years",
    "remote_ok",
)


@functools.cache
def dataset(name: str) -> Any:
    """One file of the dataset: roles, jobs, tenants or users (parsed once)."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class Loaded:
    """Database ids of what was loaded, for the demo and tests to refer to."""

    role_ids: dict[str, int] = field(default_factory=dict)
    tenant_ids: dict[str, int] = field(default_factory=dict)
    candidate_ids: dict[str, int] = field(default_factory=dict)  # external_ref -> id
    user_emails: list[str] = field(default_factory=list)


def load_roles(session: UnitOfWork) -> dict[str, int]:
    """Upsert the sample roles (with aliases) as a small taxonomy, with their vectors
    from the offline model; return name -> id."""
    specs = [
        RoleSpec(
            code=f"sample:{role['id']}",
            name=role["name"],
            aliases=tuple(role["aliases"]),
            description="",
            group_code=None,
            group_name=None,
            parent_code=None,
            source="sample",
        )
        for role in dataset("roles")
    ]
    roles_repo.load_taxonomy(session, specs)
    roles_repo.embed_missing(session, OfflineEmbeddings(EMBEDDING_DIM), 10_000)
    return {r.name: r.id for r in session.execute(select(GlobalRole.id, GlobalRole.name))}


def load_candidates(
    session: UnitOfWork, role_ids: dict[str, int], *, per_tenant: int | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Tenants and their candidates; return (tenant name -> id, external_ref -> id).

    `preferred_roles` keeps the dataset's mix of ids and names as given (candidates
    arrive with either); dataset ids are rewritten to this database's ids so they
    stay true.
    """
    by_dataset_id = {r["id"]: role_ids[r["name"]] for r in dataset("roles")}
    tenant_ids: dict[str, int] = {}
    candidate_ids: dict[str, int] = {}
    for tenant in dataset("tenants"):
        session.execute(
            insert(Tenant)
            .values(name=tenant["name"])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.name == tenant["name"])).one()
        tenant_ids[tenant["name"]] = tenant_id
        existing = {
            row.email: row.id
            for row in session.execute(
                select(Candidate.email, Candidate.id).where(Candidate.tenant_id == tenant_id)
            )
        }
        for raw in tenant["candidates"][:per_tenant]:
            if raw["email"] in existing:
                candidate_ids[raw["external_ref"]] = existing[raw["email"]]
                continue
            preferred = [
                by_dataset_id[p] if isinstance(p, int) else p for p in raw["preferred_roles"]
            ]
            fields = {k: v for k, v in raw.items() if k not in ("external_ref", "preferred_roles")}
            candidate = Candidate(
                tenant_id=tenant_id,
                preferred_roles=preferred,
                preferred_role_ids=resolve_preferred_roles(session, preferred),
                **fields,
            )
            session.add(candidate)
            session.flush()
            candidate_ids[raw["external_ref"]] = candidate.id
    return tenant_ids, candidate_ids


def load_users(session: UnitOfWork, *, limit: int | None = None, skip: int = 0) -> list[str]:
    """Free-signup users with their preferences (upsert by email); return emails.
    The first `skip` users are left out (the demo signs them up through the API)."""
    emails = []
    for raw in dataset("users")[skip:limit]:
        user_id = session.scalars(
            insert(User)
            .values(email=raw["email"], name=raw["name"], is_premium=raw["is_premium"])
            .on_conflict_do_update(
                index_elements=["email"],
                set_={"name": raw["name"], "is_premium": raw["is_premium"]},
            )
            .returning(User.id)
        ).one()
        prefs = {k: raw[k] for k in SIGNUP_FIELDS[2:]}
        session.execute(
            insert(UserPreferences)
            .values(user_id=user_id, **prefs)
            .on_conflict_do_update(index_elements=["user_id"], set_=prefs)
        )
        emails.append(raw["email"])
    return emails


def embed_matchable_candidates(session: UnitOfWork, embedder: EmbeddingProvider) -> int:
    """Embed the candidates that are already approved, as they would be in a live
    system (approval embeds them); pending ones get theirs when approved. Pass the
    app's embedder (`Dependencies.embedder`), so the vectors are comparable."""
    candidates = list(
        session.scalars(
            select(Candidate).where(
                Candidate.status.in_(MATCHABLE_STATUSES), Candidate.embedding.is_(None)
            )
        )
    )
    vectors = embedder.embed([candidate_embedding_text(c) for c in candidates])
    for candidate, vector in zip(candidates, vectors, strict=True):
        candidate.embedding = vector
    session.flush()
    return len(candidates)


def load(
    session: UnitOfWork,
    *,
    candidates_per_tenant: int | None = None,
    users: int | None = None,
    skip_users: int = 0,
) -> Loaded:
    """Everything but the jobs (those go through the import API); `None` = all."""
    role_ids = load_roles(session)
    tenant_ids, candidate_ids = load_candidates(session, role_ids, per_tenant=candidates_per_tenant)
    return Loaded(
        role_ids=role_ids,
        tenant_ids=tenant_ids,
        candidate_ids=candidate_ids,
        user_emails=load_users(session, limit=users, skip=skip_users),
    )


def job_batches(
    batch_size: int, *, limit: int | None = None, source: str = "sample"
) -> list[dict[str, Any]]:
    """The sample jobs as `POST /api/jobs/import` bodies of at most `batch_size` jobs."""
    jobs = dataset("jobs")[:limit]
    return [
        {
            "source": source,
            "batch_id": f"{source}-{start // batch_size + 1:03d}",
            "jobs": jobs[start : start + batch_size],
        }
        for start in range(0, len(jobs), batch_size)
    ]
