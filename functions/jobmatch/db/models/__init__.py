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

__all__ = [
    "Base",
    "Candidate",
    "CandidateJobMatch",
    "GlobalRole",
    "Job",
    "OutboxMessage",
    "Tenant",
    "User",
    "UserMatch",
    "UserPreferences",
]
