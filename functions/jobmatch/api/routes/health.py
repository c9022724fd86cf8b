"""Liveness and readiness for probes: no secrets, no writes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from jobmatch.api.deps import DepsDep
from jobmatch.api.errors import error_responses
from jobmatch.db.probe import database_answers

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
def health(response: Response, deps: DepsDep) -> Health:
    """200 `ok` when the app answers and the database runs a trivial read, else 503."""
    up = database_answers(deps.database)
    if not up:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if up else "degraded",
        database="ok" if up else "unreachable",
        env=deps.settings.env,
    )
