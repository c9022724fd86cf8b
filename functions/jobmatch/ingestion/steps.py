"""Step bodies of the ingestion functions: typed input in, one unit of work, counts out.

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

import inngest

from jobmatch.deadline import Deadline
from jobmatch.failures import PermanentError
from jobmatch.ingestion import store
from jobmatch.ingestion.boards import BoardClient, BoardMalformedError
from jobmatch.ingestion.store import CompanyRef
from jobmatch.jobs.importing import JobInput, import_jobs, job_hash
from jobmatch.jobs.store import mark_announced
from jobmatch.observability import logger
from jobmatch.outbound import UpstreamRejectedError, UpstreamUnavailableError
from jobmatch.step_contract import StepDeps, StepInput, StepOutput, step_body

NOT_FOUND = 404


class UnknownCompanyError(PermanentError):
    """The event names a company that does not exist."""


class CompanyPage(StepInput):
    """The next at most `limit` active companies after id `after_id`."""

    after_id: int
    limit: int


class CompanyBoard(StepInput):
    """One company's board."""

    company_id: int


class Ingested(StepOutput):
    """What one board's fetch stored, and the new jobs still to announce."""

    company_id: int
    provider: str
    postings: int
    created: int
    malformed: int
    excluded: int
    vanished: int
    complete: bool
    announce: list[int]


class Announced(StepInput):
    """Jobs whose `jobs/imported` was sent."""

    job_ids: list[int]


@step_body
def active_companies(deps: StepDeps, inp: CompanyPage) -> list[CompanyRef]:
    """The next active companies to fetch (500 rows: ~20 KB)."""
    with deps.unit_of_work() as uow:
        return store.active_companies(uow, inp.after_id, inp.limit)


def _record_failure(deps: StepDeps, company_id: int, exc: Exception, *, deactivate: bool) -> None:
    message = f"{type(exc).__name__}: {exc}"
    logger.warning("board fetch failed", extra={"company_id": company_id, "error": message})
    with deps.unit_of_work() as uow:
        store.record_error(uow, company_id, message, deactivate=deactivate)


def posting_hash(source: str, external_id: str) -> str:
    """The job hash of a posting known only by its id (the import path's hash)."""
    return job_hash(
        JobInput(source=source, title="", company="", location="", external_id=external_id)
    )


@step_body
def ingest_board(deps: StepDeps, inp: CompanyBoard) -> Ingested:
    """Fetch one board and store it; counts plus the ids still to announce."""
    settings, company_id = deps.settings, inp.company_id
    deadline = Deadline.after(settings.step_budget_seconds)
    with deps.unit_of_work() as uow:
        board = store.board_of(uow, company_id)
    if board is None:
        raise UnknownCompanyError(f"company {company_id} does not exist")
    try:
        fetched = BoardClient(deps.fetch_http, settings).fetch(
            board, deadline.part(settings.board_fetch_budget_seconds)
        )
    except (UpstreamRejectedError, BoardMalformedError) as exc:
        gone = isinstance(exc, UpstreamRejectedError) and exc.status == NOT_FOUND
        _record_failure(deps, company_id, exc, deactivate=gone)
        raise
    except UpstreamUnavailableError as exc:
        _record_failure(deps, company_id, exc, deactivate=False)
        if exc.retry_after is not None:
            raise inngest.RetryAfterError(str(exc), timedelta(seconds=exc.retry_after)) from exc
        raise
    postings = fetched.postings
    seen = [posting_hash(board.provider, i) for i in postings.seen_ids]
    with deps.unit_of_work() as uow:
        result = import_jobs(uow, postings.jobs)
        store.mark_seen(uow, company_id, seen)
        vanished = store.close_vanished(uow, company_id) if fetched.complete else 0
        store.record_success(uow, company_id)
    return Ingested(
        company_id=company_id,
        provider=board.provider,
        postings=len(postings.jobs),
        created=len(result.created_ids),
        malformed=postings.malformed,
        excluded=postings.excluded,
        vanished=vanished,
        complete=fetched.complete,
        announce=result.unannounced_ids,
    )


@step_body
def record_announced(deps: StepDeps, inp: Announced) -> int:
    """Record that `jobs/imported` for these jobs was sent (the import path's mark)."""
    with deps.unit_of_work() as uow:
        mark_announced(uow, inp.job_ids)
    return len(inp.job_ids)
