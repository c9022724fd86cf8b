"""The Lambda entry point: `jobmatch.handler.handler`.

Importing this module (Lambda's init phase) loads every module the app runs on:
FastAPI, the routes, the workflows, the models. The app itself (the settings with
their secrets, the `Dependencies`, the Inngest client and serve endpoint, the
function registry) is built by the first request, once per container, and reused.
The serve endpoint holds the signing key, so it cannot exist before the secret is
read, and reading it at import would put a network call (and, with SnapStart, a
secret in the snapshot) into the init. Building takes milliseconds once the
modules are loaded; the secret lookup is what the first request adds, and it
would have paid it at import before.

This module is the edge: nothing below it reads settings for itself. Tests and
local tools that want other settings or fakes call `jobmatch.app.build_handler`
with their own `Dependencies`.

A deployment that lacks a setting only it can give still fails at init: the
import validates the settings from the environment (no network), and one error
names every missing setting; it is logged as a structured line too, so it can be
found by its `missing_settings` key and not only in the runtime's report.
"""

from __future__ import annotations

import gc

# The import allocates some 200,000 long-lived objects (models, routes, schemas):
# collecting garbage while they pile up cost ~30 % of the import time here.
# Collection resumes at the end, after the survivors are frozen out of its way.
gc.disable()

from jobmatch import snapstart  # noqa: E402 - registers the SnapStart runtime hooks
from jobmatch.app import LambdaHandler, build_handler  # noqa: E402
from jobmatch.dependencies import Dependencies  # noqa: E402
from jobmatch.observability import logger  # noqa: E402
from jobmatch.settings import (  # noqa: E402
    MissingSettingsError,
    Settings,
    app_secret_version,
    get_settings,
)

try:
    Settings()  # what only a deployment can give is checked here, at init
except MissingSettingsError as exc:
    logger.critical(str(exc), extra={"missing_settings": exc.missing})
    raise

_handle: LambdaHandler | None = None
_secret_version: str | None = None


def reset() -> None:
    """Forget the app: the next request builds it on fresh settings (after a
    SnapStart restore, whose secrets may have rotated since the snapshot)."""
    global _handle
    _handle = None


snapstart.on_restore(reset)


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    """Serve one API Gateway (HTTP API v2) event. Lambda looks this function up once,
    at init, so it stays the same object and delegates to the app of this container,
    built anew when the app secret changed (`app_secret_version`)."""
    global _handle, _secret_version
    if _handle is not None and app_secret_version(get_settings()) != _secret_version:
        logger.info("the app secret changed: building the app on the new one")
        get_settings.cache_clear()
        _handle = None
    if _handle is None:
        settings = get_settings()
        _handle = build_handler(Dependencies(settings))
        _secret_version = app_secret_version(settings)
    return _handle(event, context)


gc.freeze()  # what the import built lives as long as the container
gc.enable()
