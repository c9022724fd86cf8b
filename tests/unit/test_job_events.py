"""The job pipeline's events: the wire shape the alerting side reads, and bad data
refused without retries."""

from __future__ import annotations

import inngest
import pytest

from jobmatch.events import EventModel
from jobmatch.events.engagement import JobsNewBatch
from jobmatch.events.jobs import (
    CleanupRequested,
    CompanyDiscoveryRequested,
    ExtractJobSkills,
    ExtractSkillsChunk,
    IngestCompany,
)


def test_new_batch_as_the_pipeline_sends_it_is_the_alerting_side_s_shape() -> None:
    event = JobsNewBatch(job_ids=[1, 2, 3], source="ashby").to_event(id="x")
    assert (event.name, event.data) == ("jobs/new-batch", {"jobIds": [1, 2, 3], "source": "ashby"})


def test_consumers_read_what_producers_send() -> None:
    ingest = IngestCompany(company_id=7, provider="lever")
    assert ingest.to_event().data == {"companyId": 7, "provider": "lever"}
    assert IngestCompany.parse(ingest.to_event().data) == ingest
    # A sender may add the job's text; the function reads the stored job.
    assert ExtractJobSkills.parse({"jobId": 9, "title": "x", "description": "y"}).job_id == 9
    assert CleanupRequested.parse({}).after_match_id == 0
    assert CompanyDiscoveryRequested.parse({}).crawl_id is None


@pytest.mark.parametrize(
    ("model", "data", "problem"),
    [
        (IngestCompany, {"companyId": 1, "provider": "workday"}, "provider"),
        (IngestCompany, {"companyId": "one", "provider": "lever"}, "companyId"),
        (ExtractSkillsChunk, {"jobIds": list(range(1, 502))}, "jobIds"),
        (CompanyDiscoveryRequested, {"crawlId": "CC-MAIN-latest"}, "crawlId"),
    ],
)
def test_bad_data_fails_the_run_without_retries(
    model: type[EventModel], data: dict[str, object], problem: str
) -> None:
    with pytest.raises(inngest.NonRetriableError, match=problem):
        model.parse(data)
