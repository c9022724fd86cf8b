"""Shared test setup: the environment, one embedded PostgreSQL database, drivers.

The environment is set before any `jobmatch` module is imported (Powertools reads
its part when `jobmatch.observability` is imported; the app reads its settings
when the handler is first built), so settings, the Inngest client (cloud mode, a
test signing key) and the handler are built exactly as in Lambda, only pointed at
local things. Each test session gets its own database on the shared embedded
server, so parallel sessions do not collide.

A test that needs other settings or a fake client builds its own `Dependencies`
(`Dependencies(settings.model_copy(update=...), http=fake)`) and gets a driver
for a handler built on them from `driver_for`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

# The harness and the devkit never import jobmatch, so importing them before the
# environment is set is safe.
from inngest_harness.apigw import LambdaContext, lambda_context
from inngest_harness.devserver import DEV_SERVER_URL
from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.apiclient import ApiClient
from jobmatch_devkit.localenv import use_local_environment

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import Settings
    from tests.security_support import Tenants

TEST_SIGNING_KEY = "signkey-test-" + "a1b2c3d4" * 8
TEST_SIGNING_KEY_FALLBACK = "signkey-test-" + "f0e1d2c3" * 8
TEST_API_KEY = "test-api-key-0123456789"
TEST_DB_NAME = f"jobmatch_test_{os.getpid()}"
# `INNGEST_TARGET=devserver` (nightly CI): the shared scenarios go through the real
# Inngest dev server, so the app runs in Inngest dev mode and talks to it.
DEV_SERVER = os.environ.get("INNGEST_TARGET") == "devserver"

use_local_environment(
    env="test",
    db_name=TEST_DB_NAME,
    signing_key=None if DEV_SERVER else TEST_SIGNING_KEY,
    event_key="test-event-key",
    api_key=TEST_API_KEY,
    extra={
        "INNGEST_SIGNING_KEY_FALLBACK": TEST_SIGNING_KEY_FALLBACK,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "JobmatchTest",
    },
)

# Inngest's event and registration APIs, played on 127.0.0.1: events the app sends
# (`send_sync`, `step.send_event`) and sync registrations land here.
EVENT_API = EventAPI(
    event_key=os.environ["INNGEST_EVENT_KEY"],
    signing_keys=(TEST_SIGNING_KEY, TEST_SIGNING_KEY_FALLBACK),
).start()
os.environ["INNGEST_BASE_URL"] = DEV_SERVER_URL if DEV_SERVER else EVENT_API.url


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """A fresh database for this session, migrated to head, dropped at the end."""
    from sqlalchemy import create_engine, text

    from jobmatch.db import migrate
    from jobmatch.db.embedded import embedded_database_url
    from jobmatch.db.session import reset_engine

    url = embedded_database_url(os.environ["DATA_DIR"], TEST_DB_NAME)
    migrate.upgrade("heads")
    yield url
    reset_engine()
    admin = create_engine(
        url.replace(f"/{TEST_DB_NAME}?", "/postgres?"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(database: str) -> Iterator[None]:
    """An empty schema for one test: every table truncated afterwards."""
    yield
    from sqlalchemy import text

    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    if tables:
        with get_engine().begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def event_api() -> Iterator[EventAPI]:
    """The session's EventAPI, emptied before and after each test."""
    EVENT_API.reset()
    yield EVENT_API
    EVENT_API.reset()


@pytest.fixture
def lambda_ctx() -> LambdaContext:
    """A Lambda context object like the runtime passes the handler."""
    return lambda_context()


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings of this test process, as the Lambda handler reads them."""
    from jobmatch.settings import get_settings

    return get_settings()


@pytest.fixture
def deps(settings: Settings) -> Dependencies:
    """Fresh dependencies on the test settings (nothing shared with the handler's)."""
    from jobmatch.dependencies import Dependencies

    return Dependencies(settings)


@pytest.fixture
def driver(event_api: EventAPI, db: None) -> InngestDriver:
    """An InngestDriver playing Inngest Cloud against the real Lambda handler."""
    from jobmatch.handler import handler

    return InngestDriver(handler, signing_key=TEST_SIGNING_KEY, event_api=event_api)


@pytest.fixture
def driver_for(event_api: EventAPI, db: None) -> Callable[[Dependencies], InngestDriver]:
    """Drivers for Lambda handlers built on given dependencies (`build_handler`)."""
    from jobmatch.app import build_handler

    def make(deps: Dependencies) -> InngestDriver:
        return InngestDriver(build_handler(deps), signing_key=TEST_SIGNING_KEY, event_api=event_api)

    return make


@pytest.fixture
def api(driver: InngestDriver) -> ApiClient:
    """The REST API through the handler the driver calls (synced first), holding the
    platform key."""
    driver.sync()
    return ApiClient(driver.handler, api_key=TEST_API_KEY)


@pytest.fixture
def tenants(api: ApiClient) -> Tenants:
    """Two tenants with a pending candidate and a tenant key each."""
    from tests.security_support import make_tenants

    return make_tenants(api)
