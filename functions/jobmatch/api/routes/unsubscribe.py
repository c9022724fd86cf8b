"""Unsubscribe links (public: the signed token is the authorisation).

`POST /api/unsubscribe?token=...` records the opt-out: the one-click request mail
clients send from the `List-Unsubscribe-Post` header (RFC 8058: a form body
`List-Unsubscribe=One-Click`, which is not needed here), and the confirm button of
the page below. `GET` only shows that page: link scanners and previews follow
links in emails, and must not unsubscribe anybody by doing so. Both answer HTML
only, as a browser or mail client opens them: a bad or missing token is the
"not a valid link" page (400), not a JSON error.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from jobmatch.api.deps import DepsDep, SessionDep
from jobmatch.api.errors import HTML_PAGE, error_responses
from jobmatch.mail import store as mail_store
from jobmatch.mail.unsubscribe import UNSUBSCRIBE_PATH, InvalidTokenError, Opt

router = APIRouter(tags=["mail"])

MIN_TOKEN, MAX_TOKEN = 5, 200
# Read from the query by hand: a declared parameter would add FastAPI's JSON 422
# to pages that answer HTML only.
TOKEN_PARAMETER: dict[str, Any] = {
    "parameters": [
        {
            "name": "token",
            "in": "query",
            "required": True,
            "description": "From the email",
            "schema": {"type": "string", "minLength": MIN_TOKEN, "maxLength": MAX_TOKEN},
        }
    ]
}
PAGES = {
    400: {"description": "Not a valid unsubscribe link", **HTML_PAGE},
    503: {"description": "Unsubscribe links are not configured", **HTML_PAGE},
    **error_responses(),
}
WHAT = {"new_jobs": "new job alerts", "digest": "the daily digest", "all": "all emails"}
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body style="font-family: sans-serif;">{body}</body></html>"""


class _RefusedError(Exception):
    """The page to answer instead of acting."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.page = HTMLResponse(
            _PAGE.format(body=f"<p>{escape(message)}</p>"), status_code=status_code
        )


def _opt(deps: DepsDep, token: str | None) -> Opt:
    links = deps.mailer.links
    if links is None:
        raise _RefusedError(status.HTTP_503_SERVICE_UNAVAILABLE, "unsubscribe is not configured")
    if token is None or not MIN_TOKEN <= len(token) <= MAX_TOKEN or not token.isascii():
        raise _RefusedError(status.HTTP_400_BAD_REQUEST, "not a valid unsubscribe link")
    try:
        return links.verify(token)
    except InvalidTokenError as exc:
        raise _RefusedError(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _what(opt: Opt) -> str:
    return WHAT.get(opt.category, opt.category.replace("_", " ") + " emails")


@router.get(
    UNSUBSCRIBE_PATH,
    summary="Unsubscribe: confirm page",
    response_class=HTMLResponse,
    responses=PAGES,
    openapi_extra=TOKEN_PARAMETER,
)
def confirm_page(request: Request, deps: DepsDep) -> HTMLResponse:
    """A page with one button that confirms (POST); nothing is changed by GET."""
    token = request.query_params.get("token")
    try:
        opt = _opt(deps, token)
    except _RefusedError as refused:
        return refused.page
    assert token is not None
    form = (
        f"<p>Stop receiving {escape(_what(opt))} from jobmatch?</p>"
        f'<form method="post" action="{UNSUBSCRIBE_PATH}?token={escape(token, quote=True)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return HTMLResponse(_PAGE.format(body=form))


@router.post(
    UNSUBSCRIBE_PATH,
    summary="Unsubscribe (one click)",
    response_class=HTMLResponse,
    responses=PAGES,
    openapi_extra=TOKEN_PARAMETER,
)
def unsubscribe(request: Request, deps: DepsDep, uow: SessionDep) -> HTMLResponse:
    """Record the opt-out (again is fine); a user deleted since is simply done."""
    try:
        opt = _opt(deps, request.query_params.get("token"))
    except _RefusedError as refused:
        return refused.page
    mail_store.record_unsubscribe(uow, opt)
    body = f"<p>Done: you will not receive {escape(_what(opt))} any more.</p>"
    return HTMLResponse(_PAGE.format(body=body))
