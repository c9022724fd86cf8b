"""The LLM behind "AI matching" and tender category refinement.

One call shape for every use: a system prompt and a user prompt in, a JSON object
out, through the Bedrock Converse API. Any failure (throttle, timeout, model
error, unparsable answer) raises `LLMUnavailableError`, and callers fall back to their
rule-based path. With AI off there is no LLM at all (`build_llm` gives None), and
callers take the rule-based path directly.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CallTimeoutError
from typing import Any, Protocol

from jobmatch.ai.bedrock import bedrock_runtime_client
from jobmatch.deadline import Deadline
from jobmatch.settings import Settings

# Less time than this left in the step: no answer could arrive, do not ask.
MIN_CALL_SECONDS = 0.5
# Model calls one container may have in flight (a call given up on still runs on
# until its read timeout, so this also bounds those).
CALLS_AT_ONCE = 4


class LLMUnavailableError(Exception):
    """The LLM could not give a usable answer; use the rule-based path."""


class LLM(Protocol):
    """Anything that turns two prompts into a JSON object."""

    def complete_json(
        self,
        system: str,
        prompt: str,
        *,
        max_tokens: int = 800,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        """Answer `prompt` with one JSON object by `deadline`, or raise
        LLMUnavailableError."""
        ...


class BedrockLLM:
    """Bedrock Converse, no SDK retries (Inngest retries the step, not boto3), and
    never past the caller's deadline.

    botocore's timeouts bound each socket operation (connect, each read), not a
    call: DNS, connect, TLS and a slow answer can each stay inside their timeout
    and together outrun the step, and a client's timeouts are fixed when it is
    built. So the call runs on a worker thread and the step waits for it at most
    until its deadline, then takes the rule-based path. The call given up on runs
    on in the background until the client's own read timeout ends it; the
    alternative, one client per remaining-time bucket with a matching read
    timeout, leaks no thread but still does not bound the sum of the phases."""

    def __init__(
        self,
        model_id: str,
        region: str,
        timeout_seconds: float,
        *,
        endpoint_url: str | None = None,
    ) -> None:
        self.model_id = model_id
        self.timeout_seconds = timeout_seconds
        self.client = bedrock_runtime_client(
            region, timeout_seconds, max_attempts=1, endpoint_url=endpoint_url
        )
        self._calls = ThreadPoolExecutor(CALLS_AT_ONCE, thread_name_prefix="bedrock-llm")

    def _converse(self, system: str, prompt: str, max_tokens: int) -> str:
        response = self.client.converse(
            modelId=self.model_id,
            system=[{"text": system}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": max_tokens, "temperature": 0},
        )
        return "".join(block.get("text", "") for block in response["output"]["message"]["content"])

    def complete_json(
        self,
        system: str,
        prompt: str,
        *,
        max_tokens: int = 800,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        """Converse once, by `deadline` (and never longer than the configured
        timeout); the answer must be (or contain) one JSON object."""
        limit = (deadline or Deadline.after(self.timeout_seconds)).part(self.timeout_seconds)
        if limit.remaining() < MIN_CALL_SECONDS:
            raise LLMUnavailableError("no time left in the step to ask the model")
        call = self._calls.submit(self._converse, system, prompt, max_tokens)
        try:
            text = call.result(timeout=limit.remaining())
        except CallTimeoutError as exc:
            call.cancel()
            raise LLMUnavailableError("the model did not answer within the step's time") from exc
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
