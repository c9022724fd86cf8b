"""Run Alembic migrations: from the CLI locally, and for the `Migrate` Lambda
(`jobmatch.migrate_handler`). Migrations are plain Alembic revisions under
`migrations/versions`; every domain branches from `0001_base`, hence "heads".
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
