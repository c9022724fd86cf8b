"""The FastAPI application factory: routes, the Inngest endpoint, its replay guard,
one error shape (`api.errors`) and body limits (`api.body_limit`).

`create_app(deps)` serves every function of `workflows.registry` with the
client, settings and clients of `deps`, and keeps `deps` on `app.state` for the
routes (`api.deps`). `build_handler(deps)` puts it behind Mangum as the Lambda
handler: `jobmatch.handler` builds the real one, tests and local tools their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import inngest
import inngest.fast_api
from fastapi import FastAPI, Request
from mangum import Mangum
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from jobmatch.api.body_limit import BodyLimit
from jobmatch.api.cors import PublicCors, parse_origins
from jobmatch.api.errors import install_error_handlers
from jobmatch.api.replay_guard import ReplayGuard
from jobmatch.api.routes import (
    admin,
    api_keys,
    candidates,
    engagement,
    health,
    jobs_import,
    roles_admin,
    scraper,
    signup_confirm,
    unsubscribe,
    users,
)
from jobmatch.dependencies import Dependencies
from jobmatch.mail.unsubscribe import UNSUBSCRIBE_PATH
from jobmatch.observability import logger, metrics, trace_lambda_handler
from jobmatch.workflows.registry import create_all_functions

INNGEST_PATH = "/api/inngest"
# What a web page may call from a browser (`api.cors`): the signup form, and the
# pages emailed links open. Every other route is for machines and answers no CORS.
PUBLIC_PATHS = frozenset({"/api/signup/free", signup_confirm.CONFIRM_PATH, UNSUBSCRIBE_PATH})
LambdaHandler = Callable[[dict[str, object], object], dict[str, object]]


async def correlate_request(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Use the API Gateway request id (or X-Request-Id locally) as correlation id."""
    aws_event = request.scope.get("aws.event") or {}
    request_id = (aws_event.get("requestContext") or {}).get("requestId") or request.headers.get(
        "x-request-id"
    )
    logger.set_correlation_id(request_id)
    return await call_next(request)


def create_app(deps: Dependencies, functions: list[inngest.Function[Any]] | None = None) -> FastAPI:
    """Build the app on `deps`. Tests may serve their own `functions`; by default
    it serves all of the app's, created on `deps`."""
    settings = deps.settings
    client = deps.inngest
    app = FastAPI(
        title="jobmatch",
        summary="Job matching backend: durable Inngest functions and a REST API.",
        version="1.0.0",
    )
    app.state.deps = deps
    install_error_handlers(app)
    for module in (
        health,
        admin,
        api_keys,
        roles_admin,
        scraper,
        users,
        signup_confirm,
        jobs_import,
        candidates,
        engagement,
        unsubscribe,
    ):
        app.include_router(module.router)
    app.include_router(api_keys.tenant_router)
    inngest.fast_api.serve(
        app,
        client,
        create_all_functions(deps) if functions is None else functions,
        serve_path=INNGEST_PATH,
        serve_origin=settings.inngest_serve_origin,
        streaming=inngest.Streaming.DISABLE,
    )
    # The SDK's protocol endpoint is Inngest's contract, not part of the REST API's.
    for route in app.routes:
        if getattr(route, "path", None) == INNGEST_PATH:
            route.include_in_schema = False  # type: ignore[attr-defined]
    app.add_middleware(BaseHTTPMiddleware, dispatch=correlate_request)
    app.add_middleware(BodyLimit, exempt=frozenset({INNGEST_PATH}))
    app.add_middleware(
        ReplayGuard,
        serve_path=INNGEST_PATH,
        max_age_seconds=settings.signature_max_age_seconds,
        require_signature=client.is_production,
    )
    app.add_middleware(
        PublicCors, paths=PUBLIC_PATHS, origins=parse_origins(settings.cors_allowed_origins)
    )
    return app


def without_bad_forwarded_port(event: dict[str, object]) -> dict[str, object]:
    """The event without an `x-forwarded-port` header that is not a number: Mangum
    reads it with `int()` before the app runs, so a client-sent bad value would be a
    500 (API Gateway sets the header itself, but a 5xx must not hinge on that)."""
    headers = event.get("headers")
    if not isinstance(headers, dict):
        return event
    port = headers.get("x-forwarded-port")
    if port is None or (isinstance(port, str) and port.isdigit()):
        return event
    return {**event, "headers": {k: v for k, v in headers.items() if k != "x-forwarded-port"}}


def build_handler(deps: Dependencies) -> LambdaHandler:
    """A Lambda handler serving the app built on `deps` behind API Gateway (HTTP API
    v2), with the logging, metrics and tracing the deployed one has."""
    asgi_handler = Mangum(create_app(deps), lifespan="off", api_gateway_base_path="/")

    @metrics.log_metrics
    @trace_lambda_handler
    @logger.inject_lambda_context(clear_state=True)
    def handle(event: dict[str, object], context: object) -> dict[str, object]:
        """Serve one API Gateway (HTTP API v2) event."""
        return asgi_handler(without_bad_forwarded_port(event), context)  # type: ignore[arg-type]

    return handle
