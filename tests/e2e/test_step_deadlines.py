"""No step outruns its budget: a slow Bedrock cannot hold a step past its deadline.

Bedrock is a stand-in on 127.0.0.1 (`tests.bedrock_standin`) reached by the real
boto3 client through `endpoint_url`; it answers after 30 s. The functions run
through the Lambda handler and the driver, whose gateway gives up after 6 s (a
504, and Inngest retries the step), so a step that waited for the model would be
seen timing out. The step budget is 2 s and the client's own read timeout 10 s:
only the step's deadline can end the wait in time. No assertion is on a measured
duration: the gateway's verdict and the attempt counts say whether the budget held.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.ai.bedrock import bedrock_runtime_client
from jobmatch.ai.embedder import EmbeddingUnavailableError
from jobmatch.ai.llm import BedrockLLM
from jobmatch.app import build_handler
from jobmatch.db.models import Job
from jobmatch.db.session import session_scope
from jobmatch.deadline import Deadline
from jobmatch.dependencies import Dependencies
from jobmatch.embeddings.providers import BedrockTitanEmbeddings
from jobmatch.settings import Settings
from tests import matching_data as make
from tests.bedrock_standin import BedrockStandIn
from tests.conftest import TEST_SIGNING_KEY
from tests.e2e.test_flow_guarantees import store_tenders

pytestmark = pytest.mark.e2e

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
SLOW = 30.0  # the stand-in's answer time
GATEWAY_SECONDS = 6.0  # the driver's gateway timeout in these tests
CLIENT_TIMEOUT = 10.0  # the Bedrock client's read timeout: past the gateway's


@pytest.fixture
def slow_bedrock() -> Iterator[BedrockStandIn]:
    with BedrockStandIn(delay=SLOW, answer={"category": "construction"}) as standin:
        yield standin


def driver_with(
    settings: Settings, event_api: EventAPI, standin: BedrockStandIn, step_budget: float
) -> InngestDriver:
    """The handler on settings with this step budget and an LLM on the stand-in."""
    llm = BedrockLLM(MODEL, "eu-west-1", CLIENT_TIMEOUT, endpoint_url=standin.url)
    deps = Dependencies(settings.model_copy(update={"step_budget_seconds": step_budget}), llm=llm)
    return InngestDriver(
        build_handler(deps),
        signing_key=TEST_SIGNING_KEY,
        event_api=event_api,
        gateway_timeout_seconds=GATEWAY_SECONDS,
    )


def perform_for_new_user() -> dict[str, Any]:
    """A user whose role fits two stored jobs: the `matching/perform` event's data."""
    with session_scope() as s:
        backend = make.role(s, "backend engineer")
        make.job(s, backend, title="Backend Engineer")
        make.job(s, backend, title="Senior Python Backend Developer (m/f/d) - Remote")
        user = make.user(s, "slow-model@example.com", ["backend engineer"])
    return {"userId": str(user.id), "context": {"source": "test"}}


def assert_within_the_gateway(run: Any) -> None:
    assert not [e.step_id for e in run.exchanges if e.gateway_timeout]
    assert all(s.attempts == 1 for s in run.steps), [(s.id, s.attempts) for s in run.steps]


def test_a_slow_model_gets_what_is_left_of_the_step_and_the_rules_result_is_kept(
    settings: Settings, event_api: EventAPI, db: None, slow_bedrock: BedrockStandIn
) -> None:
    driver = driver_with(settings, event_api, slow_bedrock, step_budget=2.0)
    [run, *_] = driver.send("matching/perform", perform_for_new_user())
    assert run.status == "completed", run.error
    assert slow_bedrock.requests == [("converse", MODEL)]  # the model was asked ...
    assert run.output["method"] == "rules"  # ... and the step did not wait for it
    assert run.output["matches_saved"] == 2
    assert_within_the_gateway(run)


def test_without_time_left_for_the_model_it_is_not_asked(
    settings: Settings, event_api: EventAPI, db: None, slow_bedrock: BedrockStandIn
) -> None:
    # 0.6 s: scoring may take 0.3 s, and what is left less the result's margin is
    # under the least time a model call is given.
    driver = driver_with(settings, event_api, slow_bedrock, step_budget=0.6)
    [run, *_] = driver.send("matching/perform", perform_for_new_user())
    assert run.status == "completed", run.error
    assert slow_bedrock.requests == []
    assert run.output["method"] == "rules"


def test_a_model_that_answers_in_time_re_ranks(
    settings: Settings, event_api: EventAPI, db: None
) -> None:
    """The same stand-in, answering at once: the path to it works, so the two tests
    above show the deadline, not a broken protocol."""
    data = perform_for_new_user()
    with session_scope() as s:
        hashes = sorted(h for (h,) in s.query(Job.job_hash))
    answer = {"ranking": [{"job_hash": hashes[0], "score": 99, "reason": "A close fit"}]}
    with BedrockStandIn(delay=0.0, answer=answer) as fast:
        driver = driver_with(settings, event_api, fast, step_budget=5.0)
        [run, *_] = driver.send("matching/perform", data)
    assert run.status == "completed", run.error
    assert run.output["method"] == "ai"
    assert fast.requests == [("converse", MODEL)]


def test_a_slow_model_cannot_hold_a_tender_enrichment_past_its_budget(
    settings: Settings, event_api: EventAPI, db: None, slow_bedrock: BedrockStandIn
) -> None:
    [ocid] = store_tenders(1)  # "Supply of laptops and docking stations #0"
    driver = driver_with(settings, event_api, slow_bedrock, step_budget=2.0)
    [run] = driver.send("tender/enrich.requested", {"ocid": ocid})
    assert run.status == "completed", run.error
    assert slow_bedrock.requests == [("converse", MODEL)]
    assert run.output["outcome"].startswith("rules:")  # not the model's "construction"
    assert_within_the_gateway(run)


def test_an_embedding_batch_ends_at_the_deadline_it_is_given(
    slow_bedrock: BedrockStandIn,
) -> None:
    client = bedrock_runtime_client(
        "eu-west-1", CLIENT_TIMEOUT, max_attempts=1, endpoint_url=slow_bedrock.url
    )
    titan = BedrockTitanEmbeddings(
        "amazon.titan-embed-text-v2:0", "eu-west-1", 256, CLIENT_TIMEOUT, 2, client=client
    )
    started = time.monotonic()
    with pytest.raises(EmbeddingUnavailableError, match="deadline"):
        titan.embed(["one", "two", "three"], deadline=Deadline.after(1.0))
    # Generous: without the deadline it waits for the client's read timeout at least.
    assert time.monotonic() - started < CLIENT_TIMEOUT
    assert ("invoke", "amazon.titan-embed-text-v2:0") in slow_bedrock.requests
    assert len(slow_bedrock.requests) <= 2  # the third call was never started
