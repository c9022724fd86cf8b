"""AI matching falls back to the rule-based engine on any Bedrock failure (botocore
Stubber on a bedrock-runtime client: moto has no Converse), and says which path
produced the result."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from jobmatch.ai.llm import BedrockLLM
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.matching import service
from jobmatch.matching import store as repo
from jobmatch.matching.scoring import MatchResult
from jobmatch.settings import Settings
from jobmatch.users.profile import match_user, preferences_profile
from jobmatch.users.store import preferences_of
from tests import matching_data as make

pytestmark = pytest.mark.integration


@pytest.fixture
def rule_results(db: None, settings: Settings) -> tuple[list[MatchResult], Any, Any]:
    with session_scope() as s:
        backend = make.role(s, "backend engineer")
        for title in ("Backend Engineer", "Python Backend Developer", "Django Engineer"):
            make.job(s, backend, title=title)
        user = make.user(s, "ai@example.com", ["backend engineer"])
        results = match_user(s, user.id, settings, make.EMBEDDER)
        prefs = preferences_of(s, user.id)
        assert prefs is not None
        profile = preferences_profile(s, user.id, prefs)
        jobs = repo.load_jobs(s, [r.job_id for r in results])
    assert len(results) == 3
    return results, profile, jobs


def _llm() -> tuple[BedrockLLM, Stubber]:
    llm = BedrockLLM("anthropic.claude-3-haiku-20240307-v1:0", "eu-west-1", 2.0)
    llm.client = boto3.client("bedrock-runtime", region_name="eu-west-1")
    return llm, Stubber(llm.client)


def _converse_answer(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": json.dumps(payload)}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 10, "totalTokens": 20},
        "metrics": {"latencyMs": 5},
    }


def test_throttled_bedrock_gives_the_rule_based_result(
    rule_results: tuple[list[MatchResult], Any, Any], settings: Settings
) -> None:
    results, profile, jobs = rule_results
    llm, stub = _llm()
    with stub:
        stub.add_client_error("converse", "ThrottlingException", http_status_code=429)
        ranked, method = service.ai_rerank(
            results, profile, jobs, llm=llm, top_n=settings.ai_rerank_top_n
        )
        stub.assert_no_pending_responses()
    assert method == "rules"
    assert ranked == results
    assert {r.method for r in ranked} == {"rules"}


def test_bedrock_answer_rescores_and_explains_the_top(
    rule_results: tuple[list[MatchResult], Any, Any], settings: Settings
) -> None:
    results, profile, jobs = rule_results
    last = results[-1]
    llm, stub = _llm()
    answer = {
        "ranking": [
            {"job_hash": last.job_hash, "score": 97, "reason": "Exactly the Django work asked for"},
            {"job_hash": "not-one-of-ours", "score": 100, "reason": "ignored"},
        ]
    }
    with stub:
        stub.add_response("converse", _converse_answer(answer))
        ranked, method = service.ai_rerank(
            results, profile, jobs, llm=llm, top_n=settings.ai_rerank_top_n
        )
    assert method == "ai"
    assert ranked[0].job_hash == last.job_hash
    assert ranked[0].score == 97
    assert ranked[0].method == "ai"
    assert ranked[0].reasons[0] == "Exactly the Django work asked for"
    assert {r.method for r in ranked[1:]} == {"rules"}
    assert len(ranked) == len(results)


def test_a_model_answer_with_unstorable_text_or_numbers_is_stored_clean(
    rule_results: tuple[list[MatchResult], Any, Any], settings: Settings
) -> None:
    """The model's JSON may carry a NUL, a lone surrogate (both valid JSON escapes that
    PostgreSQL or UTF-8 refuse) or NaN: the reason is cleaned, the number ignored,
    and the matches are saved instead of failing the step on every retry."""
    results, profile, jobs = rule_results
    first, second = results[0], results[1]
    llm, stub = _llm()
    answer = {
        "ranking": [
            {"job_hash": first.job_hash, "score": 91, "reason": "Fits\u0000 well \ud83d"},
            {"job_hash": second.job_hash, "score": float("nan"), "reason": "no number"},
        ]
    }
    with stub:
        stub.add_response("converse", _converse_answer(answer))
        ranked, method = service.ai_rerank(
            results, profile, jobs, llm=llm, top_n=settings.ai_rerank_top_n
        )
    assert method == "ai"
    by_hash = {r.job_hash: r for r in ranked}
    assert by_hash[first.job_hash].reasons[0] == "Fits well "
    assert by_hash[second.job_hash] == second
    with session_scope() as s:
        assert service.save_user_matches(s, "ai@example.com", ranked) == len(ranked)


def test_ai_off_means_rules(
    rule_results: tuple[list[MatchResult], Any, Any], settings: Settings
) -> None:
    results, profile, jobs = rule_results
    llm = Dependencies(settings).llm  # AI is off in the test settings: no LLM at all
    assert llm is None
    top_n = settings.ai_rerank_top_n
    assert service.ai_rerank(results, profile, jobs, llm=llm, top_n=top_n) == (results, "rules")
