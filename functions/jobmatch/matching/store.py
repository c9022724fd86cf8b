"""The SQL side of matching: candidate generation, feature loading, bulk writes.

Every query here is set-based: one statement returns all pairs of a chunk with
their cosine similarity computed by pgvector, one loads the features of all rows
involved, one `INSERT .. ON CONFLICT` per batch of rows (sent as one JSONB
parameter) writes all matches. Nothing runs a query per pair.

Who is paired with whom:
- a job with the candidates whose `preferred_role_ids` hold any of the job's roles
  (`job_roles`: the few roles its title resolved to, and the best one's family;
  GIN index, `&&`), status approved / ready_for_assignment, with an embedding,
  optionally of one tenant; a job whose title resolved to no role with its
  `unresolved_k` nearest candidates (HNSW);
- a profile (candidate or user) with active jobs of its preferred roles, the
  closest `max_jobs` by similarity (btree on `job_roles.role_id`, no ANN: an HNSW
  scan with a role filter would drop rows after its `ef_search` window), plus the
  nearest unresolved jobs (a partial HNSW index holds only those). A profile
  without roles gets the `top_k` nearest active jobs through the HNSW index instead.
Candidates without preferred roles are therefore matched only from their own
side (and by unresolved jobs); re-matching a job leaves their matches alone (see
`delete_stale_job_matches`).

A job is scored on the skills it lists, or on its extracted tags when it lists
none (`SCORED_SKILLS`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Select, bindparam, case, column, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert
from sqlalchemy.orm import Session

from jobmatch.ai.embedder import EmbeddingProvider
from jobmatch.db.models import (
    Candidate,
    CandidateJobMatch,
    GlobalRole,
    Job,
    JobRole,
    JobSkill,
    PreferenceSignal,
    Skill,
    UserMatch,
)
from jobmatch.db.models.engagement import USER_EXCLUDED_JOBS
from jobmatch.db.models.matching import EMBEDDING_DIM, MATCHABLE_STATUSES
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.matching.scoring import JobFeatures, MatchResult, ProfileFeatures, stored_fields
from jobmatch.roles.resolver import ResolverLimits, resolve_role_names

Pair = tuple[int, int, float]

_STATUSES = ", ".join(f"'{s}'" for s in MATCHABLE_STATUSES)
_ELIGIBLE = f"""
    c.status IN ({_STATUSES})
    AND c.embedding IS NOT NULL
    AND (CAST(:tenant_id AS int) IS NULL OR c.tenant_id = :tenant_id)
