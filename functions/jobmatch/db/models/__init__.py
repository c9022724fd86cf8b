"""Every table, imported here so `Base.metadata` (and Alembic) sees all of them."""

from jobmatch.db.base import Base
from jobmatch.db.models.ingestion import Company, DiscoveryCursor, RoleScrapeQueue, ScraperSession
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
from jobmatch.db.models.skills import JobSkill, Skill
from jobmatch.db.models.tenders import JobLog, SyncState, Tender, TenderAlertSubscription

__all__ = [
    "Base",
    "Candidate",
    "CandidateJobMatch",
    "Company",
    "DiscoveryCursor",
    "GlobalRole",
    "Job",
    "JobLog",
    "JobSkill",
    "OutboxMessage",
    "RoleScrapeQueue",
    "ScraperSession",
    "Skill",
    "SyncState",
    "Tenant",
    "Tender",
    "TenderAlertSubscription",
    "User",
    "UserMatch",
    "UserPreferences",
]
