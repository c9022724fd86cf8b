"""The confirmation link of a repeat signup: a page to review, a button to apply.

`GET /api/signup/confirm?token=` only shows what would change: mail scanners and
link previews open links, and opening one must not change anything. The page's
form POSTs the same token to `POST /api/signup/confirm`, which applies the change
(`users.signup_confirmation`) and starts a durable matching run with the new
preferences. Both answer HTML, and only HTML, as a browser opens them: a bad or
missing token is the "invalid link" page, not a JSON error.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from jobmatch.api.deps import DepsDep
from jobmatch.api.errors import HTML_PAGE, error_responses
from jobmatch.dependencies import Dependencies
from jobmatch.embeddings.store import preferences_vector
from jobmatch.events.outbox import publish
from jobmatch.settings import Settings
from jobmatch.users.batch import matching_event
from jobmatch.users.signup_confirmation import (
    ConfirmationError,
    PendingChange,
    apply_change,
    load_change,
)

router = APIRouter(tags=["users"])

CONFIRM_PATH = "/api/signup/confirm"
MAX_TOKEN = 200
# The token is read from the query by hand: a declared parameter would add
# FastAPI's JSON 422 to pages that answer HTML only.
TOKEN_PARAMETER = {
    "parameters": [
        {
            "name": "token",
            "in": "query",
            "required": False,
            "description": "The token of the emailed link",
            "schema": {"type": "string"},
        }
    ]
}
GONE = {"description": "The link is invalid, expired or unknown", **HTML_PAGE}


def confirmation_link(settings: Settings, token: str) -> str:
    """The link to email (under `public_base_url`, where every emailed link points)."""
    base = settings.public_base_url.rstrip("/")
    return f"{base}{CONFIRM_PATH}?{urlencode({'token': token})}"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='robots' content='noindex'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status_code)


def _gone() -> HTMLResponse:
    return _page(
        "Link invalid or expired",
        "<p>This confirmation link is invalid or has expired. Sign up again to get a new one.</p>",
        status.HTTP_404_NOT_FOUND,
    )


def _load(deps: Dependencies, token: str | None) -> PendingChange:
    """The change a link's token names. The token is checked against its signature
    before anything else, so whatever a forged one holds never reaches the database."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        raise ConfirmationError
    with deps.unit_of_work() as uow:
        return load_change(uow, token, deps.signup_token_key, datetime.now(UTC))


def _summary(change: PendingChange) -> str:
    signup = change.signup
    webhook = urlsplit(signup.webhook_url).hostname if signup.webhook_url else None
    rows = [
        ("Name", signup.name or "(none)"),
        ("Roles", ", ".join(signup.roles)),
        ("Skills", ", ".join(signup.skills) or "(none)"),
        ("Locations", ", ".join(signup.locations) or "(any)"),
        ("Notifications", f"email, and a webhook at {webhook}" if webhook else "email only"),
    ]
    items = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in rows)
    return f"<ul>{items}</ul>"


@router.get(
    CONFIRM_PATH,
    summary="Review a signup change (the emailed link)",
    response_class=HTMLResponse,
    responses={
        200: {"description": "What the change would set, and a button to confirm it"},
        404: GONE,
        **error_responses(),
    },
    openapi_extra=TOKEN_PARAMETER,
)
def review_change(request: Request, deps: DepsDep) -> HTMLResponse:
    """Show the pending change; changes nothing (mail scanners open links)."""
    token = request.query_params.get("token")
    try:
        change = _load(deps, token)
    except ConfirmationError:
        return _gone()
    if change.used:
        return _page("Already confirmed", "<p>This change has been applied.</p>")
    action = html.escape(f"{CONFIRM_PATH}?{urlencode({'token': token})}")
    return _page(
        "Confirm the change to your job matches",
        f"<p>Someone asked to set your profile to:</p>{_summary(change)}"
        f"<form method='post' action='{action}'><button type='submit'>Confirm</button></form>"
        "<p>If it was not you, close this page: nothing changes.</p>",
    )


@router.post(
    CONFIRM_PATH,
    summary="Apply a signup change (the confirm button)",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The change is applied and matching has started"},
        404: GONE,
        **error_responses(),
    },
    openapi_extra=TOKEN_PARAMETER,
)
def confirm_change(request: Request, deps: DepsDep) -> HTMLResponse:
    """Apply the change once (the token is single-use) and record `matching/perform`
    in the same transaction (the outbox sends it after the commit), with an id
    derived from the confirmation, so posting again starts no second run."""
    token = request.query_params.get("token")
    try:
        change = _load(deps, token)  # its own unit: none held while embedding
    except ConfirmationError:
        return _gone()
    embedding = (
        None if change.used else preferences_vector(change.signup.preferences(), deps.embedder)
    )
    event = matching_event(
        change.user_id,
        change.is_premium,
        source="signup/confirm",
        request_id=change.request_id,
        notify=change.mode == "async",
        event_id=change.event_id,
    )
    with deps.unit_of_work() as uow:
        if embedding is not None and not apply_change(uow, change, embedding, datetime.now(UTC)):
            return _gone()
        publish(uow, deps.inngest, [event])
    return _page(
        "Change confirmed",
        "<p>Your profile is updated. Your new matches are on their way.</p>",
    )