"""


@dataclass(frozen=True, slots=True)
class JobChunk:
    """A unit of job->candidate work: these jobs against candidates with
    `after < id <= upto` (None = unbounded). A step output and input as it is."""

    job_ids: tuple[int, ...]
    after: int | None = None
    upto: int | None = None


def resolve_preferred_roles(
    session: UnitOfWork,
    raw: Iterable[Any],
    embedder: EmbeddingProvider | None = None,
    limits: ResolverLimits | None = None,
) -> list[int]:
    """Role ids for preferred roles as given: ids, numeric strings, or free text
    resolved as job titles are (a name or alias, else the closest role by meaning
    when an embedder is given, held to the same `limits` as titles: the settings'
    when the caller has them). Unknown ids and text that resolves to nothing are
    dropped: they match nothing."""
    ids: set[int] = set()
    names: list[str] = []
    for item in raw or ():
        if isinstance(item, bool):
            continue
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            ids.add(int(item))
        elif isinstance(item, str) and item.strip() and item.strip() not in names:
            names.append(item.strip())
    limits = limits or ResolverLimits()
    found = set(resolve_role_names(session, names, embedder, limits)) if names else set()
    if ids:
        found.update(session.scalars(select(GlobalRole.id).where(GlobalRole.id.in_(sorted(ids)))))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class JobState:
    """How far a job is on its way to matching: its best role, whether it has an
    embedding, how its title resolved."""

    id: int
    role_id: int | None
    embedded: bool
    resolution: str


def job_states(session: Session, job_ids: Sequence[int]) -> list[JobState]:
    """The states of those of these jobs that exist."""
    rows = session.execute(
        select(
            Job.id, Job.normalized_role_id, Job.embedding.is_not(None), Job.role_resolution
        ).where(Job.id.in_(list(job_ids)))
    ).all()
    return [JobState(int(r[0]), r[1], bool(r[2]), str(r[3])) for r in rows]


def matchable_jobs(session: Session, job_ids: Iterable[int]) -> list[tuple[int, str]]:
    """(id, role resolution) of these jobs that can be matched now: active, embedded,
    their title resolved (or found unresolved), by id."""
    rows = session.execute(
        select(Job.id, Job.role_resolution)
        .where(
            Job.id.in_(sorted(set(job_ids))),
            Job.status == "active",
            Job.embedding.is_not(None),
            Job.role_resolution != "pending",
        )
        .order_by(Job.id)
    ).all()
    return [(int(r.id), str(r.role_resolution)) for r in rows]


def jobs_by_hash(
    session: Session, embedding: Sequence[float], job_hashes: Sequence[str]
) -> list[tuple[int, float]]:
    """The named active jobs (a matching request may list them) with their
    similarity to the profile."""
    stmt = text("""
        SELECT id, COALESCE(1 - (embedding <=> :q), 0) AS similarity
        FROM jobs WHERE job_hash = ANY(CAST(:hashes AS text[])) AND status = 'active'
    """).bindparams(bindparam("q", type_=Vector(EMBEDDING_DIM)))
    rows = session.execute(stmt, {"q": list(embedding), "hashes": list(job_hashes)}).all()
    return [(int(j), float(s)) for j, s in rows]


def user_affinity(session: Session, user_id: int) -> dict[str, float]:
    """A user's learnt preference weights, keyed `kind:value` (`scoring.signal_keys`)."""
    rows = session.execute(
        select(PreferenceSignal.kind, PreferenceSignal.value, PreferenceSignal.weight).where(
            PreferenceSignal.user_id == user_id, PreferenceSignal.weight != 0
        )
    ).all()
    return {f"{kind}:{value}": float(weight) for kind, value, weight in rows}


def excluded_jobs(user_id: int) -> Select[Any]:
    """The ids of the jobs never to recommend to this user again (applied to or
    disliked): the `user_excluded_jobs` view, as a subquery for reads too."""
    view = USER_EXCLUDED_JOBS
    return select(view.c.job_id).where(view.c.user_id == user_id)


def excluded_job_ids(session: Session, user_id: int) -> set[int]:
    """`excluded_jobs`, fetched."""
    return {int(j) for j in session.scalars(excluded_jobs(user_id))}


def job_features(row: Any, roles: Sequence[tuple[int, float, str]] = ()) -> JobFeatures:
    """A job row (model or result row) and its `job_roles` (role, similarity, method)
    as scoring features."""
    return JobFeatures(
        job_id=row.id,
        job_hash=row.job_hash,
        title=row.title,
        company=row.company,
        skills=tuple(row.skills or ()),
        location=row.location or "",
        country=row.country,
        remote=bool(row.remote),
        salary_min=row.salary_min,
        salary_max=row.salary_max,
        experience_min=row.experience_min,
        role_id=row.normalized_role_id,
        roles=tuple((r, s) for r, s, m in roles if m != "family"),
        family=frozenset(r for r, _, m in roles if m == "family"),
    )


# The skills a job is scored on: those it lists, or, when it lists none (job boards
# rarely do), the names of the skill tags extracted from its text, surest first.
_TAGGED_SKILLS = (
    select(func.array_agg(aggregate_order_by(Skill.name, JobSkill.confidence.desc(), Skill.name)))
    .select_from(JobSkill)
    .join(Skill, Skill.id == JobSkill.skill_id)
    .where(JobSkill.job_id == Job.id)
    .scalar_subquery()
)
SCORED_SKILLS = case((func.cardinality(Job.skills) > 0, Job.skills), else_=_TAGGED_SKILLS).label(
    "skills"
)


