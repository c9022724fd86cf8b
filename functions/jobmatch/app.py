"""The FastAPI application factory: routes, the Inngest endpoint, its replay guard."""

from __future__ import annotations

from typing import Any

import inngest
import inngest.fast_api
from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from jobmatch.api.replay_guard import ReplayGuard
from jobmatch.api.routes import admin, candidates, health, jobs_import, users
from jobmatch.observability import logger
from jobmatch.settings import get_settings
from jobmatch.workflows.client import inngest_client
from jobmatch.workflows.registry import all_functions

INNGEST_PATH = "/api/inngest"


async def correlate_request(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Use the API Gateway request id (or X-Request-Id locally) as correlation id."""
    aws_event = request.scope.get("aws.event") or {}
    request_id = (aws_event.get("requestContext") or {}).get("requestId") or request.headers.get(
        "x-request-id"
    )
    logger.set_correlation_id(request_id)
    return await call_next(request)


def create_app(
    functions: list[inngest.Function[Any]] | None = None,
    client: inngest.Inngest | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own functions; Lambda serves `all_functions()`."""
    settings = get_settings()
    client = client or inngest_client
    app = FastAPI(
        title="jobmatch",
        summary="Job matching backend: durable Inngest functions and a REST API.",
        version="1.0.0",
    )
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(users.router)
    app.include_router(jobs_import.router)
    app.include_router(candidates.router)
    inngest.fast_api.serve(
        app,
        client,
        all_functions() if functions is None else functions,
        serve_path=INNGEST_PATH,
        serve_origin=settings.inngest_serve_origin,
        streaming=inngest.Streaming.DISABLE,
    )
    app.add_middleware(BaseHTTPMiddleware, dispatch=correlate_request)
    app.add_middleware(
        ReplayGuard,
        serve_path=INNGEST_PATH,
        max_age_seconds=settings.signature_max_age_seconds,
        require_signature=client.is_production,
    )
    return app
