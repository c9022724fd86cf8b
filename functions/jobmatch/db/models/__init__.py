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
    "DigestLog",
    "GlobalRole",
    "Job",
    "JobApplication",
    "JobFeedback",
    "JobLog",
    "JobView",
    "MailSuppression",
    "MailUnsubscribe",
    "NewJobAlert",
    "OutboxMessage",
    "PreferenceSignal",
    "RunProgress",
    "SignupConfirmation",
    "SyncState",
    "Tenant",
    "Tender",
    "TenderAlertSubscription",
    "User",
    "UserMatch",
    "UserPreferences",
]