def load_jobs(session: Session, job_ids: Iterable[int]) -> dict[int, JobFeatures]:
    """Features of these jobs, with their roles, by id (two queries)."""
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    cols = (
        Job.id,
        Job.job_hash,
        Job.title,
        Job.company,
        SCORED_SKILLS,
        Job.location,
        Job.country,
        Job.remote,
        Job.salary_min,
        Job.salary_max,
        Job.experience_min,
        Job.normalized_role_id,
    )
    rows = session.execute(select(*cols).where(Job.id.in_(ids))).all()
    roles: dict[int, list[tuple[int, float, str]]] = defaultdict(list)
    for job_id, role_id, similarity, method in session.execute(
        select(JobRole.job_id, JobRole.role_id, JobRole.similarity, JobRole.method)
        .where(JobRole.job_id.in_(ids))
        .order_by(JobRole.job_id, JobRole.rank)
    ):
        roles[job_id].append((role_id, similarity, method))
    return {r.id: job_features(r, roles.get(r.id, ())) for r in rows}


def load_candidates(
    session: Session, candidate_ids: Iterable[int]
) -> tuple[dict[int, ProfileFeatures], dict[int, int]]:
    """Features and tenant of these candidates, by id (one query)."""
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}, {}
    rows = session.execute(
        select(
            Candidate.id,
            Candidate.tenant_id,
            Candidate.skills,
            Candidate.experience_years,
            Candidate.location,
            Candidate.country,
            Candidate.remote_ok,
            Candidate.salary_expectation,
            Candidate.preferred_role_ids,
        ).where(Candidate.id.in_(ids))
    ).all()
    profiles = {r.id: candidate_profile(r) for r in rows}
    return profiles, {r.id: r.tenant_id for r in rows}


def candidate_profile(row: Any) -> ProfileFeatures:
    """A candidate row (model or result row) as scoring features."""
    return ProfileFeatures.build(
        row.id,
        skills=row.skills,
        experience_years=row.experience_years,
        locations=[row.location] if row.location else [],
        countries=[row.country] if row.country else [],
        remote_ok=bool(row.remote_ok),
        salary_expectation=row.salary_expectation,
        role_ids=row.preferred_role_ids or (),
    )


