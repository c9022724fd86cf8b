"""Step bodies of the ingestion functions: JSON in, own session, small JSON out.

`ingest_board` is the whole of one board's run that touches the world: it fetches
the board (no connection held meanwhile), then in one transaction upserts its
postings through the import path (`import_jobs`: the job hash, role resolution,
insert-if-absent), stamps what the board still lists, closes what it no longer
lists, and marks the company active. Run twice, it stores nothing twice and
closes nothing more. The fetch ends by its part of the step's deadline, leaving
the rest for the save. A failing board records its error on the company before
the step fails: a 404 or a malformed answer ends the run (`PermanentError`:
retrying cannot help; a 404 also deactivates the company), anything else is
retried by Inngest.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import inngest

from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.failures import PermanentError, legacy_step_body
from jobmatch.ingestion import repository
from jobmatch.ingestion.boards import BoardClient, BoardMalformedError
from jobmatch.jobs.importing import JobInput, import_jobs, job_hash
from jobmatch.jobs.store import mark_announced
from jobmatch.observability import logger
from jobmatch.outbound import UpstreamRejectedError, UpstreamUnavailableError
from jobmatch.settings import Settings

NOT_FOUND = 404


class UnknownCompanyError(PermanentError):
    """The event names a company that does not exist."""


@legacy_step_body
def active_companies(after_id: int, limit: int) -> list[dict[str, Any]]:
    """The next active companies to fetch: [{id, provider}] (500 rows: ~20 KB)."""
    with session_scope() as session:
        return repository.active_companies(session, after_id, limit)


def _record_failure(company_id: int, exc: Exception, *, deactivate: bool) -> None:
    message = f"{type(exc).__name__}: {exc}"
    logger.warning("board fetch failed", extra={"company_id": company_id, "error": message})
    with session_scope() as session:
        repository.record_error(session, company_id, message, deactivate=deactivate)


def posting_hash(source: str, external_id: str) -> str:
    """The job hash of a posting known only by its id (the import path's hash)."""
    return job_hash(
        JobInput(source=source, title="", company="", location="", external_id=external_id)
    )


@legacy_step_body
def ingest_board(company_id: int, settings: Settings, http: httpx.Client) -> dict[str, Any]:
    """Fetch one board and store it; counts plus the ids still to announce."""
    deadline = Deadline.after(settings.step_budget_seconds)
    with session_scope() as session:
        board = repository.board_of(session, company_id)
    if board is None:
        raise UnknownCompanyError(f"company {company_id} does not exist")
    try:
        fetched = BoardClient(http, settings).fetch(
            board, deadline.part(settings.board_fetch_budget_seconds)
        )
    except (UpstreamRejectedError, BoardMalformedError) as exc:
        gone = isinstance(exc, UpstreamRejectedError) and exc.status == NOT_FOUND
        _record_failure(company_id, exc, deactivate=gone)
        raise
    except UpstreamUnavailableError as exc:
        _record_failure(company_id, exc, deactivate=False)
        if exc.retry_after is not None:
            raise inngest.RetryAfterError(str(exc), timedelta(seconds=exc.retry_after)) from exc
        raise
    postings = fetched.postings
    seen = [posting_hash(board.provider, i) for i in postings.seen_ids]
    with session_scope() as session:
        result = import_jobs(session, postings.jobs)
        repository.mark_seen(session, company_id, seen)
        vanished = repository.close_vanished(session, company_id) if fetched.complete else 0
        repository.record_success(session, company_id)
    return {
        "companyId": company_id,
        "provider": board.provider,
        "postings": len(postings.jobs),
        "created": len(result.created_ids),
        "malformed": postings.malformed,
        "excluded": postings.excluded,
        "vanished": vanished,
        "complete": fetched.complete,
        "announce": result.unannounced_ids,
    }


@legacy_step_body
def record_announced(job_ids: list[int]) -> int:
    """Record that `jobs/imported` for these jobs was sent (the import path's mark)."""
    with session_scope() as session:
        mark_announced(session, job_ids)
    return len(job_ids)
