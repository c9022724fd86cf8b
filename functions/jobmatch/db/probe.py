"""Whether the database answers: the readiness probe's one read."""

from __future__ import annotations

from sqlalchemy import text

from jobmatch.db.session import Database


def database_answers(database: Database) -> bool:
    """True when a trivial read succeeds; False on any error (a probe reports, it
    does not raise)."""
    try:
        with database.unit_of_work() as uow:
            uow.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True
