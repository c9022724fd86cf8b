"""Every table, imported here so `Base.metadata` (and Alembic) sees all of them."""

from jobmatch.db.base import Base
from jobmatch.db.models.mail import OutboxMessage
from jobmatch.db.models.matching import (
    Candidate,
    CandidateJobMatch,
    GlobalRole,
    Job,
    Tenant,
    User,
    UserMatch,
    UserPreferences,
)
from jobmatch.db.models.roles import EmbeddingState, JobRole, RoleTerm
from jobmatch.db.models.tenders import JobLog, SyncState, Tender, TenderAlertSubscription

__all__ = [
    "Base",
    "Candidate",
    "CandidateJobMatch",
    "EmbeddingState",
    "GlobalRole",
    "Job",
    "JobLog",
    "JobRole",
    "OutboxMessage",
    "RoleTerm",
    "SyncState",
    "Tenant",
    "Tender",
    "TenderAlertSubscription",
    "User",
    "UserMatch",
    "UserPreferences",
]
