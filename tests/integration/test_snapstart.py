"""SnapStart hooks, called in-process the way the runtime calls them.

A restored container must not use the snapshot's database connection, nor the
secrets and keys read at snapshot time (they may have rotated since). The hooks
run against the real handler, the embedded PostgreSQL and moto's Secrets Manager
and SSM; the next request after `after_restore()` shows what it uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import create_engine, text

from inngest_harness.apigw import LambdaContext, http_event
from inngest_harness.driver import InngestDriver
from inngest_harness.records import HandlerResponse
from tests.lambda_support import DEPLOYMENT_ENV

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
OLD_SIGNING_KEY = "signkey-prod-" + "1" * 64
NEW_SIGNING_KEY = "signkey-prod-" + "2" * 64
OLD_API_KEY, NEW_API_KEY = "old-machine-key-0123456789", "new-machine-key-0123456789"


def _get(path: str, ctx: LambdaContext, **headers: str) -> HandlerResponse:
    from jobmatch.handler import handler

    return HandlerResponse.from_lambda(handler(http_event("GET", path, headers=headers), ctx))


def _pooled_backend_pid() -> int:
    """The backend of the connection the engine's pool holds (pool_size=1)."""
    from jobmatch.db.session import get_engine

    with get_engine().connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _connected_pids(database: str) -> set[int]:
    """Backends connected to the test database, seen from a separate connection."""
    engine = create_engine(database, poolclass=None)
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = set(pids)
    engine.dispose()
    return found


def test_the_handler_registers_both_hooks_with_the_runtime() -> None:
    """In a fresh interpreter: importing the handler (what Lambda's init does) is
    what registers them; the runtime ignores hooks of modules it never imported."""
    probe = (
        "import jobmatch.handler, snapshot_restore_py as s\n"
        "print([f.__qualname__ for f, *_ in s.get_before_snapshot()],"
        " [f.__qualname__ for f, *_ in s.get_after_restore()])"
    )
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", probe], env=os.environ, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["['before_snapshot']", "['after_restore']"]


def test_before_snapshot_leaves_no_open_connection(
    db: None, database: str, lambda_ctx: LambdaContext
) -> None:
    from jobmatch import snapstart

    assert _get("/api/health", lambda_ctx).status == 200
    pid = _pooled_backend_pid()
    assert pid in _connected_pids(database)

    snapstart.before_snapshot()

    assert pid not in _connected_pids(database)


def test_after_restore_the_next_request_opens_a_fresh_connection(
    db: None, database: str, lambda_ctx: LambdaContext
) -> None:
    from jobmatch import snapstart
    from jobmatch.db.session import get_engine

    assert _get("/api/health", lambda_ctx).status == 200
    engine, pool, pid = get_engine(), get_engine().pool, _pooled_backend_pid()

    snapstart.after_restore()
    assert _get("/api/health", lambda_ctx).status == 200

    assert get_engine() is not engine
    assert get_engine().pool is not pool
    fresh = _pooled_backend_pid()
    assert fresh != pid
    assert pid not in _connected_pids(database), "the snapshot's connection is closed"


def test_after_restore_random_draws_differ_between_containers() -> None:
    """Two containers restored from one snapshot start with the same random state."""
    from jobmatch import snapstart

    state = random.getstate()
    snapstart.after_restore()
    first = random.random()
    random.setstate(state)  # the second container, same snapshot
    snapstart.after_restore()
    assert random.random() != first


Rotate = Callable[[str, str], None]


