"""The Lambda entry point: `jobmatch.handler.handler`.

Everything expensive (settings and secrets, the Inngest client, the FastAPI app,
the function registry) is built once at import, that is once per container (or
once per published version with SnapStart: `jobmatch.snapstart` re-creates what a
restored container must not share). The database engine is built on first use.
"""

from __future__ import annotations

from mangum import Mangum

from jobmatch import snapstart  # noqa: F401 - registers the SnapStart runtime hooks
from jobmatch.app import create_app
from jobmatch.observability import logger, metrics, trace_lambda_handler


def _build() -> Mangum:
    return Mangum(create_app(), lifespan="off", api_gateway_base_path="/")


_asgi_handler = _build()


def rebuild() -> None:
    """A new app for the current settings and Inngest client (after a SnapStart
    restore): the Inngest serve endpoint copies the signing keys when it is built."""
    global _asgi_handler
    _asgi_handler = _build()


@metrics.log_metrics
@trace_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    """Serve one API Gateway (HTTP API v2) event."""
    return _asgi_handler(event, context)  # type: ignore[arg-type]
