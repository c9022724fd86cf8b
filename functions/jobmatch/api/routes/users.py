"""Free-signup users: public signup, batch matching and match reads (API key)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobmatch.api.deps import ApiKeyDep, DepsDep, InngestDep, SessionDep
from jobmatch.api.events import send_events
from jobmatch.api.match_schemas import MATCH_EXAMPLE, MatchList
from jobmatch.api.validation import clean_list, normalize_email, require_https
from jobmatch.events.matching import PerformMatching
from jobmatch.matching.errors import UserNotFoundError
from jobmatch.matching.match_reads import StoredMatch, user_matches
from jobmatch.matching.signup import SignupInput, signup_matches, upsert_signup
from jobmatch.matching.user_batch import UnknownUsersError, matching_event, resolve_users

router = APIRouter(tags=["users"])

MAX_BATCH_USERS = 1000
# Starlette renamed the 422 constant (…_ENTITY deprecated); the number is stable.
UNPROCESSABLE = 422
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "Missing or invalid API key"}}


class SignupRequest(BaseModel):
    """A free signup. Lists are cleaned (trimmed, lower-cased, de-duplicated)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
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

    email: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=10)
    skills: list[str] = Field(default_factory=list, max_length=50)
    locations: list[str] = Field(default_factory=list, max_length=20)
    countries: list[str] = Field(default_factory=list, max_length=30)
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000)
    experience_years: int | None = Field(default=None, ge=0, le=60)
    remote_ok: bool = True
    mode: Literal["sync", "async"] = Field(
        default="sync",
        description="sync: answer with matches now; async: answer 202 at once and "
        "notify (email and/or webhook) when the durable run has saved them",
    )
    webhook_url: str | None = Field(default=None, max_length=1000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        roles = clean_list(value, max_item_length=120)
        if not roles:
            raise ValueError("at least one non-empty role is required")
        return roles

    @field_validator("skills", "locations")
    @classmethod
    def _lists(cls, value: list[str]) -> list[str]:
        return clean_list(value, max_item_length=100)

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        codes = [c.upper() for c in clean_list(value, max_item_length=2)]
        if any(len(c) != 2 or not c.isalpha() for c in codes):
            raise ValueError("countries are ISO 3166-1 alpha-2 codes, e.g. DE")
        return codes

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return require_https(value) if value else None


class SignupResponse(BaseModel):
    """Who signed up, the immediate matches (sync mode) and the durable run's event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 12,
                    "email": "ana.almeida@example.com",
                    "created": True,
                    "mode": "sync",
                    "complete": True,
                    "request_id": "5c1f...",
                    "matches": [MATCH_EXAMPLE],
                    "event_ids": ["01J..."],
                }
            ]
        }
    )

    user_id: int
    email: str
    created: bool = Field(description="True when this signup created the user")
    mode: Literal["sync", "async"]
    complete: bool = Field(
        description="False when the time budget cut the immediate matching short (or in "
        "async mode): the durable run computes and saves the full set"
    )
    request_id: str
    matches: list[StoredMatch]
    event_ids: list[str]


@router.post(
    "/api/signup/free",
    summary="Free signup with immediate matches",
    response_model=SignupResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "Existing user (same email) updated; sync mode"},
        202: {"description": "Async mode: accepted; matches follow by email / webhook"},
        422: {"description": "Invalid signup: nothing is written"},
        503: {"description": "Saved, but the event service was unreachable; retry"},
    },
)
def signup_free(
    request: SignupRequest, response: Response, session: SessionDep, deps: DepsDep
) -> SignupResponse:
    """Create or update the user and preferences (one user per email). Sync mode
    answers with matches computed inside the signup time budget and saves them;
    the durable `matching/perform` run (sent when USE_INNGEST_FOR_MATCHING is on,
    always in async mode) computes and saves the full set."""
    settings = deps.settings
    request_id = uuid.uuid4().hex
    user = upsert_signup(
        session,
        SignupInput(
            email=request.email,
            name=request.name,
            roles=request.roles,
            skills=request.skills,
            locations=request.locations,
            countries=request.countries,
            salary_min=request.salary_min,
            experience_years=request.experience_years,
            remote_ok=request.remote_ok,
            webhook_url=request.webhook_url,
        ),
        deps.embedder,
    )
    session.commit()
    is_async = request.mode == "async"
    matches: list[StoredMatch] = []
    complete = False
    if not is_async:
        matches, complete = signup_matches(session, user, settings, deps.embedder)
        session.commit()
    event_ids: list[str] = []
    if is_async or settings.use_inngest_for_matching:
        event = matching_event(
            user.id, user.is_premium, source="signup/free", request_id=request_id, notify=is_async
        )
        event_ids = send_events(deps.inngest, [event], what=PerformMatching.NAME)
    if is_async:
        response.status_code = status.HTTP_202_ACCEPTED
    elif not user.created:
        response.status_code = status.HTTP_200_OK
    return SignupResponse(
        user_id=user.id,
        email=user.email,
        created=user.created,
        mode=request.mode,
        complete=complete,
        request_id=request_id,
        matches=matches,
        event_ids=event_ids,
    )


class MatchUsersRequest(BaseModel):
    """Users to (re)match, by id and/or email; at most 1,000 per request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"user_ids": [1, 2, 3], "emails": ["ana.almeida@example.com"]}]
        },
    )

    user_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=MAX_BATCH_USERS
    )
    emails: list[str] = Field(default_factory=list, max_length=MAX_BATCH_USERS)

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_email(e) for e in value))


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
    responses={
        **UNAUTHORIZED,
        422: {"description": "Invalid ids/emails, none given, or unknown users: nothing sent"},
    },
)
def match_users(
    request: MatchUsersRequest, session: SessionDep, _key: ApiKeyDep, client: InngestDep
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
    responses={**UNAUTHORIZED, 404: {"description": "No user with this email"}},
)
def read_user_matches(
    email: Annotated[str, Path(max_length=320, description="The user's email")],
    session: SessionDep,
    _key: ApiKeyDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    min_score: Annotated[float, Query(ge=0, le=100)] = 0.0,
) -> MatchList:
    """A user's stored matches on active jobs, best first."""
    try:
        matches = user_matches(session, normalize_email(email), limit=limit, min_score=min_score)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, f"email {exc}") from exc
    except UserNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return MatchList.of(matches)
