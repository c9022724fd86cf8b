"""The Lambda entry point: `jobmatch.handler.handler`.

The settings (with their secrets), the `Dependencies`, the FastAPI app and the
function registry are built here, at import: once per container, in Lambda's
init phase. The clients inside `Dependencies` are created on first use and the
database engine on first query; all are then reused. This module is the edge:
nothing below it reads settings for itself. Tests and local tools that want other
settings or fakes call `jobmatch.app.build_handler` with their own `Dependencies`.

A deployment that lacks a setting only it can give fails here, at init, with one
error naming every missing setting; it is logged as a structured line too, so it
can be found by its `missing_settings` key and not only in the runtime's report.
"""

from __future__ import annotations

from jobmatch.app import build_handler
from jobmatch.dependencies import Dependencies
from jobmatch.observability import logger
from jobmatch.settings import MissingSettingsError, get_settings

try:
    _settings = get_settings()
except MissingSettingsError as exc:
    logger.critical(str(exc), extra={"missing_settings": exc.missing})
    raise

handler = build_handler(Dependencies(_settings))
