"""No takeover through the public signup: a repeat signup for a known address
changes nothing until the address's owner confirms it from their mailbox, and
its answer is the same as a new address would get.

Everything goes through the Lambda handler; the emailed link is read from the
mail outbox (the offline delivery), as the user would read their mail."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient
from tests.conftest import TEST_API_KEY
from tests.security_support import database_state

pytestmark = pytest.mark.e2e

OWNER = {
    "email": "ana.almeida@example.com",
    "name": "Ana Almeida",
    "roles": ["backend engineer"],
    "skills": ["python", "postgresql", "docker", "sql", "rest"],
    "locations": ["Berlin"],
    "countries": ["DE"],
    "experience_years": 4,
}
# Someone else, posting the owner's address (in other letters) with their own wishes
# and their own webhook.
INTRUDER = {
    "email": "ANA.Almeida@Example.COM",
    "name": "Mallory",
    "roles": ["frontend engineer"],
    "skills": ["react", "css"],
    "mode": "async",
    "webhook_url": "https://hooks.attacker.example/steal",
}
JOBS = [
    {"title": f"{title} {i}", "company": f"Co {i}", "location": "Berlin", "skills": skills}
    for i in range(3)
    for title, skills in (
        ("Backend Engineer", ["python", "sql"]),
        ("Frontend Developer", ["react", "css"]),
    )
]


@pytest.fixture
def hooks() -> list[httpx.Request]:
    return []


@pytest.fixture
def driver(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    hooks: list[httpx.Request],
) -> Iterator[InngestDriver]:
    """The handler with a webhook receiver that records every call, and a resolver
    giving every webhook host a public address."""

    def receive(request: httpx.Request) -> httpx.Response:
        hooks.append(request)
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(receive))
    deps = Dependencies(settings, http=client, resolver=lambda host, port: ["93.184.215.14"])
    driver = driver_for(deps)
    driver.sync()
    yield driver
    client.close()


@pytest.fixture
def api(driver: InngestDriver) -> ApiClient:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        sample_data.load_roles(session)
    platform = ApiClient(driver.handler, api_key=TEST_API_KEY)
    assert platform.post("/api/jobs/import", {"source": "t", "jobs": JOBS}).status == 201
    driver.drain()
    return ApiClient(driver.handler)


def _stored_user(email: str) -> dict[str, Any]:
    from jobmatch.db.models import User, UserPreferences
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        prefs = session.get_one(UserPreferences, user.id)
        return {
            "id": user.id,
            "name": user.name,
            "webhook_url": user.webhook_url,
            "roles": list(prefs.roles),
            "skills": list(prefs.skills),
        }


def _confirmation_links() -> list[str]:
    from jobmatch.db.models import OutboxMessage
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        bodies = session.scalars(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.kind == "signup-confirmation")
            .order_by(OutboxMessage.id)
        ).all()
    return [m.group(0) for body in bodies for m in [re.search(r"https?://\S+", body)] if m]


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _signed_up_owner(api: ApiClient, driver: InngestDriver) -> dict[str, Any]:
    assert api.post("/api/signup/free", OWNER).status == 201
    driver.drain()
    return _stored_user(OWNER["email"])


def test_a_repeat_signup_changes_nothing_and_notifies_nobody_else(
    api: ApiClient, driver: InngestDriver, event_api: EventAPI, hooks: list[httpx.Request]
) -> None:
    from jobmatch.db.models import OutboxMessage, UserMatch

    owner = _signed_up_owner(api, driver)
    matches_before = _count(UserMatch)
    event_api.reset()

    answer = api.post("/api/signup/free", INTRUDER)
    assert answer.status == 202, answer.body
    runs = driver.drain()

    assert _stored_user(OWNER["email"]) == owner
    assert _count(UserMatch) == matches_before
    assert [e["name"] for e in event_api.received()] == []  # no matching run, no notice
    assert runs == []
    assert hooks == []
    [mail] = _rows(OutboxMessage, OutboxMessage.kind == "signup-confirmation")
    assert mail.to_address == OWNER["email"]
    assert "Mallory" not in mail.body_text
    assert "attacker" not in mail.body_text


def test_the_answer_does_not_tell_whether_the_address_was_known(
    api: ApiClient, driver: InngestDriver
) -> None:
    """The same wishes under a new and under a known address get the same answer:
    same status, same fields, same matches (those of the submitted wishes)."""
    _signed_up_owner(api, driver)
    wishes = {k: v for k, v in INTRUDER.items() if k not in ("email", "mode", "webhook_url")}
    for mode, status in (("sync", 201), ("async", 202)):
        known = api.post("/api/signup/free", {**wishes, "mode": mode, "email": OWNER["email"]})
        new = api.post("/api/signup/free", {**wishes, "mode": mode, "email": f"new-{mode}@x.com"})
        assert known.status == new.status == status
        a, b = known.json(), new.json()
        assert set(a) == set(b)
        assert {k: v for k, v in a.items() if k not in ("email", "request_id")} == {
            k: v for k, v in b.items() if k not in ("email", "request_id")
        }
        assert "Ana" not in known.body.decode()
    assert a["matches"] == []
    assert b["matches"] == []


def test_the_owner_confirms_and_only_then_the_change_applies(
    api: ApiClient, driver: InngestDriver, event_api: EventAPI, hooks: list[httpx.Request]
) -> None:
    owner = _signed_up_owner(api, driver)
    change = {**INTRUDER, "name": "Ana A.", "webhook_url": "https://hooks.ana.example/jm"}
    assert api.post("/api/signup/free", change).status == 202
    [link] = _confirmation_links()
    assert "/api/signup/confirm?token=" in link
    path, token = urlsplit(link).path, _token(link)

    # Opening the link (a mail scanner does) shows the change and applies nothing.
    before = database_state()
    page = api.get(path, query={"token": token})
    assert page.status == 200
    assert "hooks.ana.example" in page.body.decode()
    assert "<form method='post'" in page.body.decode()
    assert database_state() == before
    assert _stored_user(OWNER["email"]) == owner

    event_api.reset()
    confirmed = api.post(path, query={"token": token})
    assert confirmed.status == 200, confirmed.body
    stored = _stored_user(OWNER["email"])
    assert stored == {
        "id": owner["id"],
        "name": "Ana A.",
        "webhook_url": "https://hooks.ana.example/jm",
        "roles": ["frontend engineer"],
        "skills": ["react", "css"],
    }
    [sent] = event_api.received()
    assert sent["name"] == "matching/perform"
    assert sent["data"]["userId"] == str(owner["id"])
    assert sent["data"]["context"]["notify"] is True  # the change asked for async notice
    runs = driver.drain()
    assert {r.function_id.split("-", 1)[1] for r in runs} >= {"perform-ai-matching"}
    [call] = hooks
    assert call.headers["host"] == "hooks.ana.example"

    # Single use: posting again changes nothing more and starts no second run.
    again = api.post(path, query={"token": token})
    assert again.status == 200
    resent = [e for e in event_api.received() if e["name"] == "matching/perform"]
    assert resent == [sent]  # the outbox recorded its id once: nothing is sent again
    assert driver.drain() == []
    assert _stored_user(OWNER["email"]) == stored


def test_forged_expired_or_unknown_links_change_nothing(
    api: ApiClient, driver: InngestDriver, settings: Settings
) -> None:
    from jobmatch.db.models import SignupConfirmation
    from jobmatch.db.session import session_scope
    from jobmatch.security.tokens import make_token

    owner = _signed_up_owner(api, driver)
    assert api.post("/api/signup/free", INTRUDER).status == 202
    [link] = _confirmation_links()
    path, token = urlsplit(link).path, _token(link)
    nonce, expires, signature = token.split(".")
    forged = [
        f"{nonce}.{int(expires) + 86400}.{signature}",  # later expiry, old signature
        make_token(b"some other key", datetime.now(UTC) + timedelta(hours=1)),
        # signed right, but no such confirmation
        make_token(Dependencies(settings).signup_token_key, datetime.now(UTC) + timedelta(hours=1)),
    ]
    before = database_state()
    for bad in forged:
        assert api.get(path, query={"token": bad}).status == 404
        assert api.post(path, query={"token": bad}).status == 404
    assert database_state() == before
    with session_scope() as session:
        row = session.scalars(select(SignupConfirmation)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    expired_state = database_state()
    assert api.post(path, query={"token": token}).status == 404
    assert database_state() == expired_state
    assert _stored_user(OWNER["email"]) == owner


def test_one_confirmation_email_per_signup_request(api: ApiClient, driver: InngestDriver) -> None:
    _signed_up_owner(api, driver)
    for _ in range(2):
        assert api.post("/api/signup/free", INTRUDER).status == 202
    links = _confirmation_links()
    assert len(links) == 2
    assert links[0] != links[1]


def test_an_address_gets_a_bounded_number_of_confirmation_emails_an_hour(
    api: ApiClient, driver: InngestDriver, settings: Settings
) -> None:
    """Anyone may post anyone's address: repeats past the hourly bound are dropped
    (nothing stored, nothing mailed) with the same answer; the next hour mails again."""
    from jobmatch.db.models import SignupConfirmation
    from jobmatch.db.session import session_scope

    _signed_up_owner(api, driver)
    bound = settings.signup_confirmations_per_hour
    answers = [api.post("/api/signup/free", INTRUDER) for _ in range(bound + 3)]

    assert {a.status for a in answers} == {202}
    shapes = [{k: v for k, v in a.json().items() if k != "request_id"} for a in answers]
    assert all(shape == shapes[0] for shape in shapes)
    assert len(_confirmation_links()) == bound
    assert _count(SignupConfirmation) == bound

    with session_scope() as session:
        for row in session.scalars(select(SignupConfirmation)):
            row.created_at -= timedelta(minutes=61)
    assert api.post("/api/signup/free", INTRUDER).status == 202
    assert len(_confirmation_links()) == bound + 1


def _rows(model: Any, *where: Any) -> list[Any]:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return list(session.scalars(select(model).where(*where)))


def _count(model: Any) -> int:
    return len(_rows(model))
