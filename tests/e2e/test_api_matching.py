"""The matching API end to end: API Gateway events into the Lambda handler, and
the Inngest runs those requests start, played by the driver (`driver.drain()`).

Rows are checked in PostgreSQL, not taken from the responses, so "nothing
written" and "no duplicate" are observed facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient
from tests.conftest import TEST_API_KEY

if TYPE_CHECKING:
    from jobmatch.dependencies import Dependencies
    from jobmatch.settings import Settings

pytestmark = pytest.mark.e2e

SIGNUP = {
    "email": "Ana.Almeida@Example.com",
    "name": "Ana Almeida",
    "roles": ["backend engineer"],
    "skills": ["python", "postgresql", "docker", "sql", "rest"],
    "locations": ["Berlin"],
    "countries": ["DE"],
    "salary_min": 60000,
    "experience_years": 4,
    "remote_ok": True,
}


def _count(model: Any, *where: Any) -> int:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _job(index: int, title: str, skills: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "external_id": f"t-{index}",
        "title": title,
        "company": f"Company {index}",
        "location": "Berlin",
        "country": "DE",
        "salary_min": 60000,
        "salary_max": 80000,
        "currency": "EUR",
        "experience_min": 3,
        "skills": skills,
        "description": f"{title} working with {', '.join(skills)}.",
        **extra,
    }


BACKEND = ["python", "postgresql", "docker", "sql", "rest"]
FRONTEND = ["javascript", "typescript", "react", "css", "html"]


@pytest.fixture
def roles(db: None) -> dict[str, int]:
    """The sample's global roles (title normalisation needs them)."""
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return sample_data.load_roles(session)


def _tenant_with_candidates(roles: dict[str, int]) -> dict[str, Any]:
    """Two tenants; tenant A has a backend and a frontend candidate, B a backend one."""
    from jobmatch.db.models import Candidate, Tenant
    from jobmatch.db.session import session_scope

    def person(tenant: Tenant, first: str, role: str, skills: list[str]) -> Candidate:
        return Candidate(
            tenant_id=tenant.id,
            first_name=first,
            last_name="Test",
            email=f"{first.lower()}@cand.example.com",
            status="pending",
            preferred_roles=[role],
            preferred_role_ids=[roles[role]],
            skills=skills,
            experience_years=5,
            location="Berlin",
            country="DE",
            remote_ok=True,
            salary_expectation=65000,
        )

    with session_scope() as session:
        a, b = Tenant(name="Tenant A"), Tenant(name="Tenant B")
        session.add_all([a, b])
        session.flush()
        people = {
            "backend": person(a, "Bea", "backend engineer", BACKEND),
            "frontend": person(a, "Finn", "frontend engineer", FRONTEND),
            "other_tenant": person(b, "Otto", "backend engineer", BACKEND),
        }
        session.add_all(people.values())
        session.flush()
        return {"a": a.id, "b": b.id, **{k: c.id for k, c in people.items()}}


def _import(api: ApiClient, jobs: list[dict[str, Any]], batch_id: str = "b1") -> Any:
    response = api.post("/api/jobs/import", {"source": "test", "batch_id": batch_id, "jobs": jobs})
    assert response.status in (200, 201), response.body
    return response.json()


def _completed(runs: list[Any], fn_suffix: str) -> list[Any]:
    found = [r for r in runs if r.function_id.endswith(fn_suffix)]
    assert found, f"no {fn_suffix} run among {[r.function_id for r in runs]}"
    for run in found:
        assert run.status == "completed", run.error
    return found


# ------------------------------------------------------------------ auth


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/jobs/import"),
        ("POST", "/api/match-users"),
        ("POST", "/api/candidates/1/approve"),
        ("GET", "/api/candidates/1/matches"),
        ("GET", "/api/users/a@example.com/matches"),
    ],
)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_machine_routes_need_a_valid_api_key(
    api: ApiClient, method: str, path: str, key: str | None
) -> None:
    response = api.call(
        method, path, body={} if method == "POST" else None, headers={"x-api-key": key or ""}
    )
    assert response.status == 401
    assert "API key" in response.json()["detail"] or "X-API-Key" in response.json()["detail"]