@pytest.fixture
def restored_in_lambda(
    monkeypatch: pytest.MonkeyPatch, database: str, db: None
) -> Iterator[Rotate]:
    """A Lambda container whose secrets live in (moto's) Secrets Manager and SSM,
    restored once; yields a function that rotates the signing key and API key."""
    from aws_lambda_powertools.utilities import parameters

    from jobmatch import snapstart

    def secret(signing_key: str) -> str:
        return json.dumps({"inngest_signing_key": signing_key, "inngest_event_key": "evt"})

    def api_key_hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    parameters.clear_caches()
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name=REGION)
        ssm = boto3.client("ssm", region_name=REGION)
        sm.create_secret(Name="jobmatch/prod/app", SecretString=secret(OLD_SIGNING_KEY))
        ssm.put_parameter(
            Name="/jobmatch/prod/api-key-sha256", Value=api_key_hash(OLD_API_KEY), Type="String"
        )
        # What the template gives every deployment, on the test database and outbox.
        for name, value in DEPLOYMENT_ENV.items():
            if name not in ("DB_HOST", "DB_SECRET_ARN", "MAIL_BACKEND", "JOBMATCH_ENV"):
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("DATABASE_URL", database)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "jobmatch-prod-Api")
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv("APP_SECRET_ID", "jobmatch/prod/app")
        monkeypatch.setenv("API_KEY_HASHES_PARAM", "/jobmatch/prod/api-key-sha256")
        for name in (
            "INNGEST_SIGNING_KEY",
            "INNGEST_SIGNING_KEY_FALLBACK",
            "INNGEST_EVENT_KEY",
            "API_KEY_HASHES",
        ):
            monkeypatch.delenv(name, raising=False)
        snapstart.after_restore()

        def rotate(signing_key: str, api_key: str) -> None:
            sm.put_secret_value(SecretId="jobmatch/prod/app", SecretString=secret(signing_key))
            ssm.put_parameter(
                Name="/jobmatch/prod/api-key-sha256",
                Value=api_key_hash(api_key),
                Type="String",
                Overwrite=True,
            )

        yield rotate
        monkeypatch.undo()
        snapstart.after_restore()  # back to the test environment's settings and keys


def test_after_restore_secrets_and_keys_are_read_again(
    restored_in_lambda: Rotate, lambda_ctx: LambdaContext
) -> None:
    from jobmatch import snapstart
    from jobmatch.handler import handler
    from jobmatch.settings import get_settings

    inngest = InngestDriver(handler, signing_key=OLD_SIGNING_KEY)
    matches = "/api/users/nobody@example.com/matches"
    assert _get(matches, lambda_ctx, **{"X-API-Key": OLD_API_KEY}).status == 404  # accepted
    assert inngest.request("GET").json()["authentication_succeeded"] is True

    restored_in_lambda(NEW_SIGNING_KEY, NEW_API_KEY)
    # A running container keeps what it read: no secret lookup per request.
    assert _get(matches, lambda_ctx, **{"X-API-Key": NEW_API_KEY}).status == 401

    snapstart.after_restore()

    signing_key = get_settings().inngest_signing_key
    assert signing_key is not None
    assert signing_key.get_secret_value() == NEW_SIGNING_KEY
    assert _get(matches, lambda_ctx, **{"X-API-Key": NEW_API_KEY}).status == 404
    assert _get(matches, lambda_ctx, **{"X-API-Key": OLD_API_KEY}).status == 401
    new = InngestDriver(handler, signing_key=NEW_SIGNING_KEY).request("GET").json()
    assert new["authentication_succeeded"] is True
    assert inngest.request("GET").status == 401, "the snapshot's signing key is refused"


def test_a_rotated_app_secret_is_used_once_the_cache_age_has_passed(
    restored_in_lambda: Rotate, lambda_ctx: LambdaContext
) -> None:
    """No restore, no deploy: a warm container reads the secret again when
    Powertools' cache (5 minutes) expires, and builds its app on the new one."""
    from aws_lambda_powertools.utilities import parameters

    from jobmatch.handler import handler

    old = InngestDriver(handler, signing_key=OLD_SIGNING_KEY)
    assert old.request("GET").json()["authentication_succeeded"] is True
    restored_in_lambda(NEW_SIGNING_KEY, NEW_API_KEY)
    assert old.request("GET").json()["authentication_succeeded"] is True  # still cached

    parameters.clear_caches()  # the cache age has passed
    new = InngestDriver(handler, signing_key=NEW_SIGNING_KEY).request("GET").json()
    assert new["authentication_succeeded"] is True
    assert old.request("GET").status == 401
    matches = "/api/users/nobody@example.com/matches"
    assert _get(matches, lambda_ctx, **{"X-API-Key": NEW_API_KEY}).status == 404
