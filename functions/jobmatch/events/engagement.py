"""Engagement events: what users do (register, apply, view, give feedback, change
preferences), the emails sent to them, new job batches, and this service's own
fan-out events of digests, alerts and re-ranking.

Names and `data` fields of the public events are the platform's, camelCase on the
wire. `userId` names a row of `users` by its numeric id, as a number or a string
of digits ("123"); any other form ("user_123") is refused: no retry can make it
resolve. `POST /api/events` validates with these same models (`PUBLIC_EVENTS`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from email.utils import parseaddr
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from jobmatch.events import EventModel, EventPart

MAX_BATCH_JOBS = 5_000
MAX_EMAIL_JOBS = 50
MAX_LIST_ITEMS = 50
MAX_ITEM_LENGTH = 120
MAX_VIEW_SECONDS = 24 * 3600
USER_ID_MAX = 2**31 - 1  # users.id is a 32-bit integer


def _user_id(value: Any) -> int:
    """A numeric user id from an int or a string of digits; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("userId must be a numeric user id")
    text = value.strip() if isinstance(value, str) else str(value)
    if not text.isdigit() or not 0 < int(text) <= USER_ID_MAX:
        raise ValueError(f"userId must be a numeric user id, got {str(value)[:40]!r}")
    return int(text)


# Sent as a string, as the platform sends it.
UserRef = Annotated[
    int, BeforeValidator(_user_id), PlainSerializer(str, return_type=str, when_used="json")
]
JobRef = Annotated[int, Field(gt=0, le=2**62)]


def email_address(value: Any) -> str:
    """A bare address (no display name), lower-cased; ValueError when it is not one."""
    if not isinstance(value, str):
        raise ValueError("is not a valid email address")
    address = value.strip().lower()
    name, parsed = parseaddr(address)
    local, _, domain = parsed.rpartition("@")
    if name or parsed != address or len(address) > 320 or not local or "." not in domain:
        raise ValueError("is not a valid email address")
    return address


Email = Annotated[str, BeforeValidator(email_address)]


# ---------------------------------------------------------------- public events


class UserRegistered(EventModel):
    """`user/registered`: a user signed up on the platform."""

    NAME: ClassVar[str] = "user/registered"

    user_id: UserRef = Field(alias="userId")
    email: Email
    name: str | None = Field(default=None, max_length=200)


class JobApplied(EventModel):
    """`job/applied`: a user applied to a job (`companyId` is the platform's, kept as given)."""

    NAME: ClassVar[str] = "job/applied"

    user_id: UserRef = Field(alias="userId")
    job_id: JobRef = Field(alias="jobId")
    company_id: int | None = Field(default=None, alias="companyId", gt=0, le=2**62)
    timestamp: datetime | None = None


class JobViewed(EventModel):
    """`job/viewed`: a user looked at a job for `duration` seconds."""

    NAME: ClassVar[str] = "job/viewed"

    user_id: UserRef = Field(alias="userId")
    job_id: JobRef = Field(alias="jobId")
    duration: float = Field(ge=0, le=MAX_VIEW_SECONDS)


class JobFeedback(EventModel):
    """`job/feedback`: a user liked or disliked a job."""

    NAME: ClassVar[str] = "job/feedback"

    user_id: UserRef = Field(alias="userId")
    job_id: JobRef = Field(alias="jobId")
    feedback: Literal["like", "dislike"]


