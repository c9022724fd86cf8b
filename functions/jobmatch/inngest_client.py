"""How the app's Inngest client is built from settings (`Dependencies` builds it once)."""

from __future__ import annotations

import logging

import inngest
from pydantic import SecretStr

from jobmatch.observability import logger
from jobmatch.settings import Settings


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


def build_inngest_client(settings: Settings) -> inngest.Inngest:
    """Cloud mode in Lambda (signing key required, fallback honoured for rotation),
    dev mode locally."""
    cloud = settings.inngest_cloud_mode
    client = inngest.Inngest(
        app_id=settings.inngest_app_id,
        is_production=cloud,
        signing_key=_reveal(settings.inngest_signing_key) if cloud else None,
        event_key=_reveal(settings.inngest_event_key) or (None if cloud else "local"),
        api_base_url=settings.inngest_base_url,
        event_api_base_url=settings.inngest_base_url,
        logger=logging.getLogger("jobmatch.inngest"),
        middleware=[CorrelationMiddleware],
    )
    if cloud and settings.inngest_signing_key_fallback is not None:
        # SDK 0.5.19 reads the rotation key only from INNGEST_SIGNING_KEY_FALLBACK;
        # ours comes from Secrets Manager, so set it where the SDK keeps it rather
        # than exporting a secret into the process environment.
        client._signing_key_fallback = _reveal(settings.inngest_signing_key_fallback)
    return client
