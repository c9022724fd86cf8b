"""The embedded PostgreSQL used when no database is configured.

`pgserver` ships PostgreSQL 16 with pgvector as a wheel, so a fresh machine needs
no server, no Docker and no network. The server is started once in the data folder
and reused by every later process that asks for it (pgserver keeps it running while
any process holds it).
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def embedded_database_url(data_dir: str, database: str = "jobmatch") -> str:
    """Start (or join) the embedded server in `data_dir` and return a SQLAlchemy URL."""
    import pgserver  # imported here: the Lambda package does not ship it

    pgdata = Path(data_dir).resolve() / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pgdata), cleanup_mode=None)  # type: ignore[attr-defined]
    # psql takes no bind parameters; `database` is the settings' name of the local
    # development database, never a request's input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql+psycopg://postgres:@/{database}?host={pgdata}"
