"""`Dependencies`: clients are built on first use, once per container (even when
two requests ask at once), and whatever a test passes replaces what settings
would build."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest

from jobmatch.ai.llm import BedrockLLM
from jobmatch.db.models.matching import EMBEDDING_DIM
from jobmatch.dependencies import Dependencies
from jobmatch.embeddings.providers import BedrockTitanEmbeddings, OfflineEmbeddings
from jobmatch.settings import Settings


@pytest.fixture
def boto_clients(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the boto3 clients created (the real ones still are); each takes 50 ms
    more, so two threads building at once would overlap."""
    made: Counter[str] = Counter()
    real: Callable[..., Any] = boto3.client

    def counting(service: str, *args: Any, **kwargs: Any) -> Any:
        made[service] += 1
        time.sleep(0.05)
        return real(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting)
    return made


def aws_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ai_enabled": True, "mail_backend": "ses"})


def test_nothing_is_built_until_used_then_each_client_once(
    settings: Settings, boto_clients: Counter[str]
) -> None:
    deps = Dependencies(aws_settings(settings))
    assert deps.mailer is deps.mailer  # the mailer needs SES only when it sends by SES
    assert boto_clients == Counter()

    assert isinstance(deps.llm, BedrockLLM)
    assert isinstance(deps.embedder, BedrockTitanEmbeddings)
    assert deps.embedder.dimension == EMBEDDING_DIM
    assert deps.ses is deps.ses
    assert deps.llm is deps.llm
    assert deps.embedder is deps.embedder
    assert boto_clients == Counter({"bedrock-runtime": 2, "sesv2": 1})


def test_concurrent_first_use_builds_one_client(
    settings: Settings, boto_clients: Counter[str]
) -> None:
    deps = Dependencies(aws_settings(settings))
    start = threading.Barrier(4)
    got: list[Any] = []

    def use() -> None:
        start.wait()
        got.append(deps.ses)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert boto_clients["sesv2"] == 1
    assert len({id(client) for client in got}) == 1


def test_ai_off_means_no_llm_and_the_offline_embedder(settings: Settings) -> None:
    deps = Dependencies(settings.model_copy(update={"ai_enabled": False}))
    assert deps.llm is None
    assert isinstance(deps.embedder, OfflineEmbeddings)
    assert deps.embedder.dimension == EMBEDDING_DIM


def test_what_a_test_passes_replaces_what_settings_build(settings: Settings) -> None:
    class FakeLLM:
        def complete_json(
            self, system: str, prompt: str, *, max_tokens: int = 800, deadline: Any = None
        ) -> Any:
            return {}

    llm, embedder = FakeLLM(), OfflineEmbeddings(EMBEDDING_DIM)
    with httpx.Client() as http:
        deps = Dependencies(aws_settings(settings), llm=llm, embedder=embedder, http=http)
        assert (deps.llm, deps.embedder, deps.http) == (llm, embedder, http)
