"""Free-signup users: public signup, batch matching and match reads (platform key:
free-signup users belong to no tenant)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobmatch.api.auth import PlatformKeyDep
from jobmatch.api.deps import DepsDep, InngestDep, SessionDep
from jobmatch.api.errors import BODY_ERRORS, KEY_ERRORS, error_responses
from jobmatch.api.events import send_events
from jobmatch.api.match_schemas import MATCH_EXAMPLE, MatchList
from jobmatch.api.request_model import NOT_BLANK, RequestModel, Trimmed
from jobmatch.api.routes.signup_confirm import confirmation_link
from jobmatch.api.validation import Email, clean_list, normalize_email, require_https
from jobmatch.events.matching import PerformMatching
from jobmatch.matching.embedding_store import preferences_vector
from jobmatch.matching.errors import UserNotFoundError
from jobmatch.matching.match_reads import StoredMatch, user_matches
from jobmatch.matching.signup import SignupInput, create_or_find_user, signup_matches
from jobmatch.matching.signup_confirmation import request_confirmation
from jobmatch.matching.user_batch import UnknownUsersError, matching_event, resolve_users
from jobmatch.safe_input import StorableText

router = APIRouter(tags=["users"])

MAX_BATCH_USERS = 1000
# Starlette renamed the 422 constant (…_ENTITY deprecated); the number is stable.
UNPROCESSABLE = 422


Role = Annotated[str, Field(min_length=1, max_length=120, pattern=NOT_BLANK)]
ListItem = Annotated[str, Field(max_length=100)]
Country = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]


class SignupRequest(RequestModel):
    """A free signup. Lists are cleaned (trimmed, lower-cased, de-duplicated)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana.almeida@example.com",
                    "name": "Ana Almeida",
                    "roles": ["backend engineer"],
                    "skills": ["python", "postgresql", "docker"],
                    "locations": ["Berlin"],
                    "countries": ["DE"],
                    "salary_min": 65000,
                    "experience_years": 4,
                    "remote_ok": True,
                    "mode": "sync",
                },
                {
                    "email": "ben.berger@example.com",
                    "roles": ["data engineer"],
                    "skills": ["sql", "spark"],
                    "mode": "async",
                    "webhook_url": "https://hooks.example.com/jobmatch",
                },
            ]
        },
    )

    email: Email
    name: Trimmed | None = Field(default=None, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=10)
    skills: list[ListItem] = Field(default_factory=list, max_length=50)
    locations: list[ListItem] = Field(default_factory=list, max_length=20)
    countries: list[Country] = Field(default_factory=list, max_length=30)
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000)
    experience_years: int | None = Field(default=None, ge=0, le=60)
    remote_ok: bool = True
    mode: Literal["sync", "async"] = Field(
        default="sync",
        description="sync: answer with matches now; async: answer 202 at once and "
        "notify (email and/or webhook) when the durable run has saved them",
    )
    webhook_url: str | None = Field(default=None, max_length=1000, pattern=r"^https://")

    @field_validator("roles", "skills", "locations")
    @classmethod
    def _lists(cls, value: list[str]) -> list[str]:
        return clean_list(value)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(c.upper() for c in value))

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return require_https(value) if value else None

    def to_input(self) -> SignupInput:
        """The validated signup for the domain code."""
        return SignupInput(
            email=self.email,
            name=self.name or None,
            roles=self.roles,
            skills=self.skills,
            locations=self.locations,
            countries=self.countries,
            salary_min=self.salary_min,
            experience_years=self.experience_years,
            remote_ok=self.remote_ok,
            webhook_url=self.webhook_url,
        )


