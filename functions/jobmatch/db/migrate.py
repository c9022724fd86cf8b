"""Run Alembic migrations: from the CLI locally, and as the `Migrate` Lambda.

RDS sits in a private subnet, so the deploy workflow cannot reach it; it invokes
this function inside the VPC instead. Migrations are plain Alembic revisions under
`migrations/versions`; every domain branches from `0001_base`, hence "heads".
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from jobmatch.db.session import get_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(revision: str = "heads") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str = "base") -> None:
    """Revert migrations down to `revision`."""
    command.downgrade(alembic_config(), revision)


def current_revisions() -> set[str]:
    """The revisions the database is at (one per branch head)."""
    with get_engine().connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def app_role() -> str | None:
    """Create or update the app's role from its secret (`APP_DB_SECRET_ARN`), when
    one is configured: the app connects as it, not as the master."""
    from jobmatch.db.app_role import ensure_app_role
    from jobmatch.settings import get_settings

    secret = get_settings().app_db_secret_arn
    return ensure_app_role(get_engine(), secret) if secret else None


def handler(event: dict[str, Any] | None, _context: object) -> dict[str, Any]:
    """Lambda entry point: `{"action": "upgrade"|"downgrade"|"load-roles"|"app-role",
    "revision": ...}`. `upgrade` also grants the app role the tables it created;
    `load-roles` upserts the packaged role taxonomy (after an upgrade)."""
    event = event or {}
    action = event.get("action", "upgrade")
    if action in ("upgrade", "app-role"):
        if action == "upgrade":
            upgrade(event.get("revision", "heads"))
        role = app_role()
        if role is not None:
            return {"action": action, "app_role": role, "revisions": sorted(current_revisions())}
    elif action == "load-roles":
        from jobmatch.roles.load import load

        return {"action": action, **load()}
    elif action == "downgrade":
        if not event.get("revision"):
            raise ValueError("downgrade needs an explicit revision")
        downgrade(event["revision"])
    else:
        raise ValueError(f"unknown action {action!r}")
    return {"action": action, "revisions": sorted(current_revisions())}


def main() -> None:
    """`python -m jobmatch.db.migrate [upgrade|downgrade] [revision]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?")
    args = parser.parse_args()
    if args.action == "upgrade":
        upgrade(args.revision or "heads")
    else:
        downgrade(args.revision or "base")
    print("at", sorted(current_revisions()))


if __name__ == "__main__":
    main()
