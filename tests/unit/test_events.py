"""The event models: one per event name, the wire shape producers send (aliases,
only what they set), and what consumers accept."""

from __future__ import annotations

from typing import Any

import inngest
import pytest

import jobmatch.events.engagement
import jobmatch.events.jobs
import jobmatch.events.matching
import jobmatch.events.tenders
from jobmatch.events import EventModel
from jobmatch.events.matching import (
    GenerateCandidateMatches,
    JobsImported,
    MatchingCompleted,
    MatchingContext,
    PerformMatching,
)
from jobmatch.events.tenders import TenderAlertsRequested, TenderSyncRequested


def _models() -> list[type[EventModel]]:
    modules = (
        jobmatch.events.matching,
        jobmatch.events.tenders,
        jobmatch.events.jobs,
        jobmatch.events.engagement,
    )
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, EventModel) and value is not EventModel
    ]


def test_every_event_has_its_own_name() -> None:
    names = [model.NAME for model in _models()]
    assert len(names) == 33  # cron/daily-digest: the specification's name, still accepted
    assert len(set(names)) == len(names)
    assert TenderSyncRequested.trigger().event == "tender/sync.requested"


def test_producers_send_wire_names_and_only_what_they_set() -> None:
    event = JobsImported(job_ids=[3, 1, 3], batch_id="b1", source="s").to_event(id="k")
    assert (event.name, event.id) == ("jobs/imported", "k")
    assert event.data == {"job_ids": [1, 3], "batch_id": "b1", "source": "s"}

    context = MatchingContext(source="signup/free", request_id="r1")
    sent = PerformMatching(user_id=7, premium=False, context=context).to_event().data
    assert sent == {
        "userId": "7",  # a user id travels as a string
        "premium": False,
        "context": {"source": "signup/free", "requestId": "r1"},
    }
    assert TenderSyncRequested(triggered_by="x", max_enrichment=None).to_event().data == {
        "triggeredBy": "x"
    }
    approval = GenerateCandidateMatches(candidate_id=1, tenant_id=2, reason="onboarding_approval")
    assert approval.to_event().data["trigger"] == "onboarding_approval"


def test_what_a_producer_sends_its_consumer_reads_back() -> None:
    context = MatchingContext(source="signup/free", request_id="r1", notify=True)
    completed = MatchingCompleted(user_id="7", matches_saved=3, method="ai", context=context)
    assert MatchingCompleted.parse(completed.to_event().data) == completed
    perform = PerformMatching(user_id=7, premium=True, context=context)
    assert PerformMatching.parse(perform.to_event().data) == perform
    assert TenderAlertsRequested.parse(TenderAlertsRequested(job_log_id=5).to_event().data) == (
        TenderAlertsRequested(job_log_id=5)
    )


@pytest.mark.parametrize(
    ("model", "data", "problem"),
    [
        (JobsImported, {"job_ids": [0]}, "positive"),
        (PerformMatching, {"context": {}}, "userId or userPrefs.email"),
        (GenerateCandidateMatches, {"candidate_id": 1, "tenant_id": 1, "trigger": "x"}, "trigger"),
    ],
)
def test_bad_data_fails_the_run_without_retries(
    model: type[EventModel], data: dict[str, object], problem: str
) -> None:
    with pytest.raises(inngest.NonRetriableError, match=problem):
        model.parse(data)


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (TenderSyncRequested, {"triggeredBy": "cron\x00"}),
        (PerformMatching, {"userPrefs": {"email": "a@b.co", "skills": ["py\x00"]}}),
        (PerformMatching, {"userId": "1", "jobs": [{"job_hash": "h", "score": float("nan")}]}),
        (MatchingCompleted, {"userId": "1", "method": "\ud800"}),
    ],
)
def test_event_data_postgres_or_json_cannot_hold_is_bad_data(
    model: type[EventModel], data: dict[str, Any]
) -> None:
    with pytest.raises(inngest.NonRetriableError, match=r"NUL|finite"):
        model.parse(data)
