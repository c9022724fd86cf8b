"""Alembic environment: runs against the engine `jobmatch.db.session` builds."""

from __future__ import annotations

from alembic import context

from jobmatch.db.models import Base
from jobmatch.db.session import get_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Apply migrations in one transaction on the configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


run_migrations_online()
