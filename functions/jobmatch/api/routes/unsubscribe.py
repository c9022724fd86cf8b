"""Unsubscribe links (public: the signed token is the authorisation).

`POST /api/unsubscribe?token=...` records the opt-out: the one-click request mail
clients send from the `List-Unsubscribe-Post` header (RFC 8058: a form body
`List-Unsubscribe=One-Click`, which is not needed here), and the confirm button of
the page below. `GET` only shows that page: link scanners and previews follow
links in emails, and must not unsubscribe anybody by doing so.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from jobmatch.api.deps import DepsDep, SessionDep
from jobmatch.mail.unsubscribe import UNSUBSCRIBE_PATH, InvalidTokenError, Opt, record_unsubscribe

router = APIRouter(tags=["mail"])

TokenQuery = Annotated[str, Query(min_length=5, max_length=200, description="From the email")]
WHAT = {"new_jobs": "new job alerts", "digest": "the daily digest", "all": "all emails"}
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body style="font-family: sans-serif;">{body}</body></html>"""


def _opt(deps: DepsDep, token: str) -> Opt:
    links = deps.mailer.links
    if links is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "unsubscribe is not configured")
    try:
        return links.verify(token)
    except InvalidTokenError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


def _what(opt: Opt) -> str:
    return WHAT.get(opt.category, opt.category.replace("_", " ") + " emails")


@router.get(
    UNSUBSCRIBE_PATH,
    summary="Unsubscribe: confirm page",
    response_class=HTMLResponse,
    responses={400: {"description": "Not a valid unsubscribe link"}},
)
def confirm_page(token: TokenQuery, deps: DepsDep) -> HTMLResponse:
    """A page with one button that confirms (POST); nothing is changed by GET."""
    opt = _opt(deps, token)
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
    responses={400: {"description": "Not a valid unsubscribe link"}},
)
def unsubscribe(token: TokenQuery, deps: DepsDep, session: SessionDep) -> HTMLResponse:
    """Record the opt-out (again is fine); a user deleted since is simply done."""
    opt = _opt(deps, token)
    record_unsubscribe(session, opt)
    body = f"<p>Done: you will not receive {escape(_what(opt))} any more.</p>"
    return HTMLResponse(_PAGE.format(body=body))
