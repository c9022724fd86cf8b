"""The SQL side of roles: load a taxonomy, add roles and aliases, embed them, store
what jobs resolved to, and list what did not resolve.

Every write is idempotent: roles are upserted on their taxonomy `code` (or name),
terms on (role, term), a job's roles replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import delete, func, null, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.models import GlobalRole, Job, JobRole, RoleTerm
from jobmatch.embeddings.model_store import require_model
from jobmatch.roles.taxonomy import RoleSpec, normalize_phrase, role_text


class RoleHit(Protocol):
    """One role a title resolved to (as `resolver.RoleHit` has it)."""

    @property
    def role_id(self) -> int:
        """The role."""

    @property
    def similarity(self) -> float:
        """How near."""

    @property
    def method(self) -> str:
        """exact | alias | vector."""


class Resolution(Protocol):
    """What a title resolved to, as stored (`resolver.Resolution` has it)."""

    @property
    def roles(self) -> Sequence[RoleHit]:
        """Its roles, best first."""

    @property
    def family(self) -> Sequence[tuple[int, float]]:
        """The best role's near relatives (role id, similarity)."""

    @property
    def best_role_id(self) -> int | None:
        """Rank 1."""

    @property
    def status(self) -> str:
        """exact, alias, vector, unresolved or pending."""

    @property
    def confidence(self) -> float | None:
        """The best role's similarity."""


class RoleConflictError(Exception):
    """A role of that name exists already (or a parent code is unknown)."""


def _sync_terms(session: Session, role_ids: Sequence[int]) -> None:
    """Make `role_terms` hold exactly each role's name and aliases (vectors of kept
    terms stay; new terms wait for `embed_missing`)."""
    if not role_ids:
        return
    session.execute(
        text("""
            DELETE FROM role_terms t USING global_roles g
            WHERE g.id = t.role_id AND g.id = ANY(CAST(:ids AS int[]))
              AND NOT (t.term = g.name OR t.term = ANY(g.aliases))
        """),
        {"ids": list(role_ids)},
    )
    session.execute(
        text("""
            INSERT INTO role_terms (role_id, term)
            SELECT g.id, term FROM global_roles g,
                   unnest(array_prepend(g.name, g.aliases)) AS term
            WHERE g.id = ANY(CAST(:ids AS int[]))
            ON CONFLICT (role_id, term) DO NOTHING
        """),
        {"ids": list(role_ids)},
    )


def load_taxonomy(session: Session, roles: Sequence[RoleSpec]) -> dict[str, int]:
    """Upsert a taxonomy's roles on their code, then link parents and sync terms.
    A role whose text changed loses its vector (re-embedded by `embed_missing`).
    Returns counts."""
    if not roles:
        return {"roles": 0, "changed": 0}
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "aliases": list(r.aliases),
            "description": r.description,
            "group_code": r.group_code,
            "group_name": r.group_name,
            "source": r.source,
        }
        for r in roles
    ]
    changed = 0
    for start in range(0, len(rows), 500):
        stmt = insert(GlobalRole).values(rows[start : start + 500])
        new = stmt.excluded
        differs = or_(
            GlobalRole.name != new.name,
            GlobalRole.aliases != new.aliases,
            GlobalRole.description != new.description,
        )
        result = session.execute(
            stmt.on_conflict_do_update(
                index_elements=["code"],
                set_={
                    "name": new.name,
                    "aliases": new.aliases,
                    "description": new.description,
                    "group_code": new.group_code,
                    "group_name": new.group_name,
                    "source": new.source,
                    "embedding": null(),
                },
                where=differs,
            ).returning(GlobalRole.id)
        )
        changed += len(result.all())
    ids = dict(
        session.execute(
            select(GlobalRole.code, GlobalRole.id).where(
                GlobalRole.code.in_([r.code for r in roles])
            )
        ).all()
    )
    links = [
        {"rid": ids[r.code], "pid": ids.get(r.parent_code) if r.parent_code else None}
        for r in roles
    ]
    session.execute(
        text("UPDATE global_roles SET parent_id = :pid WHERE id = :rid"),
        links,
    )
    _sync_terms(session, sorted(ids.values()))
    return {"roles": len(roles), "changed": changed}