def test_openapi_describes_every_route(api: ApiClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/signup/free",
        "/api/match-users",
        "/api/jobs/import",
        "/api/candidates/{candidate_id}/approve",
        "/api/users/{email}/matches",
        "/api/candidates/{candidate_id}/matches",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation.get("description") or operation.get("summary")


# ------------------------------------------------------------------ import


def test_import_stores_new_jobs_once_and_announces_only_them(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import Job

    first = _import(api, [_job(i, "Senior Backend Engineer", BACKEND) for i in range(3)])
    assert (first["created"], first["duplicates"]) == (3, 0)
    again = _import(
        api, [_job(i, "Senior Backend Engineer", BACKEND) for i in range(1, 5)], batch_id="b2"
    )
    assert (again["created"], again["duplicates"]) == (2, 2)
    assert _count(Job) == 5
    assert _count(Job, Job.normalized_role_id == roles["backend engineer"]) == 5

    announced = [e["data"] for e in event_api.received() if e["name"] == "jobs/imported"]
    assert [a["job_ids"] for a in announced] == [first["job_ids"], again["job_ids"]]
    assert set(first["job_ids"]).isdisjoint(again["job_ids"])
    assert announced[1] == {"job_ids": again["job_ids"], "batch_id": "b2", "source": "test"}

    same = api.post("/api/jobs/import", {"source": "test", "jobs": [_job(0, "X", BACKEND)]})
    assert same.status == 200
    assert same.json()["created"] == 0
    assert len([e for e in event_api.received() if e["name"] == "jobs/imported"]) == 2


def test_import_whose_event_was_refused_is_announced_by_the_outbox(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI, driver: InngestDriver
) -> None:
    """The announcement is recorded with the jobs: if Inngest refuses it the import
    still succeeds, and the outbox's flush sends it once the event API is back; a
    retry of the same batch announces nothing twice."""
    from jobmatch.db.models import Job

    jobs = [_job(i, "Senior Backend Engineer", BACKEND) for i in range(3)]
    event_api.event_key = "not-our-key"  # the event API now answers 401
    try:
        down = _import(api, jobs)
        assert _import(api, jobs)["announced_ids"] == []  # the retry: already announced
    finally:
        event_api.event_key = None
    assert len(down["announced_ids"]) == 3
    assert _count(Job, Job.announced_at.is_(None)) == 0
    assert not [e for e in event_api.received() if e["name"] == "jobs/imported"]

    assert driver.run_cron("flush-event-outbox").status == "completed"
    announced = [e for e in event_api.received() if e["name"] == "jobs/imported"]
    assert [e["data"]["job_ids"] for e in announced] == [down["announced_ids"]]
    assert [e["id"] for e in event_api.received()] == down["event_ids"]
    # The flush's run played the runs its events started: one match per batch.
    assert [r.status for r in driver.runs_of("match-jobs-to-candidates")] == ["completed"]


@pytest.mark.parametrize(
    "bad",
    [
        {"salary_min": 90000, "salary_max": 80000},
        {"country": "Germany"},
        {"title": ""},
        {"external_url": "not a url"},
        {"unknown_field": 1},
        {"skills": ["x" * 81]},
    ],
)
def test_import_with_one_bad_job_writes_nothing(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI, bad: dict[str, Any]
) -> None:
    from jobmatch.db.models import Job

    jobs = [_job(1, "Backend Engineer", BACKEND), {**_job(2, "Backend Engineer", BACKEND), **bad}]
    response = api.post("/api/jobs/import", {"source": "test", "jobs": jobs})
    assert response.status == 422
    assert "jobs" in str(response.json()["detail"])
    assert _count(Job) == 0
    assert event_api.received() == []


def test_import_rejects_oversized_and_empty_batches(api: ApiClient, roles: dict[str, int]) -> None:
    from jobmatch.db.models import Job

    too_many = [_job(i, "Backend Engineer", BACKEND) for i in range(501)]
    assert api.post("/api/jobs/import", {"source": "t", "jobs": too_many}).status == 422
    assert api.post("/api/jobs/import", {"source": "t", "jobs": []}).status == 422
    assert _count(Job) == 0


def test_imported_jobs_match_only_candidates_whose_roles_fit(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int]
) -> None:
    from jobmatch.db.models import Candidate, CandidateJobMatch

    people = _tenant_with_candidates(roles)
    for key, tenant in (("backend", "a"), ("frontend", "a"), ("other_tenant", "b")):
        approved = api.post(
            f"/api/candidates/{people[key]}/approve", headers={"X-Tenant-Id": str(people[tenant])}
        )
        assert approved.status == 200, approved.body
    _completed(driver.drain(), "generate-candidate-matches")
    assert _count(CandidateJobMatch) == 0  # no jobs yet

    imported = _import(api, [_job(i, "Backend Developer", BACKEND, remote=True) for i in range(4)])
    _completed(driver.drain(), "match-jobs-to-candidates")

    backend_ids = {people["backend"], people["other_tenant"]}
    assert _count(CandidateJobMatch, CandidateJobMatch.candidate_id.in_(backend_ids)) == 8
    assert _count(CandidateJobMatch, CandidateJobMatch.candidate_id == people["frontend"]) == 0
    assert _count(CandidateJobMatch, CandidateJobMatch.job_id.not_in(imported["job_ids"])) == 0
    # Each match is kept under its candidate's own tenant.
    assert _count(CandidateJobMatch, CandidateJobMatch.tenant_id == people["b"]) == 4
    assert _count(Candidate, Candidate.status == "ready_for_assignment") == 3


# ------------------------------------------------------------------ candidates


def test_approving_a_candidate_creates_its_matches_and_moves_its_status(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import Candidate, CandidateJobMatch

    _import(api, [_job(i, "Backend Engineer", BACKEND) for i in range(3)])
    _import(api, [_job(10 + i, "React Developer", FRONTEND) for i in range(2)], batch_id="b2")
    driver.drain()
    people = _tenant_with_candidates(roles)
    cid, tenant = people["backend"], people["a"]

    response = api.post(f"/api/candidates/{cid}/approve", {"tenant_id": tenant})
    assert response.status == 200, response.body
    assert response.json()["status"] == "approved"
    sent = [e["data"] for e in event_api.received() if e["name"] == "job-match/generate-candidate"]
    assert sent == [{"candidate_id": cid, "tenant_id": tenant, "trigger": "onboarding_approval"}]

    [run] = _completed(driver.drain(), "generate-candidate-matches")
    assert _count(Candidate, Candidate.id == cid, Candidate.status == "ready_for_assignment") == 1
    assert _count(CandidateJobMatch, CandidateJobMatch.candidate_id == cid) == 3

    read = api.get(f"/api/candidates/{cid}/matches", headers={"X-Tenant-Id": str(tenant)})
    assert read.status == 200
    matches = read.json()["matches"]
    assert len(matches) == 3
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    assert all(m["title"] == "Backend Engineer" and m["matched_skills"] for m in matches)
    assert all(m["reasons"] for m in matches)

    driver.rerun(run)  # the whole run again: no duplicate, nothing lost
    assert _count(CandidateJobMatch, CandidateJobMatch.candidate_id == cid) == 3


def test_another_tenants_candidate_cannot_be_approved_or_read(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import Candidate

    people = _tenant_with_candidates(roles)
    theirs, mine = people["other_tenant"], str(people["a"])

    response = api.post(f"/api/candidates/{theirs}/approve", headers={"X-Tenant-Id": mine})
    assert response.status == 404
    assert api.get(f"/api/candidates/{theirs}/matches", headers={"X-Tenant-Id": mine}).status == 404
    assert _count(Candidate, Candidate.id == theirs, Candidate.status == "pending") == 1
    assert event_api.received() == []

    # No tenant, or header and body disagreeing, is a client error too.
    assert api.post(f"/api/candidates/{theirs}/approve").status == 400
    disagree = api.post(
        f"/api/candidates/{theirs}/approve",
        {"tenant_id": people["b"]},
        headers={"X-Tenant-Id": mine},
    )
    assert disagree.status == 400
    assert api.get(f"/api/candidates/{theirs}/matches").status == 400


def test_a_candidate_past_approval_is_a_conflict(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import Candidate
    from jobmatch.db.session import session_scope

    people = _tenant_with_candidates(roles)
    with session_scope() as session:
        session.get_one(Candidate, people["backend"]).status = "assigned"
    response = api.post(
        f"/api/candidates/{people['backend']}/approve", headers={"X-Tenant-Id": str(people["a"])}
    )
    assert response.status == 409
    assert _count(Candidate, Candidate.status == "assigned") == 1
    assert event_api.received() == []


# ------------------------------------------------------------------ signup


def test_signup_answers_with_matches_and_its_run_saves_the_full_set(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import User, UserMatch

    _import(api, [_job(i, "Backend Engineer", BACKEND) for i in range(4)])
    _import(api, [_job(10 + i, "React Developer", FRONTEND) for i in range(2)], batch_id="b2")
    driver.drain()

    response = api.post("/api/signup/free", SIGNUP)
    assert response.status == 201, response.body
    body = response.json()
    assert body["email"] == "ana.almeida@example.com"
    assert body["complete"] is True
    assert body["matches"], body
    assert all(m["title"] == "Backend Engineer" for m in body["matches"])
    assert all(m["score"] >= 50 and m["reasons"] for m in body["matches"])
    immediate = {m["job_hash"] for m in body["matches"]}
    assert _count(UserMatch, UserMatch.user_email == body["email"]) == len(immediate)

    [event] = [e for e in event_api.received() if e["name"] == "matching/perform"]
    [user_id] = [u.id for u in _rows(User)]
    assert event["data"]["userId"] == str(user_id)
    assert event["data"]["premium"] is False
    assert event["data"]["context"] == {"source": "signup/free", "requestId": body["request_id"]}

    _completed(driver.drain(), "perform-ai-matching")
    assert _count(User) == 1
    saved = api.get(f"/api/users/{body['email']}/matches").json()["matches"]
    assert immediate <= {m["job_hash"] for m in saved}
    assert len(saved) == _count(UserMatch)


@pytest.mark.parametrize(
    "bad",
    [
        {"email": "not-an-email"},
        {"roles": []},
        {"roles": ["  "]},
        {"countries": ["Germany"]},
        {"salary_min": -1},
        {"experience_years": 99},
        {"mode": "later"},
        {"webhook_url": "http://hooks.example.com/x"},
        {"webhook_url": "ftp://hooks.example.com/x"},
        {"webhook_url": "https://169.254.169.254/latest/meta-data"},
        {"webhook_url": "https://10.0.0.5/hook"},
        {"webhook_url": "https://[::1]/hook"},
        {"webhook_url": "https://localhost/hook"},
        # Numeric and spelled forms resolvers read as loopback, metadata or "any".
        {"webhook_url": "https://2130706433/"},
        {"webhook_url": "https://0x7f.1/"},
        {"webhook_url": "https://127.1/"},
        {"webhook_url": "https://017700000001/"},
        {"webhook_url": "https://2852039166/"},
        {"webhook_url": "https://0/"},
        {"webhook_url": "https://localhost./"},
        {"webhook_url": "https://[::ffff:169.254.169.254]/"},
        {"webhook_url": "https://[::ffff:7f00:1]/"},
        {"webhook_url": "https://[64:ff9b::a9fe:a9fe]/"},
        {"webhook_url": "https://224.0.0.1/"},
        {"is_premium": True},
    ],
)
def test_a_bad_signup_is_rejected_and_writes_nothing(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI, bad: dict[str, Any]
) -> None:
    from jobmatch.db.models import User, UserPreferences

    response = api.post("/api/signup/free", {**SIGNUP, **bad})
    assert response.status == 422
    assert response.json()["detail"]
    assert _count(User) == _count(UserPreferences) == 0
    assert event_api.received() == []


HOOK_ADDRESS = "93.184.215.14"


def public_dns(host: str, port: int) -> list[str]:
    """The webhook host's public address (no network in tests)."""
    assert host == "hooks.example.com"
    return [HOOK_ADDRESS]


@pytest.fixture
def webhook_calls() -> list[httpx.Request]:
    """The callbacks the receiver got (it answers 204)."""
    return []


@pytest.fixture
def signed_webhooks(
    driver_for: Callable[[Dependencies], InngestDriver],
    settings: Settings,
    webhook_calls: list[httpx.Request],
) -> Iterator[InngestDriver]:
    """The handler built with a webhook signing secret and an HTTP client whose
    transport is the capturing receiver."""
    from jobmatch.dependencies import Dependencies

    def receive(request: httpx.Request) -> httpx.Response:
        webhook_calls.append(request)
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(receive))
    signed = settings.model_copy(update={"webhook_signing_secret": SecretStr("whsec-test")})
    driver = driver_for(Dependencies(signed, http=client, resolver=public_dns))
    driver.sync()
    yield driver
    client.close()


def test_async_signup_answers_202_then_notifies_exactly_once(
    signed_webhooks: InngestDriver,
    roles: dict[str, int],
    event_api: EventAPI,
    webhook_calls: list[httpx.Request],
) -> None:
    from jobmatch.db.models import OutboxMessage, UserMatch
    from jobmatch.notifications.webhook import webhook_headers

    driver = signed_webhooks
    api = ApiClient(driver.handler, api_key=TEST_API_KEY)

    _import(api, [_job(i, "Backend Engineer", BACKEND) for i in range(3)])
    driver.drain()
    hook = "https://hooks.example.com/jobmatch"
    response = api.post("/api/signup/free", {**SIGNUP, "mode": "async", "webhook_url": hook})
    assert response.status == 202, response.body
    body = response.json()
    assert body["matches"] == []
    assert body["complete"] is False
    assert _count(UserMatch) == 0  # nothing computed in the request

    runs = driver.drain()
    _completed(runs, "perform-ai-matching")
    [notify] = _completed(runs, "notify-matching-complete")
    assert notify.output["notified"] is True
    assert _count(UserMatch) == 3

    [mail] = _rows(OutboxMessage)
    assert mail.to_address == "ana.almeida@example.com"
    assert mail.kind == "matching-complete"
    assert mail.status == "sent"
    assert "3 jobs matched" in mail.body_text

    [call] = webhook_calls
    # Sent to the address the guard checked, under the URL's name (Host and TLS SNI).
    assert str(call.url) == f"https://{HOOK_ADDRESS}/jobmatch"
    assert call.headers["host"] == "hooks.example.com"
    assert call.extensions["sni_hostname"] == "hooks.example.com"
    assert call.headers["idempotency-key"] == mail.idempotency_key
    t = call.headers["x-jobmatch-signature"].split(",")[0].removeprefix("t=")
    expected = webhook_headers(call.content, mail.idempotency_key, "whsec-test", int(t))
    assert call.headers["x-jobmatch-signature"] == expected["X-Jobmatch-Signature"]

    # The email step executed again (a retry after a gateway timeout), and the
    # whole run again: still one email.
    assert driver.replay_step(notify, "send-email").status in (200, 206)
    driver.rerun(notify)
    assert _count(OutboxMessage) == 1


def _rows(model: Any) -> list[Any]:
    from jobmatch.db.session import session_scope

    with session_scope() as session:
        return list(session.scalars(select(model)))


def test_a_sync_signup_sends_no_notification(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int]
) -> None:
    from jobmatch.db.models import OutboxMessage

    assert api.post("/api/signup/free", SIGNUP).status == 201
    runs = driver.drain()
    [matching] = _completed(runs, "perform-ai-matching")
    # Not even a notification run that would return early: it would still be paid for.
    assert [r.function_id for r in runs] == [matching.function_id]
    assert "announce-completed" not in [s.id for s in matching.steps]
    assert _count(OutboxMessage) == 0


# ------------------------------------------------------------------ batch + reads


def test_match_users_sends_one_event_per_user_premium_first(
    api: ApiClient, driver: InngestDriver, roles: dict[str, int], event_api: EventAPI
) -> None:
    from jobmatch.db.models import User
    from jobmatch.db.session import session_scope

    _import(api, [_job(i, "Backend Engineer", BACKEND) for i in range(3)])
    driver.drain()
    with session_scope() as session:
        emails = sample_data.load_users(session, limit=4)
        session.execute(User.__table__.update().values(is_premium=User.email == emails[2]))
        ids = {row.email: row.id for row in session.execute(select(User.email, User.id))}

    response = api.post("/api/match-users", {"user_ids": [ids[emails[0]]], "emails": emails[1:]})
    assert response.status == 202, response.body
    assert response.json()["users"] == 4
    sent = [e["data"] for e in event_api.received() if e["name"] == "matching/perform"]
    assert len(sent) == len(response.json()["event_ids"]) == 4
    assert sent[0]["userId"] == str(ids[emails[2]])
    assert sent[0]["premium"] is True
    assert {s["userId"] for s in sent} == {str(i) for i in ids.values()}
    assert len(_completed(driver.drain(), "perform-ai-matching")) == 4


def test_match_users_rejects_unknown_or_missing_users_and_sends_nothing(
    api: ApiClient, roles: dict[str, int], event_api: EventAPI
) -> None:
    unknown = api.post("/api/match-users", {"emails": ["nobody@example.com"]})
    assert unknown.status == 422
    assert "nobody@example.com" in unknown.json()["detail"]
    assert api.post("/api/match-users", {}).status == 422
    assert api.post("/api/match-users", {"user_ids": [0]}).status == 422
    assert api.post("/api/match-users", {"emails": ["bad"]}).status == 422
    assert event_api.received() == []


def test_reading_an_unknown_users_matches_is_404(api: ApiClient, roles: dict[str, int]) -> None:
    assert api.get("/api/users/nobody@example.com/matches").status == 404
    assert api.get("/api/users/not-an-email/matches").status == 422
