"""The one Inngest client of the app, built from settings when first imported."""

from __future__ import annotations

import logging
from typing import Any

import inngest
from pydantic import SecretStr

from jobmatch.observability import logger
from jobmatch.settings import Settings, get_settings


class CorrelationMiddleware(inngest.MiddlewareSync):
    """Tag every log line of a run with its Inngest run id and function id."""

    def transform_input(
        self,
        ctx: inngest.Context | inngest.ContextSync,
        function: inngest.Function,  # type: ignore[type-arg]
        steps: inngest.StepMemos,
    ) -> None:
        """Set the correlation id before the function (or a step) runs."""
        logger.set_correlation_id(ctx.run_id)
        logger.append_keys(function_id=function.id, attempt=ctx.attempt)


def _reveal(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _options(settings: Settings) -> dict[str, Any]:
    """Cloud mode in Lambda (signing key required), dev mode locally."""
    cloud = settings.inngest_cloud_mode
    return {
        "app_id": settings.inngest_app_id,
        "is_production": cloud,
        "signing_key": _reveal(settings.inngest_signing_key) if cloud else None,
        "event_key": _reveal(settings.inngest_event_key) or (None if cloud else "local"),
        "api_base_url": settings.inngest_base_url,
        "event_api_base_url": settings.inngest_base_url,
        "logger": logging.getLogger("jobmatch.inngest"),
        "middleware": [CorrelationMiddleware],
    }


def _set_fallback_key(client: inngest.Inngest, settings: Settings) -> None:
    """Honour the rotation key. SDK 0.5.19 reads it only from INNGEST_SIGNING_KEY_FALLBACK;
    ours comes from Secrets Manager, so set it where the SDK keeps it rather than
    exporting a secret into the process environment."""
    if settings.inngest_cloud_mode and settings.inngest_signing_key_fallback is not None:
        client._signing_key_fallback = _reveal(settings.inngest_signing_key_fallback)


def build_client() -> inngest.Inngest:
    """The client for the current settings."""
    settings = get_settings()
    client = inngest.Inngest(**_options(settings))
    _set_fallback_key(client, settings)
    return client


def refresh_client(client: inngest.Inngest) -> None:
    """Re-initialise `client` from the current settings, e.g. with the keys re-read
    after a SnapStart restore. In place, because every workflow module and route
    holds this one object."""
    settings = get_settings()
    inngest.Inngest.__init__(client, **_options(settings))
    _set_fallback_key(client, settings)


inngest_client = build_client()
