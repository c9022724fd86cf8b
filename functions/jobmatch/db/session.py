"""The one way to reach the database: a `Database` built from settings.

`Dependencies` holds one `Database`, built from its own settings, and everything
that reads or writes opens a unit of work on it (`deps.database.unit_of_work()`,
or `deps.unit_of_work()`). A unit of work lives inside one step or one request and
is closed at its end, so no connection is held across steps or while a run sleeps.

Engines are shared per database: `Database.of(settings)` returns the same object
for settings that name the same database, so a test or a tool that builds many
`Dependencies` on one database does not multiply the connections RDS Proxy (or
the embedded server) sees. Each engine is sized for Lambda behind RDS Proxy: a
single pooled connection, no overflow, pre-ping so a connection the proxy closed
between invocations is replaced instead of failing the step.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.orm import sessionmaker

from jobmatch.db.credentials import SecretCredentials
from jobmatch.db.unit_of_work import DatabaseUnavailableError, UnitOfWork, is_connection_lost
from jobmatch.settings import SECRET_CACHE_SECONDS, Settings


def database_url(settings: Settings) -> str | URL:
    """Where the database is: explicit URL, RDS (Proxy) with its secret, or embedded."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.db_host and settings.db_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_secret(settings.db_secret_arn, max_age=SECRET_CACHE_SECONDS)
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


def database_identity(settings: Settings) -> tuple[str, ...]:
    """What names the database of `settings` (without any password)."""
    if settings.database_url is not None:
        return ("url", settings.database_url.get_secret_value())
    if settings.db_host and settings.db_secret_arn:
        return ("rds", settings.db_host, str(settings.db_port), settings.db_name)
    return ("embedded", settings.data_dir, settings.db_name)


class Database:
    """An engine and its session factory, built on first use from `settings`."""

    _shared: ClassVar[dict[tuple[str, ...], Database]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._sessions: sessionmaker[UnitOfWork] | None = None

    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The process's `Database` for the database `settings` name."""
        key = database_identity(settings)
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(settings)
            return cls._shared[key]

    @classmethod
    def dispose_all(cls) -> None:
        """Close every pool and forget every engine (before a SnapStart snapshot,
        after a restore, in tests): the next unit of work builds a new one."""
        with cls._shared_lock:
            for database in cls._shared.values():
                database.dispose()
            cls._shared.clear()

    @property
    def engine(self) -> Engine:
        """The engine, created on first use."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        connect_args: dict[str, object] = {"connect_timeout": 5}
        if self.settings.db_host:
            # Behind RDS Proxy, named server-side prepared statements (psycopg 3
            # prepares a query after 5 runs) pin the client to one backend.
            connect_args["prepare_threshold"] = None
        engine = create_engine(
            database_url(self.settings),
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
            pool_recycle=300,
            connect_args=connect_args,
        )
        if database_identity(self.settings)[0] == "rds" and self.settings.db_secret_arn:
            # The URL's password is the one of the engine's first day: each new
            # connection takes the secret's current one (a rotation costs one retry).
            SecretCredentials(self.settings.db_secret_arn).install(engine)
        return engine

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One transaction: committed on success (then its after-commit actions
        run), rolled back on error (and its actions forgotten)."""
        if self._sessions is None:
            self._sessions = sessionmaker(
                bind=self.engine, class_=UnitOfWork, expire_on_commit=False
            )
        uow = self._sessions()
        try:
            yield uow
            uow.commit()
        except BaseException as exc:
            uow.rollback()  # on a lost connection: nothing to undo, it is discarded
            uow.discard_after_commit()
            if is_connection_lost(exc):
                raise DatabaseUnavailableError(
                    f"the database connection was lost: {type(exc.__cause__ or exc).__name__}"
                ) from exc
            raise
        finally:
            uow.close()
        uow.run_after_commit()

    def dispose(self) -> None:
        """Close the pool and drop the engine; the next unit of work builds a new
        one from the settings (and the secret as it is then)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine, self._sessions = None, None


# For the edges and tools only (Alembic, the Migrate Lambda's role loading, the
# devkit, benchmarks and test fixtures), which have no `Dependencies`: the app's
# routes and steps open units of work on `deps` (tests/unit/test_package_rules.py).
def get_engine() -> Engine:
    """The engine of the database the process settings name."""
    from jobmatch.settings import get_settings

    return Database.of(get_settings()).engine


@contextmanager
def session_scope() -> Iterator[UnitOfWork]:
    """A unit of work on the database the process settings name."""
    from jobmatch.settings import get_settings

    with Database.of(get_settings()).unit_of_work() as uow:
        yield uow


def reset_engine() -> None:
    """Close every pool (tests that switch databases, SnapStart)."""
    Database.dispose_all()
