"""Scenarios shared by the in-process driver and the real Inngest dev server.

By default (`make test`) a scenario's events go to the `InngestDriver`, which runs
them to idle in virtual time. With `INNGEST_TARGET=devserver` (the nightly
`inngest-dev-server` workflow) the same scenario code sends them to the dev
server's event API instead, the app is served on 127.0.0.1:8000 by this process
(so it shares the test database and the fake OCDS publisher), and each check
waits for the rows the runs leave behind. What is checked is what both targets
can observe: the database.

- `tender-sync` is a singleton (mode skip): two triggers at once give one sync;
- events are de-duplicated by id: ten sends of one event give one sync.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy import select

from inngest_harness.catalog import new_event
from inngest_harness.devserver import DevServerClient
from inngest_harness.driver import InngestDriver
from jobmatch.db.models import JobLog, SyncState
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch_devkit import serve
from jobmatch_devkit.ocds_publisher import OCDSPublisher
from tests.conftest import DEV_SERVER
from tests.tenders_support import fixture_publisher, tender_settings

pytestmark = [pytest.mark.e2e, pytest.mark.devserver]

SYNC = "tender/sync.requested"
# How long the dev server gets to start runs it should not start, before checking.
SETTLE_SECONDS = 10.0
START_CURSOR = datetime(2025, 3, 1, tzinfo=UTC)


class Target(Protocol):
    """Where a scenario's events go, and how it waits for their effects."""

    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Send events at the same moment."""

    def eventually(self, check: Callable[[], bool]) -> None:
        """Return once `check` holds and nothing else is left to run (or time is up)."""


class DriverTarget:
    """The in-process driver: runs everything to idle, so a check holds at once or never."""

    def __init__(self, driver: InngestDriver) -> None:
        self.driver = driver

    def deliver(self, events: list[dict[str, Any]]) -> None:
        self.driver.send_events(events)

    def eventually(self, check: Callable[[], bool]) -> None:
        """Nothing to wait for: `deliver` already ran everything to idle."""


class DevServerTarget:
    """The real dev server: poll for the effect, then give stray runs time to show."""

    def __init__(self, client: DevServerClient) -> None:
        self.client = client

    def deliver(self, events: list[dict[str, Any]]) -> None:
        self.client.send(events)

    def eventually(self, check: Callable[[], bool]) -> None:
        self.client.wait_for(check)
        time.sleep(SETTLE_SECONDS)


@pytest.fixture(scope="module")
def publisher() -> Iterator[OCDSPublisher]:
    """The recorded March 2025 feed, served for the whole module."""
    with fixture_publisher() as pub:
        yield pub


@pytest.fixture(scope="module")
def sync_deps(publisher: OCDSPublisher) -> Dependencies:
    """The app's dependencies with its settings pointed at the feed."""
    from jobmatch.settings import get_settings

    return Dependencies(tender_settings(get_settings(), publisher))


@pytest.fixture(scope="module")
def dev_server(database: str, sync_deps: Dependencies) -> Iterator[DevServerClient]:
    """The app served for the dev server (which polls its URL), synced once."""
    with serve.serving(sync_deps) as url:
        httpx.put(f"{url}/api/inngest", timeout=30).raise_for_status()  # registers the app
        yield DevServerClient()


@pytest.fixture
def target(
    request: pytest.FixtureRequest,
    db: None,
    sync_deps: Dependencies,
    driver_for: Callable[[Dependencies], InngestDriver],
) -> Target:
    """The sync cursor at 1 March, and where the scenario's events go."""
    with session_scope() as session:
        session.merge(SyncState(name="tender-sync", cursor=START_CURSOR))
    if DEV_SERVER:
        return DevServerTarget(request.getfixturevalue("dev_server"))
    return DriverTarget(driver_for(sync_deps))


def sync_logs() -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(JobLog.status).where(JobLog.job_type == "tender-sync"))
        return sorted(rows)


def one_finished_sync() -> bool:
    """Exactly one tender-sync job log, and it succeeded."""
    return sync_logs() == ["SUCCESS"]


def sync_event(**extra: Any) -> dict[str, Any]:
    return {**new_event(SYNC, {"maxEnrichment": 0, "triggeredBy": "test"}), **extra}


def test_two_sync_triggers_at_once_give_one_sync(target: Target) -> None:
    target.deliver([sync_event(), sync_event()])
    target.eventually(one_finished_sync)
    assert sync_logs() == ["SUCCESS"]


def test_ten_sends_of_one_event_give_one_sync(target: Target) -> None:
    event = sync_event(id="tender-sync-once")
    target.deliver([event])
    target.eventually(one_finished_sync)
    assert sync_logs() == ["SUCCESS"]
    # Nine more after it finished, so the singleton cannot be what stops them.
    target.deliver([dict(event) for _ in range(9)])
    target.eventually(one_finished_sync)
    assert sync_logs() == ["SUCCESS"]
