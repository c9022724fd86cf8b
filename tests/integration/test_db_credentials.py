"""Credentials that rotate: the database password changes (in Secrets Manager, on
moto, and for the role in the embedded PostgreSQL) between two requests of one
warm handler, and the second request succeeds on a connection opened with the
new password."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from jobmatch.app import build_handler
from jobmatch.db.session import Database, get_engine
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.apiclient import ApiClient
from tests.conftest import TEST_API_KEY, TEST_DB_NAME

pytestmark = pytest.mark.integration

ROLE = "jobmatch_rotating"
REGION = "eu-west-1"
PGDATA = Path(os.environ["DATA_DIR"]).resolve() / "pgdata"


def _admin(sql: str, **params: str) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(sql), params)


def _end_sessions_of(role: str) -> None:
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role", role=role
    )


@contextmanager
def _password_login(role: str) -> Iterator[None]:
    """`role` must give its password to log in (the embedded server trusts every
    other local connection)."""
    hba = PGDATA / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"local all {role} scram-sha-256\n" + original)
    _admin("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        hba.write_text(original)
        _admin("SELECT pg_reload_conf()")
        _end_sessions_of(role)


def _drop_role(role: str) -> None:
    _admin(f"DROP OWNED BY {role}")
    _admin(f"DROP ROLE {role}")


@pytest.fixture
def password_role(db: None) -> Iterator[None]:
    """A login role with the privileges the app uses, logging in by password."""
    _admin(f"DROP ROLE IF EXISTS {ROLE}")
    _admin(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password'")
    _admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    _admin(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    try:
        with _password_login(ROLE):
            yield
    finally:
        _drop_role(ROLE)


@pytest.fixture
def secret(password_role: None) -> Iterator[str]:
    """The role's credentials in Secrets Manager (moto); Powertools' cache emptied."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    with mock_aws():
        created = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="jobmatch/test/app-db",
            SecretString=json.dumps({"username": ROLE, "password": "first-password"}),
        )
        yield str(created["ARN"])
    parameters.clear_caches()


def _signup(api: ApiClient, n: int) -> int:
    body = {"email": f"rotation{n}@example.com", "roles": ["backend engineer"]}
    return api.post("/api/signup/free", body).status


def test_a_rotated_password_costs_one_retried_connection(settings: Settings, secret: str) -> None:
    rds = settings.model_copy(
        update={
            "database_url": None,
            "db_host": str(PGDATA),
            "db_name": TEST_DB_NAME,
            "db_secret_arn": secret,
            "db_sslmode": "disable",
        }
    )
    database = Database(rds)
    api = ApiClient(build_handler(Dependencies(rds, database=database)), api_key=TEST_API_KEY)
    try:
        assert _signup(api, 1) == 201
        # Secrets Manager rotates: the role's password changes, then the secret's.
        _admin(f"ALTER ROLE {ROLE} PASSWORD 'second-password'")
        boto3.client("secretsmanager", region_name=REGION).put_secret_value(
            SecretId=secret,
            SecretString=json.dumps({"username": ROLE, "password": "second-password"}),
        )
        # The open connection ends (a proxy failover, the pool's recycle), so the
        # next request must log in again, with Powertools still caching the old one.
        _end_sessions_of(ROLE)
        assert _signup(api, 2) == 201
        with database.unit_of_work() as uow:
            assert uow.scalar(text("SELECT current_user")) == ROLE
            assert uow.scalar(text("SELECT count(*) FROM users")) == 2
    finally:
        database.dispose()


APP_ROLE = "jobmatch_app_test"


def test_migrate_creates_the_app_role_that_reads_and_writes_but_changes_no_schema(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities import parameters

    from jobmatch import migrate_handler
    from jobmatch.settings import get_settings

    parameters.clear_caches()
    with mock_aws(), _password_login(APP_ROLE):
        sm = boto3.client("secretsmanager", region_name=REGION)
        arn = sm.create_secret(
            Name="jobmatch/test/app-role",
            SecretString=json.dumps({"username": APP_ROLE, "password": "pw-one"}),
        )["ARN"]
        monkeypatch.setenv("APP_DB_SECRET_ARN", arn)
        get_settings.cache_clear()
        try:
            assert migrate_handler.handler({"action": "upgrade"}, None)["app_role"] == APP_ROLE
            # Rotated: running it again sets the new password (and grants nothing new).
            sm.put_secret_value(
                SecretId=arn, SecretString=json.dumps({"username": APP_ROLE, "password": "pw-two"})
            )
            assert migrate_handler.handler({"action": "app-role"}, None)["app_role"] == APP_ROLE
            url = f"postgresql+psycopg://{APP_ROLE}:pw-two@/{TEST_DB_NAME}?host={PGDATA}"
            app = create_engine(url, poolclass=NullPool)
            with app.begin() as conn:
                conn.execute(
                    text("INSERT INTO event_outbox (event_id, name, data) VALUES ('r', 'n', '{}')")
                )
                assert conn.execute(text("SELECT count(*) FROM event_outbox")).scalar() == 1
            with pytest.raises(ProgrammingError, match="permission denied"), app.begin() as conn:
                conn.execute(text("CREATE TABLE not_the_apps (id int)"))
            app.dispose()
        finally:
            get_settings.cache_clear()
            parameters.clear_caches()
            _drop_role(APP_ROLE)
