"""The AWS side of settings, database credentials, mail and migrations, on moto.

In Lambda, secrets come from Secrets Manager and SSM (through Powertools
parameters), the database password from the RDS-managed secret, email goes out
through SES v2, and the `Migrate` function runs Alembic. None of that is mocked in
our code: moto answers the AWS calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from alembic.script import ScriptDirectory
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from jobmatch import migrate_handler
from jobmatch.db import migrate
from jobmatch.db.session import database_url
from jobmatch.dependencies import Dependencies
from jobmatch.mail import EmailMessage, Mailer
from jobmatch.security.api_keys import parse_entries
from jobmatch.settings import Settings, get_settings
from tests.lambda_support import DEPLOYMENT_ENV

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
SIGNING_KEY = "signkey-prod-" + "9" * 64


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for every AWS call, with Powertools' parameter cache emptied around it."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch, aws: None) -> Iterator[None]:
    """The environment Lambda gives the Api function (template.yaml), secrets in AWS."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    app_secret = sm.create_secret(
        Name="jobmatch/dev/app",
        SecretString=json.dumps(
            {
                "inngest_signing_key": SIGNING_KEY,
                "inngest_signing_key_fallback": "",
                "inngest_event_key": "evt-key-123",
                "webhook_signing_secret": "whsec-abc",
            }
        ),
    )
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/jobmatch/dev/api-key-sha256", Value="ab" * 32 + "," + "cd" * 32, Type="String"
    )
    for name, value in DEPLOYMENT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "jobmatch-dev-Api")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("APP_SECRET_ID", app_secret["ARN"])
    monkeypatch.setenv("API_KEY_HASHES_PARAM", "/jobmatch/dev/api-key-sha256")
    for name in ("INNGEST_DEV", "INNGEST_SIGNING_KEY", "INNGEST_SIGNING_KEY_FALLBACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INNGEST_EVENT_KEY", raising=False)
    monkeypatch.delenv("API_KEY_HASHES", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_lambda_settings_come_from_secrets_manager_and_ssm(
    in_lambda: None, caplog: pytest.LogCaptureFixture
) -> None:
    # INFO is what the functions log at (botocore's own DEBUG output prints response
    # bodies, secrets included, by design: never enable it in an environment).
    caplog.set_level(logging.INFO)
    settings = get_settings()

    assert settings.inngest_cloud_mode
    assert settings.inngest_signing_key is not None
    assert settings.inngest_signing_key.get_secret_value() == SIGNING_KEY
    assert settings.inngest_event_key is not None
    assert settings.inngest_event_key.get_secret_value() == "evt-key-123"
    assert settings.inngest_signing_key_fallback is None  # empty in the secret: not set
    assert set(parse_entries(settings.api_key_entries())) == {"ab" * 32, "cd" * 32}
    # Secrets never show in a repr, a dump or a log line.
    for text in (repr(settings), str(settings.model_dump()), caplog.text):
        assert SIGNING_KEY not in text
        assert "evt-key-123" not in text
        assert "whsec-abc" not in text


def test_the_api_key_hashes_are_read_from_ssm_only_when_a_key_is_checked(
    in_lambda: None,
) -> None:
    # Most cold starts serve Inngest, which checks no API key: building the
    # settings must not wait for SSM. Without the parameter they still build...
    boto3.client("ssm", region_name=REGION).delete_parameter(Name="/jobmatch/dev/api-key-sha256")
    settings = get_settings()
    assert settings.inngest_signing_key is not None
    # ...and the first key check is what looks it up.
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    with pytest.raises(GetParameterError, match="ParameterNotFound"):
        settings.api_key_entries()


def test_an_api_key_removed_from_ssm_is_refused_without_a_restart(in_lambda: None) -> None:
    """Running containers re-read the parameter once Powertools' cache (5 minutes)
    expires, so revoking a configured key needs no deploy and no cold start."""
    from aws_lambda_powertools.utilities import parameters

    deps = Dependencies(get_settings())
    assert deps.api_keys.lookup("cd" * 32) is not None
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/jobmatch/dev/api-key-sha256", Value="ab" * 32, Type="String", Overwrite=True
    )
    assert deps.api_keys.lookup("cd" * 32) is not None  # cached: within 5 minutes
    parameters.clear_caches()  # the cache time has passed
    assert deps.api_keys.lookup("cd" * 32) is None
    assert deps.api_keys.lookup("ab" * 32) is not None


