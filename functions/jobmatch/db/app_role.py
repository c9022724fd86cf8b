"""The application's database role: what the app connects as, instead of the master.

The `Migrate` function connects as the master user (it owns the schema) and, after
each upgrade, makes sure the role named in the app's secret exists, logs in with
the secret's password, and may read and write every table and sequence, now and
those later migrations create (default privileges), and nothing more: it cannot
create, alter or drop a table, nor grant. The `Api` function connects with that
secret (`DB_SECRET_ARN`). Running it again is harmless: it sets the same password
and grants what is already granted, so a rotated app secret is applied by the next
migration run (or by invoking `Migrate` with `{"action": "app-role"}`).
"""

from __future__ import annotations

import re

from psycopg import sql
from sqlalchemy import Engine

from jobmatch.db.credentials import SecretCredentials

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

PRIVILEGES = (
    "GRANT CONNECT ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
)


def ensure_app_role(engine: Engine, secret_id: str) -> str:
    """Create or update the role of `secret_id` (its `username` and `password`) with
    the app's privileges, through `engine` (the master's); the role's name."""
    name, password = SecretCredentials(secret_id).read(fresh=True)
    if not ROLE_NAME.match(name):
        raise ValueError(f"the app role's name {name!r} is not a plain lower-case identifier")
    role = sql.Identifier(name)
    with engine.begin() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(name)s", {"name": name}
        ).first()
        verb = "ALTER" if exists else "CREATE"
        statements = [
            sql.SQL(verb + " ROLE {role} WITH LOGIN NOINHERIT PASSWORD {password}").format(
                role=role, password=sql.Literal(password)
            )
        ]
        db = sql.Identifier(str(conn.exec_driver_sql("SELECT current_database()").scalar()))
        statements += [sql.SQL(p).format(db=db, role=role) for p in PRIVILEGES]
        for statement in statements:
            conn.exec_driver_sql(statement.as_string(None))
    return name
