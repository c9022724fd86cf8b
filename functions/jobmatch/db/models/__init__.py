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
from jobmatch.db.models.security import ApiKey, SignupConfirmation
from jobmatch.db.models.tenders import JobLog, SyncState, Tender, TenderAlertSubscription

__all__ = [
    "ApiKey",
    "Base",
    "Candidate",
    "CandidateJobMatch",
    "GlobalRole",
    "Job",
    "JobLog",
    "OutboxMessage",
    "SignupConfirmation",
    "SyncState",
    "Tenant",
    "Tender",
    "TenderAlertSubscription",
    "User",
    "UserMatch",
    "UserPreferences",
]