def add_role(
    session: Session,
    name: str,
    aliases: Sequence[str],
    description: str,
    parent_id: int | None,
) -> GlobalRole:
    """A new custom role (in its parent's group); RoleConflictError if the name exists."""
    name = normalize_phrase(name)
    if session.scalar(select(GlobalRole.id).where(GlobalRole.name == name)) is not None:
        raise RoleConflictError(f"a role named {name!r} exists")
    parent = session.get(GlobalRole, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise RoleConflictError(f"parent role {parent_id} not found")
    role = GlobalRole(
        name=name,
        aliases=sorted({normalize_phrase(a) for a in aliases} - {name, ""}),
        description=description.strip(),
        parent_id=parent_id,
        group_code=parent.group_code if parent else None,
        group_name=parent.group_name if parent else None,
        source="custom",
    )
    session.add(role)
    session.flush()
    _sync_terms(session, [role.id])
    return role


def add_alias(session: Session, role_id: int, alias: str) -> GlobalRole | None:
    """Give a role one more alias (its vector is recomputed); None if no such role."""
    role = session.get(GlobalRole, role_id)
    if role is None:
        return None
    alias = normalize_phrase(alias)
    if alias and alias != role.name and alias not in role.aliases:
        role.aliases = [*role.aliases, alias]
        role.embedding = None
        session.flush()
        _sync_terms(session, [role.id])
    return role


def count_missing_vectors(session: Session) -> int:
    """Roles and terms without a vector."""
    return sum(
        int(
            session.scalar(select(func.count()).select_from(model).where(model.embedding.is_(None)))
            or 0
        )
        for model in (GlobalRole, RoleTerm)
    )


def embed_missing(session: Session, embedder: EmbeddingProvider, limit: int) -> int:
    """Embed up to `limit` roles, then terms, lacking a vector; how many were embedded.
    Rows are locked (SKIP LOCKED) so overlapping runs split the work."""
    roles = session.scalars(
        select(GlobalRole)
        .where(GlobalRole.embedding.is_(None))
        .order_by(GlobalRole.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    terms = session.scalars(
        select(RoleTerm)
        .where(RoleTerm.embedding.is_(None))
        .order_by(RoleTerm.id)
        .limit(max(0, limit - len(roles)))
        .with_for_update(skip_locked=True)
    ).all()
    if not roles and not terms:
        return 0
    require_model(session, embedder)
    texts = [role_text(r.name, r.aliases, r.description) for r in roles]
    vectors = embedder.embed(texts + [t.term for t in terms])
    rows: list[GlobalRole | RoleTerm] = [*roles, *terms]
    for row, vector in zip(rows, vectors, strict=True):
        row.embedding = vector
    session.flush()
    return len(vectors)


def store_resolutions(
    session: Session, job_ids: Sequence[int], resolutions: Sequence[Resolution]
) -> None:
    """Replace these jobs' roles with what they resolved to (rank 1 is also the
    job's `normalized_role_id`); family roles follow the direct ones."""
    session.execute(delete(JobRole).where(JobRole.job_id.in_(list(job_ids))))
    rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for job_id, res in zip(job_ids, resolutions, strict=True):
        for rank, hit in enumerate(res.roles, start=1):
            rows.append(
                {
                    "job_id": job_id,
                    "role_id": hit.role_id,
                    "similarity": hit.similarity,
                    "rank": rank,
                    "method": hit.method,
                }
            )
        for k, (role_id, similarity) in enumerate(res.family, start=len(res.roles) + 1):
            rows.append(
                {"job_id": job_id, "role_id": role_id, "similarity": similarity, "rank": k}
                | {"method": "family"}
            )
        updates.append(
            {
                "jid": job_id,
                "role": res.best_role_id,
                "status": res.status,
                "confidence": res.confidence,
            }
        )
    if rows:
        session.execute(insert(JobRole).on_conflict_do_nothing(), rows)
    if updates:
        session.execute(
            text("""
                UPDATE jobs SET normalized_role_id = :role, role_resolution = :status,
                       role_confidence = :confidence
                WHERE id = :jid
            """),
            updates,
        )


def jobs_to_resolve(
    session: Session,
    job_ids: Sequence[int] | None,
    *,
    after_id: int,
    limit: int,
    below_confidence: float | None = None,
    only_pending: bool = True,
) -> list[tuple[int, str]]:
    """(id, title) of active jobs still `pending` (or unresolved, or resolved by
    meaning below `below_confidence`), by id after `after_id`; of `job_ids` when
    given, the pending ones (all of them unless `only_pending`)."""
    query = select(Job.id, Job.title).where(Job.id > after_id, Job.status == "active")
    if job_ids is not None:
        query = query.where(Job.id.in_(list(job_ids)))
        if only_pending:
            query = query.where(Job.role_resolution == "pending")
    else:
        wanted: Any = Job.role_resolution.in_(["pending", "unresolved"])
        if below_confidence is not None:
            wanted = wanted | (
                (Job.role_resolution == "vector") & (Job.role_confidence < below_confidence)
            )
        query = query.where(wanted)
    rows = session.execute(query.order_by(Job.id).limit(limit)).all()
    return [(int(r.id), str(r.title)) for r in rows]


def unresolved_titles(session: Session, limit: int, offset: int) -> tuple[int, list[Any]]:
    """Titles of active unresolved jobs, most frequent first: (distinct titles, rows of
    title, jobs, best confidence, latest job id)."""
    base = select(Job.title).where(Job.role_resolution == "unresolved", Job.status == "active")
    total = session.scalar(select(func.count()).select_from(base.distinct().subquery())) or 0
    rows = session.execute(
        select(
            Job.title,
            func.count().label("jobs"),
            func.max(Job.id).label("latest_job_id"),
        )
        .where(Job.role_resolution == "unresolved", Job.status == "active")
        .group_by(Job.title)
        .order_by(func.count().desc(), Job.title)
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), list(rows)


def reembed_after(
    session: Session,
    entity: str,
    after_id: int,
    batch: int,
    embedder: EmbeddingProvider,
) -> tuple[int, int]:
    """Rewrite the vectors of the next `batch` roles (or terms) after `after_id`,
    whatever wrote them: the new cursor and how many."""
    model: Any = GlobalRole if entity == "roles" else RoleTerm
    rows = session.scalars(
        select(model).where(model.id > after_id).order_by(model.id).limit(batch)
    ).all()
    if not rows:
        return after_id, 0
    texts = [
        role_text(r.name, r.aliases, r.description) if entity == "roles" else str(r.term)
        for r in rows
    ]
    for row, vector in zip(rows, embedder.embed(texts), strict=True):
        row.embedding = vector
    return int(rows[-1].id), len(rows)


# ---------------------------------------------------------------- the resolver's reads


def role_phrases(session: Session) -> list[tuple[int, str, list[str]]]:
    """(id, name, aliases) of every role (the resolver's phrase index)."""
    rows = session.execute(select(GlobalRole.id, GlobalRole.name, GlobalRole.aliases)).all()
    return [(r.id, r.name, list(r.aliases)) for r in rows]


def vector_candidates(
    session: Session,
    *,
    vectors_json: str,
    extra_json: str,
    k_roles: int,
    k_terms: int,
    ef_search: int,
) -> list[Any]:
    """Rows of (vector index, role id, text similarity, best term similarity) for
    each query vector's nearest `k_roles` roles, the roles of its nearest `k_terms`
    terms, and the extra (index, role) pairs named (one query)."""
    session.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
    rows = session.execute(
        text("""
            WITH q AS (
                SELECT (t.ord - 1)::int AS i, CAST(t.elem::text AS vector) AS v
                FROM jsonb_array_elements(CAST(:vecs AS jsonb)) WITH ORDINALITY AS t(elem, ord)
            ), cand AS (
                SELECT q.i, r.id AS role_id FROM q CROSS JOIN LATERAL (
                    SELECT id FROM global_roles WHERE embedding IS NOT NULL
                    ORDER BY embedding <=> q.v LIMIT :k_roles) r
                UNION
                SELECT q.i, t.role_id FROM q CROSS JOIN LATERAL (
                    SELECT role_id FROM role_terms WHERE embedding IS NOT NULL
                    ORDER BY embedding <=> q.v LIMIT :k_terms) t
                UNION
                SELECT (e->>0)::int, (e->>1)::int
                FROM jsonb_array_elements(CAST(:extra AS jsonb)) AS e
            )
            SELECT c.i, c.role_id, 1 - (g.embedding <=> q.v) AS text_sim,
                   (SELECT max(1 - (t.embedding <=> q.v)) FROM role_terms t
                    WHERE t.role_id = c.role_id AND t.embedding IS NOT NULL) AS term_sim
            FROM cand c JOIN q ON q.i = c.i JOIN global_roles g ON g.id = c.role_id
            WHERE g.embedding IS NOT NULL
        """),
        {"vecs": vectors_json, "extra": extra_json, "k_roles": k_roles, "k_terms": k_terms},
    ).all()
    return list(rows)


def relatives(session: Session, role_ids: Sequence[int]) -> list[Any]:
    """Rows of (role, relative, similarity of their vectors): each role's parent,
    children, siblings and the other roles of its ISCO unit group (a four-digit
    `group_code`)."""
    rows = session.execute(
        text("""
            SELECT b.id, r.id, COALESCE(1 - (r.embedding <=> b.embedding), 0) FROM global_roles b
            JOIN global_roles r ON r.id <> b.id AND (
                r.id = b.parent_id OR r.parent_id = b.id
                OR (b.parent_id IS NOT NULL AND r.parent_id = b.parent_id)
                OR (length(b.group_code) = 4 AND r.group_code = b.group_code))
            WHERE b.id = ANY(CAST(:ids AS int[]))
            ORDER BY b.id, r.id
        """),
        {"ids": list(role_ids)},
    ).all()
    return list(rows)
