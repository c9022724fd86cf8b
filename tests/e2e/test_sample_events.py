"""The sample events under tests/events/ (also for `sam local invoke -e`) work on the real handler.

They are loaded as files and passed to `jobmatch.handler.handler`, the object Lambda
runs, with a Lambda context; their shape is checked against what the devkit's
`http_event` builds, so the files and the generator cannot drift apart.

`sam local` runs them with infra/sam-local/env.json. SAM builds the function's
environment from the template, resolving what it can, and lets the file override
only variables the template declares; `sam_environment` does the same here, so the
env file and every sample are exercised by `make test`: the whole sequence runs in a
process started with exactly that environment (pointed at the test database and the
test event API instead of the Docker host), as `make sam-local` runs it in Docker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]
from moto import mock_aws

from inngest_harness.apigw import LambdaContext, http_event
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import HandlerResponse
from jobmatch.security.api_keys import parse_entries
from jobmatch_devkit import samlocal
from tests.conftest import TEST_SIGNING_KEY

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parent.parent / "events"
ROOT = EVENTS.parents[1]
# What the Lambda runtime and `sam local` set besides the function's variables.
SAM_RUNTIME_ENV = {
    "AWS_SAM_LOCAL": "true",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "defaultkey",
    "AWS_SECRET_ACCESS_KEY": "defaultsecret",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
}


def _load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _invoke(name: str, ctx: LambdaContext) -> HandlerResponse:
    from jobmatch.handler import handler

    return HandlerResponse.from_lambda(handler(_load(name), ctx))


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_sample_event_has_the_http_api_v2_shape(name: str) -> None:
    event = _load(name)
    reference = http_event(event["requestContext"]["http"]["method"], event["rawPath"])
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["stage"] == "$default"
    assert set(reference) - {"body", "queryStringParameters"} <= set(event)
    assert set(reference["requestContext"]) == set(event["requestContext"])
    assert set(reference["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["requestContext"]["http"]["path"] == event["rawPath"]
    assert all(key == key.lower() for key in event["headers"])


def test_health_event_answers_ok(db: None, lambda_ctx: LambdaContext) -> None:
    response = _invoke("health-get.json", lambda_ctx)
    assert response.status == 200
    assert response.json()["database"] == "ok"


def test_inngest_get_event_answers_without_key_material(lambda_ctx: LambdaContext) -> None:
    response = _invoke("inngest-get.json", lambda_ctx)
    body = response.body.decode()
    assert response.status in (200, 401)
    assert "signing_key_hash" not in body
    assert "event_key_hash" not in body


def test_unsigned_inngest_post_event_is_rejected(lambda_ctx: LambdaContext) -> None:
    response = _invoke("inngest-post-unsigned.json", lambda_ctx)
    assert response.status == 401


# ------------------------------------------------------------------ sam local
@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def env_file(function: str) -> dict[str, str]:
    values: dict[str, str] = json.loads(samlocal.ENV_FILE.read_text())[function]
    return values


def template_environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    """The function's variables as the template writes them (Globals, then its own)."""
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][function]["Properties"]
    env.update(props.get("Environment", {}).get("Variables", {}))
    return env


def sam_value(template: dict[str, Any], value: Any) -> str | None:
    """A variable's value as `sam local` resolves it without AWS: text as written, a
    parameter's default, a resource's logical id (APP_SECRET_ID becomes "AppSecret");
    None where it cannot know (a parameter without default, an attribute)."""
    if isinstance(value, str):
        return value
    ref = value.get("Ref") if isinstance(value, dict) else None
    if ref in template["Parameters"]:
        default = template["Parameters"][ref].get("Default")
        return None if default is None else str(default)
    return ref if ref in template["Resources"] else None


def sam_environment(
    template: dict[str, Any], function: str, overrides: dict[str, str] | None
) -> dict[str, str]:
    """The environment `sam local invoke <function> --env-vars <file>` gives the function."""
    env = {
        k: sam_value(template, v) or "" for k, v in template_environment(template, function).items()
    }
    env.update({k: v for k, v in (overrides or {}).items() if k in env})
    return {**env, **SAM_RUNTIME_ENV, "AWS_LAMBDA_FUNCTION_NAME": function}


@pytest.mark.parametrize("function", ["Api", "Migrate"])
def test_env_file_sets_only_what_the_template_declares(
    template: dict[str, Any], function: str
) -> None:
    # SAM silently drops a variable the template does not declare.
    declared = template_environment(template, function)
    assert set(env_file(function)) <= set(declared)
    # Every value SAM cannot resolve, or resolves to an AWS resource's logical id, is
    # replaced by the file: left alone it would send the function to AWS at start.
    unresolved = {
        k
        for k, v in declared.items()
        if sam_value(template, v) is None or sam_value(template, v) in template["Resources"]
    }
    assert unresolved <= set(env_file(function))


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean slate for the variables Settings reads (restored afterwards)."""
    from jobmatch.settings import Settings

    for name, field in Settings.model_fields.items():
        monkeypatch.delenv(str(field.validation_alias or name).upper(), raising=False)
    monkeypatch.chdir(ROOT / "infra")  # no developer .env


def lambda_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings as a Lambda container with `env` builds them at start (moto for AWS)."""
    from jobmatch.settings import get_settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        return get_settings.__wrapped__()  # uncached: the test process keeps its own


