"""The webhook guard decides on the address connected to: a public-looking host
name that resolves to a private, loopback or metadata address is refused when
the callback is sent, and nothing is posted."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from inngest_harness.driver import InngestDriver
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit.apiclient import ApiClient

pytestmark = pytest.mark.e2e

SIGNUP = {
    "email": "ben.berger@example.com",
    "roles": ["data engineer"],
    "mode": "async",
    "webhook_url": "https://hooks.rebinding.example/cb",
}


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.7"],
        ["93.184.215.14", "169.254.169.254"],  # any bad answer refuses the host
        ["::ffff:127.0.0.1"],
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_not_called(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    answers: list[str],
) -> None:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    posted: list[httpx.Request] = []
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(f"{host}:{port}")
        return answers

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(204)

    http = httpx.Client(transport=httpx.MockTransport(receive))
    driver = driver_for(Dependencies(settings, http=http, resolver=resolver))
    driver.sync()
    # Accepted at signup: the name itself is public.
    assert ApiClient(driver.handler).post("/api/signup/free", SIGNUP).status == 202
    runs = {run.function_id.split("-", 1)[1]: run for run in driver.drain()}

    notify = runs["notify-matching-complete"]
    assert notify.status == "failed"
    assert notify.attempts == 1  # NonRetriableError: no retries of a refused address
    assert notify.error is not None
    assert "webhook not called" in notify.error["message"]
    assert "non-public address" in notify.error["message"]
    assert asked == ["hooks.rebinding.example:443"]
    assert posted == []
    with session_scope() as session:  # the email step ran before, as it should
        assert session.query(OutboxMessage).count() == 1
    http.close()