class SignupResponse(BaseModel):
    """The answer to a signup. It is the same for a new address and for one already
    signed up (whose change waits for the owner's confirmation by email), so it
    tells nobody whether an address is known: the matches are those of the
    submitted preferences, and nothing about a stored user is shown."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana.almeida@example.com",
                    "mode": "sync",
                    "complete": True,
                    "request_id": "5c1f...",
                    "matches": [MATCH_EXAMPLE],
                }
            ]
        }
    )

    email: str
    mode: Literal["sync", "async"]
    complete: bool = Field(
        description="False when the time budget cut the immediate matching short (or in "
        "async mode): the durable run computes and saves the full set"
    )
    request_id: str = Field(description="Names this signup in the matching run and its notices")
    matches: list[StoredMatch]


@router.post(
    "/api/signup/free",
    summary="Free signup with immediate matches",
    response_model=SignupResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {
            "description": "Async mode: accepted; matches follow by email / webhook",
            "model": SignupResponse,
        },
        **error_responses(*BODY_ERRORS, 503, e422="Invalid signup: nothing is written or sent"),
    },
)
def signup_free(
    request: SignupRequest,
    response: Response,
    session: SessionDep,
    deps: DepsDep,
) -> SignupResponse:
    """Sign up with an email and what you look for. A new address creates the user
    and preferences; for an address already signed up nothing changes until its
    owner confirms the change through the link emailed to it (the answer is the
    same either way). Sync mode answers with matches for the submitted preferences,
    computed inside the signup time budget (and saved for a new user); the durable
    `matching/perform` run (sent when USE_INNGEST_FOR_MATCHING is on, always in
    async mode, and after a confirmation) computes and saves the full set."""
    settings = deps.settings
    request_id = uuid.uuid4().hex
    signup = request.to_input()
    is_async = request.mode == "async"
    embedding = preferences_vector(signup.preferences(), deps.embedder)
    user = create_or_find_user(session, signup, embedding)
    if not user.created:
        request_confirmation(
            session,
            user_id=user.id,
            signup=signup,
            request_id=request_id,
            mode=request.mode,
            mailer=deps.mailer,
            key=deps.signup_token_key,
            now=datetime.now(UTC),
            hours=settings.signup_confirmation_hours,
            per_hour=settings.signup_confirmations_per_hour,
            link=lambda token: confirmation_link(settings, token),
        )
    session.commit()
    matches: list[StoredMatch] = []
    complete = False
    if not is_async:
        matches, complete = signup_matches(
            session, signup, embedding, settings, save=user.created, embedder=deps.embedder
        )
        session.commit()
    if user.created and (is_async or settings.use_inngest_for_matching):
        event = matching_event(
            user.id, user.is_premium, source="signup/free", request_id=request_id, notify=is_async
        )
        send_events(deps.inngest, [event], what=PerformMatching.NAME)
    if is_async:
        response.status_code = status.HTTP_202_ACCEPTED
    return SignupResponse(
        email=signup.email,
        mode=request.mode,
        complete=complete,
        request_id=request_id,
        matches=matches,
    )


class MatchUsersRequest(RequestModel):
    """Users to (re)match, by id and/or email; at most 1,000 per request."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"user_ids": [1, 2, 3], "emails": ["ana.almeida@example.com"]}]
        },
    )

    user_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=MAX_BATCH_USERS
    )
    emails: list[Email] = Field(default_factory=list, max_length=MAX_BATCH_USERS)

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class MatchUsersResponse(BaseModel):
    """One `matching/perform` event per user, premium users first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"request_id": "9a0b...", "users": 2, "event_ids": ["01J...", "01J..."]}]
        }
    )

    request_id: str
    users: int
    event_ids: list[str]


@router.post(
    "/api/match-users",
    summary="Batch matching of many users",
    response_model=MatchUsersResponse,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        *KEY_ERRORS,
        *BODY_ERRORS,
        503,
        e422="Invalid ids/emails, none given, or unknown users: nothing sent",
    ),
)
def match_users(
    request: MatchUsersRequest, session: SessionDep, _key: PlatformKeyDep, client: InngestDep
) -> MatchUsersResponse:
    """Batch matching: validate that every named user exists, then send one durable
    `matching/perform` per user (flagged premium for the priority queue)."""
    if not request.user_ids and not request.emails:
        raise HTTPException(UNPROCESSABLE, "give user_ids and/or emails")
    if len(request.user_ids) + len(request.emails) > MAX_BATCH_USERS:
        raise HTTPException(UNPROCESSABLE, f"at most {MAX_BATCH_USERS} users per request")
    try:
        users = resolve_users(session, list(dict.fromkeys(request.user_ids)), request.emails)
    except UnknownUsersError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from exc
    request_id = uuid.uuid4().hex
    events = [
        matching_event(u.id, u.is_premium, source="api/match-users", request_id=request_id)
        for u in users
    ]
    event_ids = send_events(client, events, what=PerformMatching.NAME)
    return MatchUsersResponse(request_id=request_id, users=len(users), event_ids=event_ids)


@router.get(
    "/api/users/{email}/matches",
    summary="A user's matches",
    response_model=MatchList,
    responses=error_responses(*KEY_ERRORS, 404, 422, e404="No user with this email"),
)
def read_user_matches(
    email: Annotated[StorableText, Path(max_length=320, description="The user's email")],
    session: SessionDep,
    _key: PlatformKeyDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    min_score: Annotated[float, Query(ge=0, le=100, allow_inf_nan=False)] = 0.0,
) -> MatchList:
    """A user's stored matches on active jobs, best first."""
    try:
        matches = user_matches(session, normalize_email(email), limit=limit, min_score=min_score)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, f"email {exc}") from exc
    except UserNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return MatchList.of(matches)