# Wire names of preference fields (the platform's `preferred_*` and ours) -> column.
PREFERENCE_FIELDS = {
    "roles": "roles",
    "preferred_roles": "roles",
    "skills": "skills",
    "preferred_skills": "skills",
    "locations": "locations",
    "preferred_locations": "locations",
    "countries": "countries",
    "preferred_countries": "countries",
    "remote_ok": "remote_ok",
    "salary_min": "salary_min",
    "experience_years": "experience_years",
    "timezone": "timezone",
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _text_list(value: Any) -> list[str]:
    """Trimmed, lower-cased, de-duplicated strings (first wins), empties dropped."""
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise ValueError(f"must be a list of at most {MAX_LIST_ITEMS} strings")
    items: list[str] = []
    for raw in value:
        if not isinstance(raw, str) or len(raw) > MAX_ITEM_LENGTH:
            raise ValueError(f"items must be strings of at most {MAX_ITEM_LENGTH} characters")
        item = " ".join(raw.split()).lower()
        if item and item not in items:
            items.append(item)
    return items


def _optional_int(value: Any, top: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ValueError(f"must be a whole number from 0 to {top}, or null")
    return value


def preference_value(column: str, value: Any) -> Any:
    """`value` checked and normalised for a preferences column; ValueError otherwise."""
    if column in ("roles", "skills", "locations"):
        return _text_list(value)
    if column == "countries":
        codes = [c.upper() for c in _text_list(value)]
        if not all(_COUNTRY.match(c) for c in codes):
            raise ValueError("countries are ISO 3166-1 alpha-2 codes, e.g. DE")
        return codes
    if column == "remote_ok":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if column == "salary_min":
        return _optional_int(value, 10_000_000)
    if column == "experience_years":
        return _optional_int(value, 60)
    return timezone_name(value)


def timezone_name(value: Any) -> str:
    """An IANA time zone name this system knows (e.g. Europe/Berlin)."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class PreferenceUpdated(EventModel):
    """`preference/updated`: one preference field of a user changed to `value`."""

    NAME: ClassVar[str] = "preference/updated"

    user_id: UserRef = Field(alias="userId")
    field: str = Field(max_length=40)
    value: Any = None

    @field_validator("field")
    @classmethod
    def _field(cls, value: str) -> str:
        if value not in PREFERENCE_FIELDS:
            raise ValueError(f"unknown preference field; one of {', '.join(PREFERENCE_FIELDS)}")
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: Any, info: ValidationInfo) -> Any:
        field = info.data.get("field")
        return value if field is None else preference_value(PREFERENCE_FIELDS[field], value)

    @property
    def column(self) -> str:
        """The preferences column (or `timezone` of users) the field names."""
        return PREFERENCE_FIELDS[self.field]


EmailType = Literal["new_jobs", "digest", "welcome", "match_ready"]


class NotificationData(EventPart):
    """What an email of a type shows: the jobs (`new_jobs`, `digest`) or the number of
    matches saved (`match_ready`)."""

    job_ids: list[JobRef] = Field(default_factory=list, alias="jobIds", max_length=MAX_EMAIL_JOBS)
    matches_saved: int | None = Field(default=None, alias="matchesSaved", ge=0)


class NotificationEmail(EventModel):
    """`notification/email`: send one email of `type` to a user."""

    NAME: ClassVar[str] = "notification/email"

    user_id: UserRef = Field(alias="userId")
    email: Email
    type: EmailType
    data: NotificationData = NotificationData()

    @model_validator(mode="after")
    def _jobs_for_job_emails(self) -> NotificationEmail:
        if self.type in ("new_jobs", "digest") and not self.data.job_ids:
            raise ValueError(f"a {self.type} email needs data.jobIds")
        return self


class JobsNewBatch(EventModel):
    """`jobs/new-batch`: the job pipeline stored a batch of new jobs from `source`."""

    NAME: ClassVar[str] = "jobs/new-batch"

    job_ids: list[JobRef] = Field(alias="jobIds", min_length=1, max_length=MAX_BATCH_JOBS)
    source: str = Field(min_length=1, max_length=100)

    @property
    def batch_id(self) -> str:
        """The batch's identity: the same jobs from the same source are the same batch,
        so a batch announced twice alerts nobody twice."""
        ids = ",".join(str(j) for j in sorted(set(self.job_ids)))
        return hashlib.sha256(f"{self.source}|{ids}".encode()).hexdigest()[:32]


# The events `POST /api/events` accepts: the platform's engagement events only.
PUBLIC_EVENTS: dict[str, type[EventModel]] = {
    model.NAME: model
    for model in (
        UserRegistered,
        JobApplied,
        JobViewed,
        JobFeedback,
        PreferenceUpdated,
        NotificationEmail,
        JobsNewBatch,
    )
}


# ---------------------------------------------------------------- this service's own


class RerankRequested(EventModel):
    """`engagement/rerank.requested`: a user's preferences or signals changed; re-rank
    their matches (debounced per user: a burst of changes is one re-rank)."""

    NAME: ClassVar[str] = "engagement/rerank.requested"

    user_id: UserRef = Field(alias="userId")
    reason: str = Field(default="signals", max_length=40)


class DigestRunRequested(EventModel):
    """`digest/run.requested`: send the digests due now (the hourly cron's work, on
    request); `asOf` sends those due at that moment instead, to catch up an hour the
    schedule missed."""

    NAME: ClassVar[str] = "digest/run.requested"

    as_of: datetime | None = Field(default=None, alias="asOf")


class DailyDigestRequested(DigestRunRequested):
    """`cron/daily-digest`: the specification's name for the same request (seed 003's
    `dailyDigestFunction`), still accepted from senders that use it."""

    NAME: ClassVar[str] = "cron/daily-digest"


class DigestChunk(EventModel):
    """`digest/chunk.requested`: the due users with `after < id <= upto` at `asOf`."""

    NAME: ClassVar[str] = "digest/chunk.requested"

    as_of: datetime = Field(alias="asOf")
    after: int = Field(ge=0)
    upto: int | None = Field(default=None, gt=0)


class UserDigest(EventModel):
    """`digest/user.requested`: one user's digest for their local `digestDate`;
    `premium` puts it ahead in the queue."""

    NAME: ClassVar[str] = "digest/user.requested"

    user_id: UserRef = Field(alias="userId")
    digest_date: date = Field(alias="digestDate")
    premium: bool = False


class NewJobsChunk(EventModel):
    """`alerts/new-jobs.chunk`: send a batch's alerts to the users `after < id <= upto`."""

    NAME: ClassVar[str] = "alerts/new-jobs.chunk"

    batch_id: str = Field(alias="batchId", min_length=1, max_length=64)
    after: int = Field(ge=0)
    upto: int | None = Field(default=None, gt=0)
