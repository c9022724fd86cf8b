"""The Lambda entry point: `jobmatch.handler.handler`.

Everything expensive (settings and secrets, the Inngest client, the FastAPI app,
the function registry) is built once at import, that is once per container (or
once per published version with SnapStart: `jobmatch.snapstart` re-creates what a
restored container must not share). The database engine is built on first use.
"""

from __future__ import annotations

import gc

# The import allocates some 200,000 long-lived objects (models, routes, schemas):
# collecting garbage while they pile up cost ~30 % of the import time here.
# Collection resumes below, after the survivors are frozen out of its way.
gc.disable()

from mangum import Mangum  # noqa: E402

from jobmatch import snapstart  # noqa: E402, F401 - registers the SnapStart runtime hooks
from jobmatch.app import create_app  # noqa: E402
from jobmatch.observability import logger, metrics, trace_lambda_handler  # noqa: E402


def _build() -> Mangum:
    return Mangum(create_app(), lifespan="off", api_gateway_base_path="/")


_asgi_handler = _build()
gc.freeze()  # what the import built lives as long as the container
gc.enable()


def rebuild() -> None:
    """A new app for the current settings and Inngest client (after a SnapStart
    restore): the Inngest serve endpoint copies the signing keys when it is built."""
    global _asgi_handler
    _asgi_handler = _build()


gc.freeze()  # what the import built lives as long as the container
gc.enable()


@metrics.log_metrics
@trace_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, object], context: object) -> dict[str, object]:
    """Serve one API Gateway (HTTP API v2) event."""
    return _asgi_handler(event, context)  # type: ignore[arg-type]
