"""One shape for every error the API answers, and the OpenAPI entries that say so.

Every 4xx/5xx body the app writes is an `ErrorBody`: `detail` is always a
sentence; `errors` lists the problems of a request that failed validation (empty
otherwise). FastAPI's own answers are replaced by the handlers below, because
they had two shapes (`detail` a string or a list) and, on a validation error,
echoed the offending input, which broke the response itself when that input
held NaN, Infinity or a lone surrogate (a 500 instead of a 422).

A body that is not JSON at all is a 400; a body that is JSON but breaks the
schema is a 422. Routes declare what they may answer with `error_responses`.

A 422 is read by people too (a signup form shows it), so each problem is said in
words (`email: not an email address`, `roles: at least 1 item`) rather than in
pydantic's (`String should match pattern '^[^@ ...'`), in `detail` and in each
item's `msg`; the item's `loc` and `type` stay pydantic's, for programs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobmatch.db.unit_of_work import DatabaseUnavailableError

# The status of a request that is well-formed but cannot be acted on (a route's own
# checks beyond the schema), answered with the same shape as a schema error. A
# number: Starlette renamed its 422 constant (…_ENTITY deprecated).
UNPROCESSABLE = 422
# The OpenAPI content of a route that answers an HTML page (links opened in a
# browser or a mail client), not an `ErrorBody`.
HTML_PAGE: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}

# A JSON reader gets the first few problems in `detail`; all are in `errors`.
DETAIL_PROBLEMS = 3
MAX_ERRORS = 50


class ErrorItem(BaseModel):
    """One problem of an invalid request: where (`loc`), what (`msg`), its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="What went wrong, in one sentence")
    errors: list[ErrorItem] = Field(
        default_factory=list, description="Each problem of a request that failed validation"
    )


class GatewayErrorBody(BaseModel):
    """What API Gateway itself answers when it throttles (not the app's shape)."""

    message: str


_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not valid JSON",
    401: "Missing or invalid API key",
    403: "The API key's scope does not cover this route or this tenant",
    404: "Not found (or not visible to this API key)",
    409: "Conflicts with the current state",
    413: "The body is larger than this route accepts",
    422: "The request does not match the schema: nothing was written or sent",
    503: "The database was unreachable (a dropped connection): nothing was written; "
    "retry the same request",
}


# What every keyed route may answer, and every route that takes a JSON body.
KEY_ERRORS = (401, 403)
BODY_ERRORS = (400, 413, 422)


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error codes (all `ErrorBody`), plus 429, which
    API Gateway's throttling may answer on any route. `descriptions` override the
    default text per code, keyed `e404=...`."""
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody, "description": descriptions.get(f"e{code}", _DESCRIPTIONS[code])}
        for code in codes
    }
    responses[429] = {
        "model": GatewayErrorBody,
        "description": "Throttled by API Gateway; retry later",
    }
    return responses


def _printable(text: str) -> str:
    """`text` as valid UTF-8 (a lone surrogate becomes its escape)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# Pydantic's error types in words; `{...}` are the error's context (limits and
# allowed values, never the input). Types not listed keep pydantic's message.
_WORDS: dict[str, str] = {
    "missing": "required",
    "extra_forbidden": "not a field of this request",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "string_pattern_mismatch": "is not in the accepted form",
    "string_too_short": "at least {min_length} characters",
    "string_too_long": "at most {max_length} characters",
    "too_short": "at least {min_length} items",
    "too_long": "at most {max_length} items",
    "greater_than_equal": "must be {ge} or more",
    "less_than_equal": "must be {le} or less",
    "greater_than": "must be more than {gt}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
}
_VALUE_ERROR_PREFIX = "Value error, "
_ONE = re.compile(r"\b1 (character|item)s\b")


def _words(error: Any) -> str:
    """The problem as a person reads it."""
    template = _WORDS.get(str(error["type"]))
    if template is not None:
        try:
            return _ONE.sub(r"1 \1", template.format(**(error.get("ctx") or {})))
        except (KeyError, IndexError):
            pass
    return str(error["msg"]).removeprefix(_VALUE_ERROR_PREFIX)


def _item(error: Any) -> ErrorItem:
    loc = [part if isinstance(part, int) else _printable(str(part)) for part in error["loc"]]
    return ErrorItem(loc=loc, msg=_printable(_words(error)), type=str(error["type"]))


def _where(item: ErrorItem) -> str:
    """The field a problem is about, as a form names it (`email`, `roles.0`): the
    body's fields without the `body.` every one of them would carry."""
    loc = item.loc[1:] if len(item.loc) > 1 and item.loc[0] == "body" else item.loc
    return ".".join(str(part) for part in loc)


def error_response(
    status: int,
    detail: str,
    errors: list[ErrorItem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An `ErrorBody` answer."""
    body = ErrorBody(detail=_printable(detail), errors=errors or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    """400 for a body that is not JSON, 422 for one that breaks the schema; the
    input itself is never echoed."""
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return error_response(400, "the request body is not valid JSON")
    items = [_item(e) for e in raw[:MAX_ERRORS]]
    problems = "; ".join(f"{_where(item)}: {item.msg}" for item in items[:DETAIL_PROBLEMS])
    return error_response(422, f"invalid request: {problems}", items)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """An HTTPException (ours, or routing's 404/405) as an `ErrorBody`."""
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """503 when the database connection was lost mid-request: the request's open
    transaction is gone (nothing of it is saved), the next request gets a new
    connection, and retrying the same request is safe."""
    assert isinstance(exc, DatabaseUnavailableError)
    return error_response(
        503,
        "the database connection was lost before the request completed; retry the same request",
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer of `app` an `ErrorBody`."""
    app.add_exception_handler(RequestValidationError, validation_failed)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DatabaseUnavailableError, database_unavailable)
