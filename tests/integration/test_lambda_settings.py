"""In Lambda, settings that only a deployment can give have no local default.

A container whose template forgot the OCDS publisher would otherwise sync from
127.0.0.1 every 30 minutes and report success; one without a sender would mail
from example.com. It must refuse to start instead, with one error that names
every missing setting, logged at init, without any secret value in it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobmatch.settings import MissingSettingsError, Settings
from tests.lambda_support import DEPLOYMENT_ENV, clear_settings_environment

pytestmark = pytest.mark.integration

AI_SETTINGS = ["BEDROCK_REGION", "BEDROCK_EMBEDDING_MODEL_ID", "BEDROCK_LLM_MODEL_ID"]


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A Lambda container's environment with nothing of the test process's settings
    (and no developer .env: the working directory is empty)."""
    clear_settings_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "jobmatch-dev-Api")
    monkeypatch.setenv("APP_SECRET_ID", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app")
    monkeypatch.setenv("API_KEY_HASHES_PARAM", "/jobmatch/dev/api-key-sha256")
    return monkeypatch


def test_a_deployment_with_every_setting_starts(lambda_env: pytest.MonkeyPatch) -> None:
    for name, value in DEPLOYMENT_ENV.items():
        lambda_env.setenv(name, value)
    settings = Settings()
    assert settings.in_lambda
    assert settings.missing_deployment_settings() == []
    assert settings.ocds_base_url == "https://ocds-api.etenders.gov.za"
    assert (settings.ocds_pagination, settings.ocds_date_format) == ("page", "date")


def test_every_missing_deployment_setting_is_named_in_one_error(
    lambda_env: pytest.MonkeyPatch,
) -> None:
    for name, value in DEPLOYMENT_ENV.items():
        if name not in ("OCDS_BASE_URL", "MAIL_FROM"):
            lambda_env.setenv(name, value)
    lambda_env.setenv("AI_ENABLED", "true")  # and no Bedrock region or models
    lambda_env.setenv("OCDS_PAGE_SIZE", "")  # empty is not a value
    with pytest.raises(MissingSettingsError) as raised:
        Settings()
    missing = ["OCDS_BASE_URL", "OCDS_PAGE_SIZE", "MAIL_FROM", *AI_SETTINGS]
    assert raised.value.missing == missing
    assert all(name in str(raised.value) for name in missing)


def test_nothing_but_the_function_name_names_everything(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.delenv("APP_SECRET_ID")
    lambda_env.delenv("API_KEY_HASHES_PARAM")
    with pytest.raises(MissingSettingsError) as raised:
        Settings()
    assert raised.value.missing == [
        "JOBMATCH_ENV",
        "DB_HOST",
        "DB_SECRET_ARN",
        "APP_SECRET_ID",  # cloud mode: the signing key comes from the app secret
        "API_KEY_HASHES_PARAM",
        "OCDS_BASE_URL",
        "OCDS_PAGINATION",
        "OCDS_RELEASES_PATH",
        "OCDS_DATE_FORMAT",
        "OCDS_PAGE_SIZE",
        "MAIL_BACKEND",
        "MAIL_FROM",
        "PUBLIC_BASE_URL",
        "AI_ENABLED",
    ]


def test_the_migrate_function_needs_the_database_only(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("JOBMATCH_COMPONENT", "migrate")
    lambda_env.setenv("JOBMATCH_ENV", "dev")
    with pytest.raises(MissingSettingsError) as raised:
        Settings()
    assert raised.value.missing == ["DB_HOST", "DB_SECRET_ARN"]
    lambda_env.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db.internal/jobmatch")
    assert Settings().component == "migrate"


def test_the_ses_events_function_needs_the_database_only(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("JOBMATCH_COMPONENT", "ses-events")
    lambda_env.setenv("JOBMATCH_ENV", "dev")
    with pytest.raises(MissingSettingsError) as raised:
        Settings()
    assert raised.value.missing == ["DB_HOST", "DB_SECRET_ARN"]


def test_outside_lambda_the_local_defaults_serve(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.delenv("AWS_LAMBDA_FUNCTION_NAME")
    settings = Settings()
    assert settings.ocds_base_url == "http://127.0.0.1:8765"  # the devkit's publisher
    assert "OCDS_BASE_URL" in settings.missing_deployment_settings()


def test_the_handler_fails_at_init_and_logs_the_names_without_secrets(tmp_path: Path) -> None:
    """`import jobmatch.handler` is Lambda's init phase: it must stop there, and the
    log must say why, by name, with no secret value (the database password here)."""
    password = "hunter2-do-not-log"
    env = {
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_FUNCTION_NAME": "jobmatch-dev-Api",
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        **{k: v for k, v in DEPLOYMENT_ENV.items() if k != "OCDS_BASE_URL"},
        "DATABASE_URL": f"postgresql+psycopg://jobmatch:{password}@db.internal/jobmatch",
        "INNGEST_DEV": "1",
        "API_KEY_HASHES": "ab" * 32,
    }
    done = subprocess.run(
        [sys.executable, "-c", "import jobmatch.handler"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    [line] = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    assert line["level"] == "CRITICAL"
    assert line["missing_settings"] == ["OCDS_BASE_URL"]
    assert "OCDS_BASE_URL" in line["message"]
    assert "MissingSettingsError" in done.stderr  # the runtime reports the init error too
    assert password not in done.stdout + done.stderr
