"""The SQL of a tenant's candidates: lookup, approval, the status matching moves.

Every lookup is scoped by tenant: a candidate of another tenant is "not found",
never "forbidden", so ids of other tenants' candidates cannot be probed.
Approving an approved candidate again is allowed and changes nothing: the caller
re-sends the event, which is how a request whose event failed is retried.
"""

from __future__ import annotations

from sqlalchemy import select

from jobmatch.db.models import Candidate
from jobmatch.db.unit_of_work import UnitOfWork
from jobmatch.failures import PermanentError

APPROVABLE = ("pending", "approved")


class CandidateNotFoundError(PermanentError, LookupError):
    """No candidate with this id in this tenant (another tenant's is "not found" too,
    so ids of other tenants' candidates cannot be probed)."""


class CandidateStateError(ValueError):
    """The candidate is past approval (e.g. already assigned) or inactive."""


def tenant_candidate(uow: UnitOfWork, candidate_id: int, tenant_id: int) -> Candidate:
    """The tenant's candidate, locked for update; CandidateNotFoundError otherwise."""
    candidate = uow.scalars(
        select(Candidate)
        .where(Candidate.id == candidate_id, Candidate.tenant_id == tenant_id)
        .with_for_update()
    ).one_or_none()
    if candidate is None:
        raise CandidateNotFoundError(f"candidate {candidate_id} not found")
    return candidate


def approve_candidate(uow: UnitOfWork, candidate_id: int, tenant_id: int) -> str:
    """Move a pending candidate to `approved` (in the caller's transaction); its status."""
    candidate = tenant_candidate(uow, candidate_id, tenant_id)
    if candidate.status not in APPROVABLE:
        raise CandidateStateError(
            f"candidate {candidate_id} is '{candidate.status}'; only pending candidates "
            "can be approved"
        )
    candidate.status = "approved"
    uow.flush()
    return candidate.status


def promote_approved(uow: UnitOfWork, candidate_id: int, tenant_id: int) -> str:
    """approved -> ready_for_assignment; any other status is left as it is, so a
    re-run never moves a candidate back (e.g. from assigned). The status after."""
    candidate = tenant_candidate(uow, candidate_id, tenant_id)
    if candidate.status == "approved":
        candidate.status = "ready_for_assignment"
    return candidate.status
