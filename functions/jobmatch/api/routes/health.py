"""Liveness and readiness for probes: no secrets, no writes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from jobmatch.api.deps import SettingsDep
from jobmatch.api.errors import error_responses
from jobmatch.db.session import session_scope

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """What a probe needs to know."""

    status: str
    database: str
    env: str


@router.get(
    "/api/health",
    response_model=Health,
    responses={
        503: {"model": Health, "description": "The database is unreachable"},
        **error_responses(),
    },
)
def health(response: Response, settings: SettingsDep) -> Health:
    """200 `ok` when the app answers and the database runs a trivial read, else 503."""
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - a probe reports, it does not raise
        database = "unreachable"
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if database == "ok" else "degraded",
        database=database,
        env=settings.env,
    )
