"""Approving a tenant's candidate: the status change that starts its matching.

Every lookup is scoped by tenant: a candidate of another tenant is "not found",
never "forbidden", so ids of other tenants' candidates cannot be probed.
Approving an approved candidate again is allowed and changes nothing: the caller
re-sends the event, which is how a request whose event failed is retried.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmatch.db.models import Candidate
from jobmatch.matching.errors import CandidateNotFoundError

APPROVABLE = ("pending", "approved")


class CandidateStateError(ValueError):
    """The candidate is past approval (e.g. already assigned) or inactive."""


def tenant_candidate(session: Session, candidate_id: int, tenant_id: int) -> Candidate:
    """The tenant's candidate, locked for update; CandidateNotFoundError otherwise."""
    candidate = session.scalars(
        select(Candidate)
        .where(Candidate.id == candidate_id, Candidate.tenant_id == tenant_id)
        .with_for_update()
    ).one_or_none()
    if candidate is None:
        raise CandidateNotFoundError(f"candidate {candidate_id} not found")
    return candidate


def approve_candidate(session: Session, candidate_id: int, tenant_id: int) -> Candidate:
    """Move a pending candidate to `approved` (in the caller's transaction)."""
    candidate = tenant_candidate(session, candidate_id, tenant_id)
    if candidate.status not in APPROVABLE:
        raise CandidateStateError(
            f"candidate {candidate_id} is '{candidate.status}'; only pending candidates "
            "can be approved"
        )
    candidate.status = "approved"
    session.flush()
    return candidate
