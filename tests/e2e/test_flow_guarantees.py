"""The app's flow-control settings, enforced: each test fails if its setting is
removed from the function (or mis-keyed), because the driver reads what the
function registers at sync and runs work concurrently in virtual time.

- `enrich-tender`: concurrency 5 and a 60/min throttle keep Bedrock calls bounded;
- `perform-ai-matching`: premium runs jump the queue (priority);
- fan-out events carry ids, so a re-sent fan-out starts nothing twice.

The `tender-sync` singleton and event-id de-duplication are in
`test_flow_scenarios.py`, shared with the real Inngest dev server.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from jobmatch.db.models import Tender
from jobmatch.db.session import session_scope
from jobmatch.tenders import store
from jobmatch.tenders.compile import compile_page
from jobmatch.tenders.releases import Release
from tests import matching_data as make

pytestmark = pytest.mark.e2e

TITLES = [
    "Supply of laptops and docking stations",
    "Road resurfacing works - Lot 2",
    "Cleaning services for municipal buildings",
    "IT support & helpdesk (3 years, renewable)",
    "Construction of a primary school extension",
]
ENRICH = "tender/enrich.requested"


def store_tenders(count: int) -> list[str]:
    """`count` tenders as a publisher would word them, stored without a category."""
    releases = [
        Release.model_validate(
            {
                "ocid": f"ocds-test-{i:03d}",
                "id": f"r-{i}",
                "date": "2025-03-03T09:00:00Z",
                "tender": {"title": f"{TITLES[i % len(TITLES)]} #{i}"},
            }
        )
        for i in range(count)
    ]
    with session_scope() as session:
        store.upsert_tenders(session, compile_page(releases), None)
    return [r.ocid for r in releases]


def categorised() -> int:
    with session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(Tender).where(Tender.detailed_category.is_not(None))
        )
        return int(count or 0)


def test_twenty_enrichments_never_run_more_than_five_at_a_time(driver: InngestDriver) -> None:
    ocids = store_tenders(20)
    runs = driver.send_events([new_event(ENRICH, {"ocid": o}) for o in ocids])
    assert Counter(r.status for r in runs) == {"completed": 20}
    assert categorised() == 20
    # The limit is what bounds them: five at once, never six.
    assert driver.max_concurrency("enrich-tender") == 5
    assert max(r.started_at or 0 for r in runs) > 0  # the rest queued behind the limit


def test_enrichment_starts_respect_sixty_a_minute(driver: InngestDriver) -> None:
    ocids = store_tenders(70)
    runs = driver.send_events([new_event(ENRICH, {"ocid": o}) for o in ocids])
    assert Counter(r.status for r in runs) == {"completed": 70}  # throttled, none dropped
    starts = sorted(r.started_at for r in runs if r.started_at is not None)
    # One a second after a burst of 5: in any 60-second window at most 60 + 5 + 1.
    busiest = max(sum(1 for t in starts if s <= t < s + 60) for s in starts)
    assert busiest <= 66
    assert starts[-1] >= 60  # the last ones waited for the next minute


def _users(premium: list[bool]) -> list[int]:
    with session_scope() as s:
        role = make.role(s, "backend engineer", "python developer")
        make.job(s, role, embed=False)
        return [
            make.user(s, f"user{i}@example.com", ["backend engineer"], premium=p).id
            for i, p in enumerate(premium)
        ]


def _perform(user_id: int, premium: bool) -> dict[str, Any]:
    data = {"userId": str(user_id), "premium": premium, "context": {"source": "test"}}
    return new_event("matching/perform", data)


def test_premium_matching_starts_before_queued_free_runs(driver: InngestDriver) -> None:
    *free, vip1, vip2 = _users([False, False, False, True, True])
    premium = [vip1, vip2]
    # One run at a time (as under an account's concurrency limit), so work queues.
    driver.account_concurrency = 1
    driver.enqueue_events([_perform(u, False) for u in free])
    driver.advance(1)  # the first free run has started; two are queued
    driver.enqueue_events([_perform(u, True) for u in premium])
    driver.run_until_idle()
    runs = sorted(driver.runs_of("perform-ai-matching"), key=lambda r: r.start_order or 0)
    assert [r.status for r in runs] == ["completed"] * 5
    order = [int(r.event["data"]["userId"]) for r in runs]
    assert order == [free[0], *premium, free[1], free[2]]


def test_ten_events_with_one_id_give_one_run(driver: InngestDriver) -> None:
    [user] = _users([False])
    same = [{**_perform(user, False), "id": "perform-once"} for _ in range(10)]
    runs = driver.send_events(same)
    assert [r.function_id for r in runs if r.event["name"] == "matching/perform"] == [
        "jobmatch-perform-ai-matching"
    ]
    assert len(driver.duplicates) == 9


def test_a_resent_fan_out_starts_no_run_twice(driver: InngestDriver) -> None:
    users = _users([False, True, False])
    runs = driver.send("matching/perform-batch", {"user_ids": users})
    batch = next(r for r in runs if r.function_id.endswith("perform-batch-matching"))
    assert batch.status == "completed", batch.error
    assert len(driver.runs_of("perform-ai-matching")) == 3
    # The fan-out step runs again (a retry after a gateway timeout would do this):
    # the same events are sent again, with the same ids.
    driver.replay_step(batch, "fan-out")
    driver.drain()
    assert len(driver.runs_of("perform-ai-matching")) == 3
    assert len(driver.duplicates) == 3