def test_env_file_starts_in_lambda_mode(
    template: dict[str, Any], lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = lambda_settings(sam_environment(template, "Api", env_file("Api")), monkeypatch)
    assert settings.in_lambda
    assert not settings.inngest_cloud_mode  # dev-mode Inngest, no signing key needed
    assert settings.database_url is not None
    assert "@host.docker.internal:5432/" in settings.database_url.get_secret_value()
    assert (settings.app_secret_id, settings.api_key_hashes_param, settings.db_host) == (
        None,
        None,
        None,
    )
    assert settings.mail_backend == "outbox"
    assert parse_entries(settings.api_key_hashes)


def test_what_the_template_declares_empty_for_sam_local_is_unset_in_aws(
    template: dict[str, Any], lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = template_environment(template, "Api")
    empty = {k for k, v in env.items() if v == ""}
    assert {"DATABASE_URL", "API_KEY_HASHES", "INNGEST_BASE_URL"} <= empty
    from jobmatch.settings import Settings

    for key in empty:
        monkeypatch.setenv(key, "")
    settings = Settings()
    assert (settings.database_url, settings.inngest_base_url) == (None, None)
    assert parse_entries(settings.api_key_hashes) == {}


def test_without_the_env_file_sam_local_would_fail_at_start(
    template: dict[str, Any], lambda_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What SAM makes of the template alone: APP_SECRET_ID=AppSecret (no such secret),
    # no database, and no value for any per-deployment setting. The container stops
    # at start, before any AWS call, naming what is missing.
    from jobmatch.settings import MissingSettingsError

    env = sam_environment(template, "Api", None)
    assert env["APP_SECRET_ID"] == "AppSecret"
    with pytest.raises(MissingSettingsError) as missing:
        lambda_settings(env, monkeypatch)
    # (DB_SECRET_ARN is there: SAM gives a !Ref its logical id, AppDbSecret.)
    assert {"DB_HOST", "OCDS_BASE_URL", "MAIL_FROM"} <= set(missing.value.missing)


def test_every_route_has_a_sample_event_and_every_sample_an_expected_status(
    deps: Dependencies,
) -> None:
    from jobmatch.app import create_app

    files = {p.name for p in EVENTS.glob("*.json")}
    assert [s.name for s in samlocal.SAMPLES if s.name in files] == [
        s.name for s in samlocal.SAMPLES
    ]
    assert {s.name for s in samlocal.SAMPLES} == files
    requests = [
        (e["requestContext"]["http"]["method"].lower(), e["rawPath"])
        for e in map(_load, sorted(files))
    ]
    for path, operations in create_app(deps).openapi()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method in operations:
            assert any(m == method and pattern.match(p) for m, p in requests), (method, path)


def test_every_sample_gets_its_status_under_the_sam_local_environment(
    template: dict[str, Any], database: str
) -> None:
    """The samples, in order, through the handler of a process whose environment is
    what `sam local` builds from the template and the env file, except where the
    database and the event API are (the test ones instead of the Docker host)."""
    _empty_database()
    env = sam_environment(template, "Api", env_file("Api"))
    event_api = EventAPI().start()  # any event key, as a dev server takes
    try:
        env |= {"DATABASE_URL": database, "INNGEST_BASE_URL": event_api.url}
        done = subprocess.run(
            [sys.executable, "-m", "jobmatch_devkit.samlocal", "--in-process"],
            env={**env, "PATH": os.environ["PATH"]},
            cwd=ROOT / "infra",
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        names = {e["name"] for e in event_api.received()}
        registered = event_api.registrations()
    finally:
        event_api.stop()
        _empty_database()
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    assert json.loads(lines[-1]) == {s.name: s.status for s in samlocal.SAMPLES}, done.stderr
    assert done.returncode == 0
    assert {"matching/perform", "jobs/imported", "tender/sync.requested"} <= names
    assert len(registered) == 1  # the PUT sample synced (dev mode: out of band)


def test_the_signed_step_sample_runs_in_cloud_mode_once_signed_afresh(
    db: None, lambda_ctx: LambdaContext
) -> None:
    from jobmatch.handler import handler

    stored = _load("inngest-step-signed-post.json")
    stale = HandlerResponse.from_lambda(handler(stored, lambda_ctx))
    assert stale.status == 401  # the stored signature is from when the file was written
    fresh = samlocal.stamped(stored, signing_key=TEST_SIGNING_KEY)
    response = HandlerResponse.from_lambda(handler(fresh, lambda_ctx))
    assert response.status == 206, response.body
    [op] = response.json()
    assert (op["op"], op["displayName"]) == ("StepRun", "fail-stuck-job-logs")
    forged = samlocal.stamped(stored)  # fresh, but signed with another key
    assert HandlerResponse.from_lambda(handler(forged, lambda_ctx)).status == 401


def _empty_database() -> None:
    from sqlalchemy import text

    from jobmatch.db.models import Base
    from jobmatch.db.session import get_engine

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
