"""The Lambda entry point: `jobmatch.handler.handler`.

The settings (with their secrets), the `Dependencies`, the FastAPI app and the
function registry are built here, at import: once per container, in Lambda's
init phase (or once per published version with SnapStart: `jobmatch.snapstart`
re-creates what a restored container must not share, then calls `rebuild`). The
clients inside `Dependencies` are created on first use and the database engine on
first query; all are then reused. This module is the edge: nothing below it reads
settings for itself. Tests and local tools that want other settings or fakes call
`jobmatch.app.build_handler` with their own `Dependencies`.
"""

from __future__ import annotations

import gc

# The import allocates some 200,000 long-lived objects (models, routes, schemas):
# collecting garbage while they pile up cost ~30 % of the import time here.
# Collection resumes at the end, after the survivors are frozen out of its way.
gc.disable()

from jobmatch import snapstart  # noqa: E402, F401 - registers the SnapStart runtime hooks
from jobmatch.app import LambdaHandler, build_handler  # noqa: E402
from jobmatch.dependencies import Dependencies  # noqa: E402
from jobmatch.settings import get_settings  # noqa: E402

_handle: LambdaHandler = build_handler(Dependencies(get_settings()))


def rebuild() -> None:
    """A new app on fresh settings (after a SnapStart restore): the settings hold
    the secrets, and the Inngest client and serve endpoint copy the keys when built."""
    global _handle
    _handle = build_handler(Dependencies(get_settings()))


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    """Serve one API Gateway (HTTP API v2) event. Lambda looks this function up once,
    at init, so it stays the same object and delegates to whatever `rebuild` made."""
    return _handle(event, context)


gc.freeze()  # what the import built lives as long as the container
gc.enable()
