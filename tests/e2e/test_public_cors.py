"""A signup form on the platform's website works from a browser, and nothing else does.

Driven through the Lambda handler (`jobmatch.handler.handler`) with API Gateway
HTTP API events, as the `ANY` routes deliver them (the gateway has no CORS
configuration, so a preflight reaches the app). The allowed origins come from
`CORS_ALLOWED_ORIGINS`, the template's per-environment parameter.

What a person types is taken as meant (an address with a keyboard's trailing space,
in capitals) and what is refused is said in words, in the one error shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from inngest_harness.apigw import LambdaContext, http_event
from inngest_harness.records import HandlerResponse

pytestmark = pytest.mark.e2e

SITE = "https://www.jobs.acme.test"
OTHER_SITE = "https://evil.acme.test"
MACHINE_ROUTES = [
    ("POST", "/api/inngest"),
    ("POST", "/api/jobs/import"),
    ("POST", "/api/admin/api-keys"),
    ("POST", "/api/scraper/claim"),
    ("POST", "/api/users/match"),
]


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Lambda handler of a deployment whose site is `SITE`."""
    from jobmatch import handler as lambda_handler
    from jobmatch.settings import get_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{SITE}, https://jobs.acme.test")
    get_settings.cache_clear()
    lambda_handler.reset()
    yield lambda_handler.handler
    monkeypatch.undo()
    get_settings.cache_clear()
    lambda_handler.reset()


def call(handler: Any, ctx: LambdaContext, method: str, path: str, **kw: Any) -> HandlerResponse:
    return HandlerResponse.from_lambda(handler(http_event(method, path, **kw), ctx))


def preflight(handler: Any, ctx: LambdaContext, path: str, origin: str) -> HandlerResponse:
    """What a browser sends before a cross-origin JSON POST."""
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    return call(handler, ctx, "OPTIONS", path, headers=headers)


@pytest.mark.parametrize("path", ["/api/signup/free", "/api/signup/confirm", "/api/unsubscribe"])
def test_a_preflight_from_the_site_is_answered_on_public_routes(
    handler: Any, lambda_ctx: LambdaContext, path: str
) -> None:
    response = preflight(handler, lambda_ctx, path, SITE)
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type"
    assert "access-control-allow-credentials" not in response.headers


def test_a_preflight_from_another_origin_is_refused_in_the_error_shape(
    handler: Any, lambda_ctx: LambdaContext
) -> None:
    response = preflight(handler, lambda_ctx, "/api/signup/free", OTHER_SITE)
    assert response.status == 403
    assert "access-control-allow-origin" not in response.headers
    assert response.json() == {
        "detail": "this origin may not call this route from a browser",
        "errors": [],
    }


@pytest.mark.parametrize(("method", "path"), MACHINE_ROUTES)
def test_machine_routes_answer_no_cors_even_to_the_site(
    handler: Any, lambda_ctx: LambdaContext, method: str, path: str
) -> None:
    response = preflight(handler, lambda_ctx, path, SITE)
    assert not any(h.startswith("access-control-") for h in response.headers)
    actual = call(handler, lambda_ctx, method, path, body={}, headers={"origin": SITE})
    assert not any(h.startswith("access-control-") for h in actual.headers)


def test_without_configured_origins_no_browser_may_call(
    handler: Any, lambda_ctx: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmatch import handler as lambda_handler
    from jobmatch.settings import get_settings

    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    get_settings.cache_clear()
    lambda_handler.reset()
    assert preflight(handler, lambda_ctx, "/api/signup/free", SITE).status == 403


def test_a_signup_from_the_site_is_readable_there_and_the_address_taken_as_meant(
    handler: Any, lambda_ctx: LambdaContext, db: None
) -> None:
    from jobmatch.db.models import User
    from jobmatch.db.session import session_scope

    body = {"email": "  Ana.Almeida@Example.COM \n", "roles": ["backend engineer"]}
    response = call(
        handler, lambda_ctx, "POST", "/api/signup/free", body=body, headers={"origin": SITE}
    )
    assert response.status == 201, response.body
    assert response.headers["access-control-allow-origin"] == SITE
    assert "Origin" in response.headers["vary"]
    assert response.json()["email"] == "ana.almeida@example.com"
    with session_scope() as session:
        assert session.scalars(select(User.email)).all() == ["ana.almeida@example.com"]
    # A page of another site gets the answer too (no CORS is not a lock), but its
    # browser may not read it: no header names that site.
    other = call(
        handler,
        lambda_ctx,
        "POST",
        "/api/signup/free",
        body={**body, "email": "ben@example.com"},
        headers={"origin": OTHER_SITE},
    )
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("ana@", "email: not an email address"),
        ("ana almeida@example.com", "email: not an email address"),
        ("a" * 321, "email: at most 320 characters"),
        (7, "email: must be text"),
    ],
)
def test_a_refused_signup_says_why_in_words_with_the_machine_detail_beside(
    handler: Any, lambda_ctx: LambdaContext, email: Any, problem: str
) -> None:
    body = {"email": email, "roles": ["backend engineer"]}
    response = call(
        handler, lambda_ctx, "POST", "/api/signup/free", body=body, headers={"origin": SITE}
    )
    assert response.status == 422
    answer = response.json()
    assert answer["detail"] == f"invalid request: {problem}"
    [item] = answer["errors"]
    assert item["loc"] == ["body", "email"]
    assert item["msg"] == problem.removeprefix("email: ")
    assert "should" not in json.dumps(answer)  # no pydantic wording, no pattern
    assert response.headers["access-control-allow-origin"] == SITE  # the form can show it


def test_every_problem_of_a_form_is_said_in_words(handler: Any, lambda_ctx: LambdaContext) -> None:
    body = {"email": "ana@example.com", "roles": [], "mode": "later", "colour": "blue"}
    response = call(handler, lambda_ctx, "POST", "/api/signup/free", body=body)
    assert response.status == 422
    said = {tuple(e["loc"]): e["msg"] for e in response.json()["errors"]}
    assert said == {
        ("body", "roles"): "at least 1 item",
        ("body", "mode"): "must be one of 'sync' or 'async'",
        ("body", "colour"): "not a field of this request",
    }
