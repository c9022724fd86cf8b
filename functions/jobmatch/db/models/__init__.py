"""Every table, imported here so `Base.metadata` (and Alembic) sees all of them."""

from jobmatch.db.base import Base
from jobmatch.db.models.engagement import (
    DigestLog,
    JobApplication,
    JobFeedback,
    JobView,
    MailSuppression,
    MailUnsubscribe,
    NewJobAlert,
    PreferenceSignal,
    RunProgress,
)
from jobmatch.db.models.events import OutboxEvent
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
from jobmatch.db.models.roles import EmbeddingState, JobRole, RoleTerm
from jobmatch.db.models.security import ApiKey, SignupConfirmation
from jobmatch.db.models.skills import JobSkill, Skill
from jobmatch.db.models.tenders import JobLog, SyncState, Tender, TenderAlertSubscription

__all__ = [
    "ApiKey",
    "Base",
    "Candidate",
    "CandidateJobMatch",
    "Company",
    "DigestLog",
    "DiscoveryCursor",
    "EmbeddingState",
    "GlobalRole",
    "Job",
    "JobApplication",
    "JobFeedback",
    "JobLog",
    "JobRole",
    "JobSkill",
    "JobView",
    "MailSuppression",
    "MailUnsubscribe",
    "NewJobAlert",
    "OutboxEvent",
    "OutboxMessage",
    "PreferenceSignal",
    "RoleScrapeQueue",
    "RoleTerm",
    "RunProgress",
    "ScraperSession",
    "SignupConfirmation",
    "Skill",
    "SyncState",
    "Tenant",
    "Tender",
    "TenderAlertSubscription",
    "User",
    "UserMatch",
    "UserPreferences",
]
