"""The Bedrock runtime client, built one way for the embedder and the LLM.

boto3 is imported when the first client is built, not with this module: only the
steps that call a model need it, and a cold start should not pay ~100 ms of
botocore for a request that never does.
"""

from __future__ import annotations

from typing import Any


def bedrock_runtime_client(
    region: str, timeout_seconds: float, *, max_attempts: int, pool_size: int = 10
) -> Any:
    """A bedrock-runtime client with hard connect/read timeouts: a step must finish
    inside its budget, so SDK retries are few (Inngest retries the step)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "bedrock-runtime",
        region_name=region,
        config=Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=pool_size,
        ),
    )
