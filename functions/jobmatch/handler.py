"""The Lambda entry point: `jobmatch.handler.handler`.

The settings (with their secrets), the `Dependencies`, the FastAPI app and the
function registry are built here, at import: once per container, in Lambda's
init phase. The clients inside `Dependencies` are created on first use and the
database engine on first query; all are then reused. This module is the edge:
nothing below it reads settings for itself. Tests and local tools that want other
settings or fakes call `jobmatch.app.build_handler` with their own `Dependencies`.
"""

from __future__ import annotations

from jobmatch.app import build_handler
from jobmatch.dependencies import Dependencies
from jobmatch.settings import get_settings

handler = build_handler(Dependencies(get_settings()))
