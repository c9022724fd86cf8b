"""The one way to reach the database.

One engine per process (per Lambda container), sized for Lambda behind RDS Proxy:
a single pooled connection, no overflow, pre-ping so a connection the proxy closed
between invocations is replaced instead of failing the step. A session lives inside
one step or one request (`session_scope`) and is closed at its end, so no
connection is held across steps or while a run sleeps.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from jobmatch.settings import Settings, get_settings


def database_url(settings: Settings) -> str | URL:
    """Where the database is: explicit URL, RDS (Proxy) with its secret, or embedded."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.db_host and settings.db_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_secret(settings.db_secret_arn, max_age=300)
        secret = json.loads(raw if isinstance(raw, str) else raw.decode())
        return URL.create(
            "postgresql+psycopg",
            username=secret["username"],
            password=secret["password"],
            host=settings.db_host,
            port=settings.db_port,
            database=settings.db_name,
            query={"sslmode": settings.db_sslmode},
        )
    from jobmatch.db.embedded import embedded_database_url

    return embedded_database_url(settings.data_dir, settings.db_name)


@functools.cache
def get_engine() -> Engine:
    """The engine of this process: created on first use, then reused."""
    settings = get_settings()
    connect_args: dict[str, object] = {"connect_timeout": 5}
    if settings.db_host:
        # Behind RDS Proxy, named server-side prepared statements (psycopg 3 prepares
        # a query after 5 runs) pin the client to one backend and defeat pooling.
        connect_args["prepare_threshold"] = None
    return create_engine(
        database_url(settings),
        pool_size=1,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args=connect_args,
    )


@functools.cache
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error."""
    session = _session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_engine() -> None:
    """Forget the engine (tests that switch databases, and after fork)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _session_factory.cache_clear()