def job_role_sets(session: Session, job_ids: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """The roles (direct and family) each of these jobs is offered to, by job id."""
    rows = session.execute(
        select(JobRole.job_id, JobRole.role_id)
        .where(JobRole.job_id.in_(list(job_ids)))
        .order_by(JobRole.job_id, JobRole.role_id)
    ).all()
    sets: dict[int, list[int]] = defaultdict(list)
    for job_id, role_id in rows:
        sets[int(job_id)].append(int(role_id))
    return {j: tuple(r) for j, r in sets.items()}


def eligible_counts(
    session: Session, role_sets: Sequence[tuple[int, ...]], tenant_id: int | None
) -> list[int]:
    """How many matchable candidates prefer any role of each set (one statement,
    one GIN scan per set)."""
    if not role_sets:
        return []
    rows = session.execute(
        text(f"""
            SELECT s.k, (SELECT count(*) FROM candidates c
                         WHERE c.preferred_role_ids && CAST(s.roles AS int[]) AND {_ELIGIBLE})
            FROM unnest(CAST(:sets AS text[])) WITH ORDINALITY AS s(roles, k)
        """),
        {"sets": [_int_array(r) for r in role_sets], "tenant_id": tenant_id},
    ).all()
    counts = {int(k): int(n) for k, n in rows}
    return [counts[k + 1] for k in range(len(role_sets))]


def _int_array(values: Iterable[int]) -> str:
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def count_eligible_candidates(
    session: Session, role_ids: Sequence[int], tenant_id: int | None
) -> int:
    """How many distinct matchable candidates prefer any of these roles."""
    if not role_ids:
        return 0
    return int(
        session.execute(
            text(f"""
                SELECT count(*) FROM candidates c
                WHERE c.preferred_role_ids && CAST(:roles AS int[]) AND {_ELIGIBLE}
            """),
            {"roles": list(role_ids), "tenant_id": tenant_id},
        ).scalar_one()
    )


def candidate_id_boundaries(
    session: Session, role_ids: Sequence[int], every: int, tenant_id: int | None
) -> list[int]:
    """Every `every`-th eligible candidate id preferring any of `role_ids`: range cut
    points that split a job too big for one step into steps of at most `every`."""
    rows = session.execute(
        text(f"""
            SELECT id FROM (
                SELECT c.id, row_number() OVER (ORDER BY c.id) AS rn, count(*) OVER () AS n
                FROM candidates c
                WHERE c.preferred_role_ids && CAST(:roles AS int[]) AND {_ELIGIBLE}
            ) ranked
            WHERE rn % :every = 0 AND rn < n
            ORDER BY id
        """),
        {"roles": list(role_ids), "every": every, "tenant_id": tenant_id},
    ).scalars()
    return [int(x) for x in rows]


def job_candidate_pairs(
    session: Session, chunk: JobChunk, tenant_id: int | None, *, unresolved_k: int
) -> list[Pair]:
    """All eligible (candidate, job, similarity) pairs of a chunk, similarity by
    pgvector: a job with roles meets the candidates preferring any of them; an
    unresolved job meets its `unresolved_k` nearest candidates."""
    session.execute(text(f"SET LOCAL hnsw.ef_search = {max(40, min(2 * unresolved_k, 1000))}"))
    rows = session.execute(
        text(f"""
            WITH jr AS (
                SELECT job_id, array_agg(role_id) AS roles FROM job_roles
                WHERE job_id = ANY(CAST(:job_ids AS bigint[])) GROUP BY job_id
            )
            SELECT c.id, j.id, 1 - (c.embedding <=> j.embedding) AS similarity
            FROM jobs j
            JOIN jr ON jr.job_id = j.id
            JOIN candidates c ON c.preferred_role_ids && jr.roles
            WHERE j.embedding IS NOT NULL
              AND (CAST(:after AS int) IS NULL OR c.id > :after)
              AND (CAST(:upto AS int) IS NULL OR c.id <= :upto)
              AND {_ELIGIBLE}
            UNION ALL
            SELECT near.id, j.id, near.similarity
            FROM jobs j CROSS JOIN LATERAL (
                SELECT c.id, 1 - (c.embedding <=> j.embedding) AS similarity
                FROM candidates c
                WHERE {_ELIGIBLE}
                ORDER BY c.embedding <=> j.embedding LIMIT :k
            ) near
            WHERE j.id = ANY(CAST(:job_ids AS bigint[]))
              AND j.role_resolution = 'unresolved' AND j.embedding IS NOT NULL
              AND CAST(:after AS int) IS NULL AND CAST(:upto AS int) IS NULL
        """),
        {
            "job_ids": list(chunk.job_ids),
            "after": chunk.after,
            "upto": chunk.upto,
            "tenant_id": tenant_id,
            "k": unresolved_k,
        },
    ).all()
    return [(int(c), int(j), float(s)) for c, j, s in rows]


def jobs_for_profile(
    session: Session,
    embedding: Sequence[float],
    role_ids: Sequence[int],
    *,
    max_jobs: int,
    top_k: int,
    unresolved_k: int = 10,
) -> list[tuple[int, float]]:
    """(job_id, similarity) of the active jobs a profile is matched against."""
    params: dict[str, Any] = {"q": list(embedding)}
    if role_ids:
        # Jobs offered to the roles (directly or as family), then the unresolved
        # jobs nearest the profile: a title the taxonomy lacks still reaches it.
        session.execute(text(f"SET LOCAL hnsw.ef_search = {max(40, min(2 * unresolved_k, 1000))}"))
        sql = """
            (SELECT id, similarity FROM (
                SELECT j.id, 1 - (j.embedding <=> :q) AS similarity
                FROM jobs j
                WHERE j.status = 'active' AND j.embedding IS NOT NULL
                  AND j.id IN (SELECT job_id FROM job_roles
                               WHERE role_id = ANY(CAST(:roles AS int[])))
            ) role_jobs
            ORDER BY similarity DESC, id LIMIT :limit)
            UNION
            (SELECT j.id, 1 - (j.embedding <=> :q) AS similarity
             FROM jobs j
             WHERE j.role_resolution = 'unresolved' AND j.status = 'active'
               AND j.embedding IS NOT NULL
             ORDER BY j.embedding <=> :q LIMIT :k)
        """
        params.update(roles=list(role_ids), limit=max_jobs, k=unresolved_k)
    else:
        # ef_search bounds what HNSW returns; raise it to the K we ask for.
        session.execute(text(f"SET LOCAL hnsw.ef_search = {max(40, min(int(top_k), 1000))}"))
        sql = """
            SELECT j.id, 1 - (j.embedding <=> :q) AS similarity
            FROM jobs j
            WHERE j.status = 'active' AND j.embedding IS NOT NULL
            ORDER BY j.embedding <=> :q LIMIT :limit
        """
        params.update(limit=top_k)
    stmt = text(sql).bindparams(bindparam("q", type_=Vector(EMBEDDING_DIM)))
    rows = session.execute(stmt, params).all()
    return sorted(((int(j), float(s)) for j, s in rows), key=lambda x: (-x[1], x[0]))


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT .. ON CONFLICT (keys) DO UPDATE for many rows in one statement; updated_at
    refreshed.

    The rows travel as one JSONB parameter that `jsonb_to_recordset` turns back into
    typed columns (the table's own types, text arrays included), so PostgreSQL parses
    the batch in one go. A multi-row VALUES list (SQLAlchemy's insertmanyvalues) binds
    13 parameters a row and took ~1.7x as long on a 24,000-row chunk (the bulk of a
    `generate-matches` step); COPY would need a temporary table, which pins the
    connection behind RDS Proxy."""
    if not rows:
        return
    table = model.__table__
    names = list(rows[0])
    source = (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(*(column(name, table.c[name].type) for name in names))
        .render_derived(name="r", with_types=True)
    )
    stmt = insert(table).from_select(names, select(*source.c))
    updates: dict[str, Any] = {c: stmt.excluded[c] for c in names if c not in keys}
    updates["updated_at"] = func.now()
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), {"rows": rows})


def upsert_candidate_matches(
    session: Session, results: Sequence[MatchResult], tenants: dict[int, int], batch: int
) -> None:
    """Write candidate matches, `batch` rows per statement."""
    rows = [
        {
            "candidate_id": r.profile_id,
            "job_id": r.job_id,
            "tenant_id": tenants[r.profile_id or 0],
            **stored_fields(r),
        }
        for r in results
    ]
    for start in range(0, len(rows), batch):
        _upsert(session, CandidateJobMatch, rows[start : start + batch], ["candidate_id", "job_id"])


def delete_stale_job_matches(
    session: Session, chunk: JobChunk, kept: Sequence[MatchResult], tenant_id: int | None
) -> int:
    """Remove matches of the chunk's jobs (within its candidate range, tenant and the
    candidates that have preferred roles) that this computation did not keep: the
    pair no longer qualifies. Same step as the upsert, so it is idempotent."""
    result = session.execute(
        text("""
            DELETE FROM candidate_job_matches m
            USING candidates c
            WHERE c.id = m.candidate_id
              AND m.job_id = ANY(CAST(:job_ids AS bigint[]))
              AND (CAST(:after AS int) IS NULL OR m.candidate_id > :after)
              AND (CAST(:upto AS int) IS NULL OR m.candidate_id <= :upto)
              AND (CAST(:tenant_id AS int) IS NULL OR m.tenant_id = :tenant_id)
              AND cardinality(c.preferred_role_ids) > 0
              AND NOT EXISTS (
                  SELECT 1 FROM unnest(CAST(:kc AS int[]), CAST(:kj AS bigint[])) AS k(c, j)
                  WHERE k.c = m.candidate_id AND k.j = m.job_id
              )
        """),
        {
            "job_ids": list(chunk.job_ids),
            "after": chunk.after,
            "upto": chunk.upto,
            "tenant_id": tenant_id,
            "kc": [r.profile_id for r in kept],
            "kj": [r.job_id for r in kept],
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_stale_candidate_matches(
    session: Session, candidate_id: int, kept_job_ids: Sequence[int]
) -> int:
    """Remove this candidate's matches with jobs this computation did not keep."""
    result = session.execute(
        text("""
            DELETE FROM candidate_job_matches
            WHERE candidate_id = :cid AND NOT (job_id = ANY(CAST(:kept AS bigint[])))
        """),
        {"cid": candidate_id, "kept": list(kept_job_ids)},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def upsert_user_matches(session: Session, user_email: str, results: Sequence[MatchResult]) -> int:
    """Write a user's matches, upserted on (user_email, job_hash): a later run's
    result for the same job replaces the earlier one."""
    rows = [
        {"user_email": user_email, "job_hash": r.job_hash, "method": r.method, **stored_fields(r)}
        for r in results
    ]
    _upsert(session, UserMatch, rows, ["user_email", "job_hash"])
    return len(rows)
