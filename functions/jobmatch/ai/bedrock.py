"""The Bedrock runtime client, built one way for the embedder and the LLM."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def bedrock_runtime_client(
    region: str, timeout_seconds: float, *, max_attempts: int, pool_size: int = 10
) -> Any:
    """A bedrock-runtime client with hard connect/read timeouts: a step must finish
    inside its budget, so SDK retries are few (Inngest retries the step)."""
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
