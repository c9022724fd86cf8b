"""The SQL side of matching: candidate generation, feature loading, bulk writes.

Every query here is set-based: one statement returns all pairs of a chunk with
their cosine similarity computed by pgvector, one loads the features of all rows
involved, one `INSERT .. ON CONFLICT` (executemany, batched by SQLAlchemy's
insertmanyvalues) writes all matches. Nothing runs a query per pair.

Who is paired with whom:
- a job with the candidates whose `preferred_role_ids` contain the job's role
  (GIN index, `&&`), status approved / ready_for_assignment, with an embedding,
  optionally of one tenant;
- a profile (candidate or user) with active jobs of its preferred roles, the
  closest `max_jobs` by similarity (btree on the role, no ANN: an HNSW scan with
  a role filter would drop rows after its `ef_search` window). A profile without
  roles gets the `top_k` nearest active jobs through the HNSW index instead.
Candidates without preferred roles are therefore matched only from their own
side; re-matching a job leaves their matches alone (see `delete_stale_job_matches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from jobmatch.db.models import (
    Candidate,
    CandidateJobMatch,
    GlobalRole,
    Job,
    PreferenceSignal,
    UserMatch,
)
from jobmatch.db.models.engagement import USER_EXCLUDED_JOBS
from jobmatch.db.models.matching import EMBEDDING_DIM, MATCHABLE_STATUSES
from jobmatch.matching.scoring import JobFeatures, MatchResult, ProfileFeatures, stored_fields

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
    `after < id <= upto` (None = unbounded). Serialisable as a step output."""

    job_ids: tuple[int, ...]
    after: int | None = None
    upto: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form."""
        return {"job_ids": list(self.job_ids), "after": self.after, "upto": self.upto}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobChunk:
        """Inverse of `to_dict`."""
        return cls(tuple(int(j) for j in data["job_ids"]), data.get("after"), data.get("upto"))


def resolve_preferred_roles(session: Session, raw: Iterable[Any]) -> list[int]:
    """Role ids for a candidate's `preferred_roles` as given (ids, numeric strings or
    names / aliases, any case). Unknown entries are dropped: they match nothing."""
    ids: set[int] = set()
    names: set[str] = set()
    for item in raw or ():
        if isinstance(item, bool):
            continue
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            ids.add(int(item))
        elif isinstance(item, str) and item.strip():
            names.add(" ".join(item.lower().split()))
    if not ids and not names:
        return []
    name_list = sorted(names)
    rows = session.execute(
        select(GlobalRole.id).where(
            GlobalRole.id.in_(sorted(ids))
            | GlobalRole.name.in_(name_list)
            | GlobalRole.aliases.overlap(name_list)
        )
    ).scalars()
    return sorted(set(rows))


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


def job_features(row: Any) -> JobFeatures:
    """A job row (model or result row) as scoring features."""
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
    )


def load_jobs(session: Session, job_ids: Iterable[int]) -> dict[int, JobFeatures]:
    """Features of these jobs, by id (one query)."""
    ids = sorted(set(job_ids))
    if not ids:
        return {}
    cols = (
        Job.id,
        Job.job_hash,
        Job.title,
        Job.company,
        Job.skills,
        Job.location,
        Job.country,
        Job.remote,
        Job.salary_min,
        Job.salary_max,
        Job.experience_min,
        Job.normalized_role_id,
    )
    rows = session.execute(select(*cols).where(Job.id.in_(ids))).all()
    return {r.id: job_features(r) for r in rows}


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


def eligible_counts_by_role(
    session: Session, role_ids: Sequence[int], tenant_id: int | None
) -> dict[int, int]:
    """How many matchable candidates prefer each of these roles (one GIN scan)."""
    if not role_ids:
        return {}
    rows = session.execute(
        text(f"""
            SELECT r.role_id, count(*) AS n
            FROM candidates c, unnest(c.preferred_role_ids) AS r(role_id)
            WHERE c.preferred_role_ids && CAST(:roles AS int[]) AND {_ELIGIBLE}
              AND r.role_id = ANY(CAST(:roles AS int[]))
            GROUP BY r.role_id
        """),
        {"roles": list(role_ids), "tenant_id": tenant_id},
    ).all()
    return {int(r.role_id): int(r.n) for r in rows}


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
    session: Session, role_id: int, every: int, tenant_id: int | None
) -> list[int]:
    """Every `every`-th eligible candidate id preferring `role_id`: range cut points
    that split a role too big for one step into steps of at most `every` candidates."""
    rows = session.execute(
        text(f"""
            SELECT id FROM (
                SELECT c.id, row_number() OVER (ORDER BY c.id) AS rn, count(*) OVER () AS n
                FROM candidates c
                WHERE c.preferred_role_ids && ARRAY[CAST(:role AS int)] AND {_ELIGIBLE}
            ) ranked
            WHERE rn % :every = 0 AND rn < n
            ORDER BY id
        """),
        {"role": role_id, "every": every, "tenant_id": tenant_id},
    ).scalars()
    return [int(x) for x in rows]


def job_candidate_pairs(session: Session, chunk: JobChunk, tenant_id: int | None) -> list[Pair]:
    """All eligible (candidate, job, similarity) pairs of a chunk, similarity by pgvector."""
    rows = session.execute(
        text(f"""
            SELECT c.id, j.id, 1 - (c.embedding <=> j.embedding) AS similarity
            FROM jobs j
            JOIN candidates c ON c.preferred_role_ids && ARRAY[j.normalized_role_id]
            WHERE j.id = ANY(CAST(:job_ids AS bigint[]))
              AND j.embedding IS NOT NULL
              AND (CAST(:after AS int) IS NULL OR c.id > :after)
              AND (CAST(:upto AS int) IS NULL OR c.id <= :upto)
              AND {_ELIGIBLE}
        """),
        {
            "job_ids": list(chunk.job_ids),
            "after": chunk.after,
            "upto": chunk.upto,
            "tenant_id": tenant_id,
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
) -> list[tuple[int, float]]:
    """(job_id, similarity) of the active jobs a profile is matched against."""
    params: dict[str, Any] = {"q": list(embedding)}
    if role_ids:
        sql = """
            SELECT id, similarity FROM (
                SELECT j.id, 1 - (j.embedding <=> :q) AS similarity
                FROM jobs j
                WHERE j.status = 'active' AND j.embedding IS NOT NULL
                  AND j.normalized_role_id = ANY(CAST(:roles AS int[]))
            ) role_jobs
            ORDER BY similarity DESC, id LIMIT :limit
        """
        params.update(roles=list(role_ids), limit=max_jobs)
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
    return [(int(j), float(s)) for j, s in session.execute(stmt, params).all()]


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """INSERT .. ON CONFLICT (keys) DO UPDATE for many rows; updated_at refreshed."""
    if not rows:
        return
    stmt = insert(model)
    updates: dict[str, Any] = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    updates["updated_at"] = func.now()
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), rows)


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
