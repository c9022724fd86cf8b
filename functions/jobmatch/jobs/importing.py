"""The scraper's door: store a batch of jobs once each, and say which ones are new.

A job's natural key is `job_hash` (sha256 of source + external id, or of the
normalised title|company|location when the source has no id), so a scraper that
posts the same job twice, or retries a whole batch, stores nothing twice: the
batch is one `INSERT .. ON CONFLICT (job_hash) DO NOTHING RETURNING` in one
transaction. Announcing is tracked per job (`announced_at`): the route commits the
rows, sends `jobs/imported` and `jobs/new-batch` (`announcement_events`) for the
batch's jobs not yet announced, then marks them.
If the event API is down the rows stay unannounced and a retry of the same batch
announces them, so no job is stored without ever being matched.
Embeddings are not computed here: the matching function embeds the new jobs in
its own step, so the request stays far under API Gateway's 30 s at any batch size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import inngest

from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.events.engagement import JobsNewBatch
from jobmatch.events.matching import JobsImported
from jobmatch.jobs import store as jobs_store
from jobmatch.roles.resolver import ResolverLimits, resolve_titles
from jobmatch.roles.store import store_resolutions

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class JobInput:
    """One validated job of an import batch (skills already lower-cased)."""

    source: str
    title: str
    company: str
    location: str
    external_id: str | None = None
    country: str | None = None
    remote: bool = False
    salary_min: int | None = None
    salary_max: int | None = None
    currency: str | None = None
    experience_min: int | None = None
    skills: tuple[str, ...] = ()
    description: str = ""
    external_url: str | None = None
    posted_date: date | None = None


@dataclass(frozen=True)
class ImportResult:
    """Ids of the rows this batch created, how many items were already stored, and
    which of the batch's jobs still wait for their `jobs/imported` announcement."""

    created_ids: list[int]
    duplicates: int
    hashes: list[str]
    unannounced_ids: list[int]


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


def job_hash(job: JobInput) -> str:
    """The natural key: source + external id when the source has one (stable across
    edits of the title), else the normalised title|company|location."""
    if job.external_id:
        basis = f"{_norm(job.source)}:{job.external_id.strip()}"
    else:
        basis = f"{_norm(job.title)}|{_norm(job.company)}|{_norm(job.location)}"
    return hashlib.sha256(basis.encode()).hexdigest()


def _row(job: JobInput, digest: str) -> dict[str, Any]:
    return {
        "job_hash": digest,
        "title": job.title.strip(),
        "company": job.company.strip(),
        "skills": list(job.skills),
        "location": job.location.strip(),
        "country": job.country,
        "remote": job.remote,
        "salary_min": job.salary_min,
        "salary_max": job.salary_max,
        "currency": job.currency,
        "experience_min": job.experience_min,
        "description": job.description,
        "source": job.source,
        "external_url": job.external_url,
        "status": "active",
        "posted_date": job.posted_date,
    }


def import_jobs(
    uow: UnitOfWork, jobs: list[JobInput], *, limits: ResolverLimits | None = None
) -> ImportResult:
    """Insert the jobs not yet stored, in the caller's transaction; one statement.

    Items repeated inside the batch count as duplicates too (the first one wins).
    A new job whose title is a role's name or alias gets that role here; the others
    stay `pending` and are resolved by meaning in the matching function's first
    step (embedding titles here would put a model call inside the request).
    """
    rows: dict[str, dict[str, Any]] = {}
    hashes = []
    for job in jobs:
        digest = job_hash(job)
        hashes.append(digest)
        rows.setdefault(digest, _row(job, digest))
    created = jobs_store.insert_new(uow, list(rows.values()))
    if created:
        resolutions = resolve_titles(uow, [t for _, t in created], None, limits or ResolverLimits())
        store_resolutions(uow, [i for i, _ in created], resolutions)
    unannounced = jobs_store.unannounced(uow, list(rows))
    return ImportResult(
        created_ids=sorted(i for i, _ in created),
        duplicates=len(jobs) - len(created),
        hashes=hashes,
        unannounced_ids=sorted(unannounced),
    )


def announcement_events(
    job_ids: list[int], source: str, batch_id: str | None = None
) -> list[inngest.Event]:
    """What new jobs are announced with, from every door: `jobs/imported` (matching
    to candidates) and `jobs/new-batch` (alerts to users). Their ids derive from the
    jobs, so a retried request or step that names the same jobs sends the same ids,
    which Inngest deduplicates."""
    digest = hashlib.sha256(",".join(map(str, sorted(job_ids))).encode()).hexdigest()[:32]
    return [
        JobsImported(job_ids=job_ids, batch_id=batch_id, source=source).to_event(
            id=f"jobs-imported-{digest}"
        ),
        JobsNewBatch(job_ids=job_ids, source=source).to_event(id=f"jobs-new-batch-{digest}"),
    ]
