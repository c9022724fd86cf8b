"""The Bedrock runtime client, built one way for the embedder and the LLM.

boto3 is imported when the first client is built, not with this module: only the
steps that call a model need it, and a cold start should not pay ~100 ms of
botocore for a request that never does.
"""

from __future__ import annotations

from typing import Any

# A TCP/TLS connect that takes longer than this will not make a model's answer
# arrive inside a step's budget either.
CONNECT_TIMEOUT_SECONDS = 2.0


def bedrock_runtime_client(
    region: str,
    timeout_seconds: float,
    *,
    max_attempts: int,
    pool_size: int = 10,
    endpoint_url: str | None = None,
) -> Any:
    """A bedrock-runtime client with hard connect/read timeouts: a step must finish
    inside its budget, so SDK retries are few (Inngest retries the step). The
    timeouts bound each socket operation; what a whole call may take is the
    caller's step deadline (`jobmatch.deadline`). `endpoint_url` points the client
    elsewhere than AWS (a local stand-in)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
            read_timeout=timeout_seconds,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=pool_size,
        ),
    )
