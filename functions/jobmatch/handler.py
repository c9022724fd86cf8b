"""The Lambda entry point: `jobmatch.handler.handler`.

Everything expensive (settings and secrets, the Inngest client, the FastAPI app,
the function registry) is built once at import, that is once per container.
The database engine is built on first use and reused.
"""

from __future__ import annotations

from mangum import Mangum

from jobmatch.app import create_app
from jobmatch.observability import logger, metrics, trace_lambda_handler

app = create_app()
_asgi_handler = Mangum(app, lifespan="off", api_gateway_base_path="/")


@metrics.log_metrics
@trace_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    """Serve one API Gateway (HTTP API v2) event."""
    return _asgi_handler(event, context)  # type: ignore[arg-type]