def test_secret_lookups_are_cached_per_container(in_lambda: None) -> None:
    first = get_settings()
    # Rotating the secret in AWS does not cost a lookup per invocation: the cached
    # value serves until Powertools' max_age expires.
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="jobmatch/dev/app", SecretString=json.dumps({"inngest_signing_key": "new"})
    )
    get_settings.cache_clear()
    again = get_settings()
    assert again.inngest_signing_key == first.inngest_signing_key


def test_database_credentials_come_from_the_rds_managed_secret(aws: None) -> None:
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="rds!db-1234", SecretString=json.dumps({"username": "jobmatch", "password": "p@ss:/w"})
    )
    settings = Settings(
        DB_HOST="proxy.example.internal", DB_NAME="jobmatch", DB_SECRET_ARN=secret["ARN"]
    )
    url = database_url(settings)
    assert not isinstance(url, str)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "jobmatch",
        "p@ss:/w",
        "proxy.example.internal",
        5432,
        "jobmatch",
    )
    assert url.query["sslmode"] == "require"
    assert "p@ss:/w" not in repr(url)


def ses_mailer(settings: Settings, **overrides: object) -> Mailer:
    """The mailer of dependencies built for SES v2 in REGION, as in Lambda."""
    update = {"mail_backend": "ses", "aws_region": REGION, **overrides}
    return Dependencies(settings.model_copy(update=update)).mailer


@pytest.fixture
def ses(aws: None, db: None) -> None:
    """SES v2 (moto) with a verified identity."""
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")


def test_ses_sends_each_message_once_per_idempotency_key(ses: None, settings: Settings) -> None:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    message = EmailMessage(
        idempotency_key="test:1",
        to_address="ana@example.com",
        subject="Your matches",
        body_text="3 new jobs",
        kind="test",
    )
    mailer = ses_mailer(settings)
    with session_scope() as session:
        assert mailer.send(session, message) is True
    with session_scope() as session:  # the step runs again
        assert mailer.send(session, message) is False

    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert [m.destinations["ToAddresses"] for m in sent] == [["ana@example.com"]]
    with session_scope() as session:
        row = session.query(OutboxMessage).one()
        assert (row.status, row.provider_message_id) == ("sent", sent[0].id)


def test_ses_failure_leaves_the_message_pending_for_the_retry(
    ses: None, settings: Settings
) -> None:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    mailer = ses_mailer(settings, mail_from="nobody@unverified.test")
    message = EmailMessage(
        idempotency_key="test:2", to_address="b@example.com", subject="s", body_text="b", kind="t"
    )
    with pytest.raises(Exception, match="not verified"), session_scope() as session:
        mailer.send(session, message)
    with session_scope() as session:
        assert session.query(OutboxMessage).count() == 0  # rolled back with the step
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


def test_migrate_lambda_upgrades_and_refuses_unknown_actions(database: str) -> None:
    result = migrate_handler.handler({"action": "upgrade"}, None)
    assert result["action"] == "upgrade"
    assert set(result["revisions"]) == migrate.current_revisions()
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert sorted(result["revisions"]) == sorted(heads)  # every domain branch at its head
    with pytest.raises(ValueError, match="unknown action"):
        migrate_handler.handler({"action": "drop-everything"}, None)
    with pytest.raises(ValueError, match="explicit revision"):
        migrate_handler.handler({"action": "downgrade"}, None)
