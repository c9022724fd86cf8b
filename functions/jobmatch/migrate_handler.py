"""The `Migrate` Lambda: migrations, the app's database role, the role taxonomy.

RDS sits in a private subnet, so the deploy workflow cannot reach it; it invokes
this function inside the VPC instead. Like `jobmatch.handler`, this module is an
edge: it reads the settings itself and hands them down.
"""

from __future__ import annotations

from typing import Any

from jobmatch.db import migrate
from jobmatch.db.app_role import ensure_app_role
from jobmatch.db.session import Database
from jobmatch.roles.load import load
from jobmatch.settings import get_settings


def app_role() -> str | None:
    """Create or update the app's role from its secret (`APP_DB_SECRET_ARN`), when
    one is configured: the app connects as it, not as the master."""
    settings = get_settings()
    secret = settings.app_db_secret_arn
    return ensure_app_role(Database.of(settings).engine, secret) if secret else None


def handler(event: dict[str, Any] | None, _context: object) -> dict[str, Any]:
    """Lambda entry point: `{"action": "upgrade"|"downgrade"|"load-roles"|"app-role",
    "revision": ...}`. `upgrade` also grants the app role the tables it created;
    `load-roles` upserts the packaged role taxonomy (after an upgrade)."""
    event = event or {}
    action = event.get("action", "upgrade")
    if action in ("upgrade", "app-role"):
        if action == "upgrade":
            migrate.upgrade(event.get("revision", "heads"))
        role = app_role()
        if role is not None:
            return {
                "action": action,
                "app_role": role,
                "revisions": sorted(migrate.current_revisions()),
            }
    elif action == "load-roles":
        return {"action": action, **load()}
    elif action == "downgrade":
        if not event.get("revision"):
            raise ValueError("downgrade needs an explicit revision")
        migrate.downgrade(event["revision"])
    else:
        raise ValueError(f"unknown action {action!r}")
    return {"action": action, "revisions": sorted(migrate.current_revisions())}
