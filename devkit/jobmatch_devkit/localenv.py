"""The environment of a local process that runs jobmatch as Lambda would, offline.

Tests, the demo and the benchmarks all set it before `jobmatch` is imported
(Powertools reads its part at import, and the settings are read once, on first
use): cloud-mode Inngest with a local signing key, the embedded PostgreSQL, AI
off, mail into the outbox, no X-Ray.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def use_local_environment(
    *,
    env: str,
    db_name: str,
    signing_key: str | None,
    event_key: str,
    api_key: str | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Set this process's environment; `signing_key=None` means Inngest dev mode."""
    os.environ.update(
        {
            "JOBMATCH_ENV": env,
            "INNGEST_DEV": "0" if signing_key else "1",
            "INNGEST_EVENT_KEY": event_key,
            "DATA_DIR": os.environ.get("DATA_DIR", str(ROOT / ".data")),
            "DB_NAME": db_name,
            "AI_ENABLED": "false",
            "MAIL_BACKEND": "outbox",
            "POWERTOOLS_TRACE_DISABLED": "1",
            # A local key for unsubscribe links (in Lambda it comes from the app secret).
            "UNSUBSCRIBE_SECRET": "local-unsubscribe-secret",
        }
    )
    if signing_key:
        os.environ["INNGEST_SIGNING_KEY"] = signing_key
    if api_key:
        os.environ["API_KEY_HASHES"] = hashlib.sha256(api_key.encode()).hexdigest() + ":platform"
    os.environ.update(extra or {})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)


BENCH_EVENT_KEY = "bench-event-key"
# Benchmarks print their own figures: the app's logs and metric lines would bury them.
QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}


def use_bench_environment(db_name: str, signing_key: str, api_key: str | None = None) -> None:
    """A benchmark's environment: the local one in cloud mode (signed requests, as
    Inngest sends them), its own database, and quiet logs."""
    use_local_environment(
        env="test",
        db_name=db_name,
        signing_key=signing_key,
        event_key=BENCH_EVENT_KEY,
        api_key=api_key,
        extra=QUIET,
    )
