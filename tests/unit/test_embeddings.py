"""Embedding providers: the offline one is deterministic and meaningful; Titan v2 is
called as the model expects and fails loudly (stubbed bedrock-runtime)."""

from __future__ import annotations

import io
import json
import math

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from jobmatch.ai.embedder import EmbeddingUnavailableError
from jobmatch.embeddings.providers import BedrockTitanEmbeddings, OfflineEmbeddings, cosine


def test_offline_vectors_are_unit_length_deterministic_and_sized() -> None:
    provider = OfflineEmbeddings(256)
    first, again = (
        provider.embed(["Senior Python developer"]),
        OfflineEmbeddings(256).embed(["Senior Python developer"]),
    )
    assert first == again
    assert len(first[0]) == 256
    assert math.isclose(math.sqrt(sum(x * x for x in first[0])), 1.0)
    assert provider.embed([""])[0] != [0.0] * 256


def test_offline_similar_texts_are_closer_than_unrelated_ones() -> None:
    a, b, c = OfflineEmbeddings(256).embed(
        [
            "Backend engineer: Python, Django, PostgreSQL, REST APIs",
            "Python backend developer with Django and PostgreSQL",
            "Registered nurse for night shifts in intensive care",
        ]
    )
    assert cosine(a, b) > 0.4
    assert cosine(a, b) > cosine(a, c) + 0.3


def _titan_response(vector: list[float]) -> dict[str, object]:
    data = json.dumps({"embedding": vector, "inputTextTokenCount": 3}).encode()
    return {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}


def _client() -> object:
    return boto3.client("bedrock-runtime", region_name="eu-west-1")


def test_titan_v2_is_asked_for_the_configured_dimension_normalised() -> None:
    client = _client()
    provider = BedrockTitanEmbeddings(
        "amazon.titan-embed-text-v2:0", "eu-west-1", 256, 2.0, concurrency=1, client=client
    )
    with Stubber(client) as stub:
        for value in (0.1, 0.2):
            stub.add_response(
                "invoke_model",
                _titan_response([value] * 256),
                {
                    "modelId": "amazon.titan-embed-text-v2:0",
                    "body": json.dumps(
                        {"inputText": f"text {value}", "dimensions": 256, "normalize": True}
                    ),
                    "contentType": "application/json",
                    "accept": "application/json",
                },
            )
        vectors = provider.embed(["text 0.1", "text 0.2"])
        stub.assert_no_pending_responses()
    assert [v[0] for v in vectors] == [0.1, 0.2]


def test_titan_throttling_raises_embedding_unavailable() -> None:
    client = _client()
    provider = BedrockTitanEmbeddings(
        "amazon.titan-embed-text-v2:0", "eu-west-1", 256, 2.0, concurrency=2, client=client
    )
    with Stubber(client) as stub:
        stub.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
        stub.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
        with pytest.raises(EmbeddingUnavailableError, match="ThrottlingException"):
            provider.embed(["one", "two"])


def test_titan_rejects_a_dimension_the_model_does_not_offer() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        BedrockTitanEmbeddings("m", "eu-west-1", 300, 1.0, client=_client())
