"""The LLM behind "AI matching" and tender category refinement.

One call shape for every use: a system prompt and a user prompt in, a JSON object
out, through the Bedrock Converse API. Any failure (throttle, timeout, model
error, unparsable answer) raises `LLMUnavailableError`, and callers fall back to their
rule-based path. With AI off there is no LLM at all (`build_llm` gives None), and
callers take the rule-based path directly.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from jobmatch.ai.bedrock import bedrock_runtime_client
from jobmatch.settings import Settings


class LLMUnavailableError(Exception):
    """The LLM could not give a usable answer; use the rule-based path."""


class LLM(Protocol):
    """Anything that turns two prompts into a JSON object."""

    def complete_json(self, system: str, prompt: str, *, max_tokens: int = 800) -> dict[str, Any]:
        """Answer `prompt` with one JSON object, or raise LLMUnavailableError."""
        ...


class BedrockLLM:
    """Bedrock Converse with a hard timeout and no SDK retries: a step must finish
    inside its budget, and Inngest retries the step, not boto3."""

    def __init__(self, model_id: str, region: str, timeout_seconds: float) -> None:
        self.model_id = model_id
        self.client = bedrock_runtime_client(region, timeout_seconds, max_attempts=1)

    def complete_json(self, system: str, prompt: str, *, max_tokens: int = 800) -> dict[str, Any]:
        """Converse once; the answer must be (or contain) one JSON object."""
        try:
            response = self.client.converse(
                modelId=self.model_id,
                system=[{"text": system}],
                messages=[{"role": "user", "content": [{"text": prompt}]}],
                inferenceConfig={"maxTokens": max_tokens, "temperature": 0},
            )
            text = "".join(
                block.get("text", "") for block in response["output"]["message"]["content"]
            )
        except Exception as exc:
            raise LLMUnavailableError(f"bedrock converse failed: {type(exc).__name__}") from exc
        return parse_json_object(text)


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer (models like to add prose)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise LLMUnavailableError("the model answered without a JSON object")
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise LLMUnavailableError("the model answered with malformed JSON") from exc
    if not isinstance(value, dict):
        raise LLMUnavailableError("the model answered with JSON that is not an object")
    return value


def build_llm(settings: Settings) -> LLM | None:
    """The LLM for these settings, or None when AI is off (`Dependencies` builds it
    once per container: the boto3 client is slow to create)."""
    if not settings.ai_enabled:
        return None
    return BedrockLLM(
        settings.bedrock_llm_model_id, settings.bedrock_region_name, settings.ai_timeout_seconds
    )
