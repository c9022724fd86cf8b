"""/api/health through the Lambda handler, with an API Gateway v2 event."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from inngest_harness.apigw import LambdaContext, http_event
from inngest_harness.records import HandlerResponse

pytestmark = pytest.mark.e2e


def _get(path: str, ctx: LambdaContext, **headers: str) -> HandlerResponse:
    from jobmatch.handler import handler

    return HandlerResponse.from_lambda(handler(http_event("GET", path, headers=headers), ctx))


def test_health_reports_ok_with_the_database_up(db: None, lambda_ctx: LambdaContext) -> None:
    response = _get("/api/health", lambda_ctx)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok", "env": "test"}


def test_health_reveals_no_secrets(db: None, lambda_ctx: LambdaContext) -> None:
    from tests.conftest import TEST_SIGNING_KEY

    body = _get("/api/health", lambda_ctx).body.decode()
    assert TEST_SIGNING_KEY.split("-")[-1] not in body
    assert "key" not in body.lower()


def test_health_ignores_the_signature_guard(db: None, lambda_ctx: LambdaContext) -> None:
    """A stale Inngest signature header on another path is none of the guard's business."""
    response = _get("/api/health", lambda_ctx, **{"X-Inngest-Signature": "t=1&s=00"})
    assert response.status == 200


def test_unknown_path_is_404(lambda_ctx: LambdaContext) -> None:
    assert _get("/api/nope", lambda_ctx).status == 404


def test_health_asks_the_database_of_the_apps_dependencies(lambda_ctx: LambdaContext) -> None:
    """The probe reads the database the app was built with (not the process's): an app
    on an unreachable database answers 503 "unreachable"."""
    from fastapi.testclient import TestClient

    from jobmatch.app import create_app
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import get_settings

    nowhere = "postgresql+psycopg://probe:probe@127.0.0.1:9/nowhere"
    deps = Dependencies(get_settings().model_copy(update={"database_url": SecretStr(nowhere)}))
    response = TestClient(create_app(deps, functions=[])).get("/api/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
