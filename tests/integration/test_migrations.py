"""Migrations go up and down on the embedded PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from jobmatch.db import migrate
from jobmatch.db.models import Base
from jobmatch.db.session import get_engine

pytestmark = pytest.mark.integration


def test_migrations_down_to_base_and_up_to_heads(database: str) -> None:
    migrate.downgrade("base")
    assert migrate.current_revisions() == set()
    assert inspect(get_engine()).get_table_names() == ["alembic_version"]

    migrate.upgrade("heads")
    tables = set(inspect(get_engine()).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with get_engine().connect() as conn:
        assert conn.execute(
            text("SELECT extname FROM pg_extension WHERE extname='vector'")
        ).scalar()


def test_models_match_migrations(database: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
