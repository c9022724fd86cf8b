"""Engagement events end to end: sent through `POST /api/events` (API Gateway events
into the Lambda handler) or straight to the driver, run by the Inngest driver
against the handler, and checked as rows in PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from jobmatch.db.models import (
    JobApplication,
    JobFeedback,
    JobView,
    PreferenceSignal,
    User,
    UserPreferences,
)
from jobmatch.db.session import session_scope
from jobmatch_devkit.apiclient import ApiClient
from tests.conftest import TEST_API_KEY
from tests.engagement_data import backend_world, count, match_order, outbox

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(driver: InngestDriver) -> ApiClient:
    return ApiClient(driver.handler, api_key=TEST_API_KEY)


def post_events(api: ApiClient, *events: dict[str, Any]) -> list[str]:
    response = api.post("/api/events", {"events": list(events)})
    assert response.status == 202, response.body
    ids: list[str] = response.json()["ids"]
    return ids


def runs_named(runs: list[Any], fn: str) -> list[Any]:
    return [r for r in runs if r.function_id == f"jobmatch-{fn}"]


def perform_matching(driver: InngestDriver, user_id: int) -> None:
    [run] = runs_named(
        driver.send("matching/perform", {"userId": str(user_id)}), "perform-ai-matching"
    )
    assert run.status == "completed", run.error


# ---------------------------------------------------------------- user/registered


def test_registration_creates_welcomes_and_matches_once(
    driver: InngestDriver, api: ApiClient
) -> None:
    event = {"userId": "501", "email": "Ana.Almeida@Example.com", "name": "Ana"}
    [event_id] = post_events(api, {"name": "user/registered", "data": event})
    runs = driver.drain()
    [register] = runs_named(runs, "register-user")
    assert register.status == "completed", register.error
    user_id = register.output["user_id"]
    assert register.output["created"] is True
    assert [r.status for r in runs_named(runs, "perform-ai-matching")] == ["completed"]
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        assert (user.email, user.name) == ("ana.almeida@example.com", "Ana")
        assert s.get(UserPreferences, user_id) is not None
    [welcome] = outbox("welcome")
    assert welcome.to_address == "ana.almeida@example.com"
    assert welcome.status == "sent"
    assert welcome.body_html is not None
    assert "Hello Ana," in welcome.body_html

    followed = api.get(f"/api/runs/{event_id}")
    assert followed.status == 200
    assert followed.json()["status"] == "completed"
    assert followed.json()["steps_done"] == 2

    # The same registration again (another event): same user, no second welcome.
    post_events(api, {"name": "user/registered", "data": event | {"userId": str(user_id)}})
    again = driver.drain()
    assert runs_named(again, "register-user")[0].output["created"] is False
    assert count(User) == 1
    assert len(outbox("welcome")) == 1


def test_registration_with_an_unknown_id_format_fails_for_good_and_writes_nothing(
    driver: InngestDriver, api: ApiClient
) -> None:
    data = {"userId": "user_123", "email": "ana@example.com", "name": "Ana"}
    refused = api.post("/api/events", {"events": [{"name": "user/registered", "data": data}]})
    assert refused.status == 422
    assert b"numeric user id" in refused.body
    # Sent to Inngest by someone else: the run fails at once, without retries.
    [run] = runs_named(driver.send("user/registered", data), "register-user")
    assert run.status == "failed"
    assert run.attempts == 1
    assert "numeric user id" in (run.error or {}).get("message", "")
    assert count(User) == 0
    assert outbox() == []
    [failure] = runs_named(driver.runs, "register-user-failure")
    assert failure.status == "completed"
    followed = api.get(f"/api/runs/{run.event['id']}").json()
    assert followed["status"] == "failed"
    assert "numeric user id" in followed["detail"]["error"]


def test_registration_naming_another_users_id_is_refused(driver: InngestDriver) -> None:
    world = backend_world()
    data = {"userId": str(world["user"]), "email": "someone.else@example.com"}
    [run] = runs_named(driver.send("user/registered", data), "register-user")
    assert run.status == "failed"
    assert "another email" in (run.error or {}).get("message", "")
    assert count(User) == 1


# ---------------------------------------------------------------- job/applied


def test_a_repeated_application_is_recorded_once_and_hides_the_job(
    driver: InngestDriver, api: ApiClient
) -> None:
    world = backend_world()
    perform_matching(driver, world["user"])
    assert world["c"] in match_order(world["email"])
    applied = {"userId": str(world["user"]), "jobId": world["c"], "companyId": 789}
    post_events(
        api, {"name": "job/applied", "data": applied | {"timestamp": "2026-03-01T10:00:00Z"}}
    )
    first = driver.drain()
    assert runs_named(first, "record-job-application")[0].output["new"] is True
    with session_scope() as s:
        weights = dict(s.query(PreferenceSignal.value, PreferenceSignal.weight).all())
    assert weights["globex"] == 3.0  # the company's weight, from one application

    post_events(api, {"name": "job/applied", "data": applied})  # the platform sends it again
    second = driver.drain()
    assert runs_named(second, "record-job-application")[0].output["new"] is False
    assert runs_named(second, "rerank-user-matches") == []  # nothing changed: no re-rank
    assert count(JobApplication) == 1
    with session_scope() as s:
        assert dict(s.query(PreferenceSignal.value, PreferenceSignal.weight).all()) == weights
    # Applied to: no longer recommended, by the reads and by the engine's next run.
    assert world["c"] not in match_order(world["email"])
    perform_matching(driver, world["user"])
    assert world["c"] not in match_order(world["email"])


def test_an_application_to_an_unknown_job_fails_without_writing(driver: InngestDriver) -> None:
    world = backend_world()
    [run] = runs_named(
        driver.send("job/applied", {"userId": world["user"], "jobId": 999_999}),
        "record-job-application",
    )
    assert run.status == "failed"
    assert run.attempts == 1
    assert count(JobApplication) == 0
    assert count(PreferenceSignal) == 0


# ---------------------------------------------------------------- job/viewed


def test_a_burst_of_views_is_one_aggregated_write(driver: InngestDriver) -> None:
    world = backend_world()
    user, a, b = world["user"], world["a"], world["b"]
    views = [
        {"userId": user, "jobId": a, "duration": 25},
        {"userId": str(user), "jobId": a, "duration": 40.5},
        {"userId": user, "jobId": a, "duration": 9},  # too short to count
        {"userId": user, "jobId": a, "duration": 10},  # exactly 10 s: not longer than 10
        {"userId": user, "jobId": b, "duration": 12},
        {"userId": user, "jobId": 999_999, "duration": 30},  # unknown job: left out
        {"userId": "user_1", "jobId": a, "duration": 30},  # bad data: left out
    ]
    runs = driver.send_events([new_event("job/viewed", v) for v in views])
    [batch] = runs_named(runs, "record-job-views")  # one run for the whole burst
    assert batch.status == "completed", batch.error
    assert [s.id for s in batch.steps][:1] == ["aggregate-views"]
    assert batch.output["recorded"] == 3
    assert batch.output["valid"] == 6
    with session_scope() as s:
        rows = {r.job_id: (r.view_count, r.total_seconds) for r in s.query(JobView).all()}
    assert rows == {a: (2, 65.5), b: (1, 12.0)}

    # The step runs again (a retry after a gateway timeout): nothing is counted twice.
    replayed = driver.replay_step(batch, "aggregate-views")
    assert replayed.status == 206
    with session_scope() as s:
        assert {r.job_id: r.view_count for r in s.query(JobView).all()} == {a: 2, b: 1}


# ---------------------------------------------------------------- job/feedback


def test_a_disliked_job_disappears_from_the_users_matches(
    driver: InngestDriver, api: ApiClient
) -> None:
    world = backend_world()
    perform_matching(driver, world["user"])
    before = match_order(world["email"])
    assert world["d"] in before
    dislike = {"userId": str(world["user"]), "jobId": world["d"], "feedback": "dislike"}
    post_events(api, {"name": "job/feedback", "data": dislike})
    runs = driver.drain()
    assert runs_named(runs, "record-job-feedback")[0].status == "completed"
    assert runs_named(runs, "perform-ai-matching")[0].status == "completed"  # the re-rank
    after = match_order(world["email"])
    assert world["d"] not in after
    listed = api.get(f"/api/users/{world['email']}/matches").json()["matches"]
    assert world["d"] not in [m["job_id"] for m in listed]
    # The same dislike again moves nothing; a like brings the job back.
    post_events(api, {"name": "job/feedback", "data": dislike})
    assert runs_named(driver.drain(), "record-job-feedback")[0].output["changed"] is False
    post_events(api, {"name": "job/feedback", "data": dislike | {"feedback": "like"}})
    driver.drain()
    assert world["d"] in match_order(world["email"])
    assert count(JobFeedback) == 1


# ---------------------------------------------------------------- ranking


def test_applications_views_and_feedback_change_the_order_of_the_users_matches(
    driver: InngestDriver,
) -> None:
    world = backend_world()
    user, a, b = world["user"], world["a"], world["b"]
    perform_matching(driver, user)
    order = match_order(world["email"])
    assert order.index(a) < order.index(b)  # A pays better: ahead before any signal

    # Interest in Globex's jobs like B, none in Acme's: an application, a long look
    # and a like on Globex jobs, a dislike of an Acme job.
    driver.send("job/applied", {"userId": user, "jobId": world["c"]})
    driver.send("job/viewed", {"userId": user, "jobId": b, "duration": 45})
    driver.send("job/feedback", {"userId": user, "jobId": world["e"], "feedback": "like"})
    driver.send("job/feedback", {"userId": user, "jobId": world["d"], "feedback": "dislike"})
    order = match_order(world["email"])
    assert order.index(b) < order.index(a)
    assert world["c"] not in order
    assert world["d"] not in order
    with session_scope() as s:
        from jobmatch.db.models import UserMatch

        reasons = s.query(UserMatch.reasons).filter(UserMatch.user_email == world["email"]).all()
    assert any("Like jobs you applied to" in r for (rs,) in reasons for r in rs)


# ---------------------------------------------------------------- preference/updated


def test_preference_edits_apply_in_full_and_a_late_old_edit_does_not_win(
    driver: InngestDriver,
) -> None:
    world = backend_world()
    user = str(world["user"])
    edits = [
        {"userId": user, "field": "preferred_countries", "value": ["de", "NL", "pt"]},
        {"userId": user, "field": "skills", "value": ["Rust", "Go", "rust"]},
        {"userId": user, "field": "salary_min", "value": 70_000},
        {"userId": user, "field": "timezone", "value": "Europe/Lisbon"},
    ]
    events = [new_event("preference/updated", e) | {"ts": 1_000 + i} for i, e in enumerate(edits)]
    late = new_event("preference/updated", {**edits[2], "value": 10}) | {"ts": 500}
    driver.send_events([*events, late])
    with session_scope() as s:
        prefs = s.get(UserPreferences, world["user"])
        user_row = s.get(User, world["user"])
        assert prefs is not None
        assert user_row is not None
        assert prefs.countries == ["DE", "NL", "PT"]
        assert prefs.skills == ["rust", "go"]
        assert prefs.salary_min == 70_000  # the edit stamped 500 ms arrived last, and lost
        assert user_row.timezone == "Europe/Lisbon"


def test_a_preference_value_of_the_wrong_type_is_refused_by_the_api(api: ApiClient) -> None:
    bad = {"userId": "12", "field": "remote_ok", "value": "yes"}
    response = api.post("/api/events", {"events": [{"name": "preference/updated", "data": bad}]})
    assert response.status == 422
    assert b"true or false" in response.body


# ---------------------------------------------------------------- the events route


@pytest.mark.parametrize(
    "name", ["matching/jobs-chunk", "engagement/rerank.requested", "digest/user.requested", "x/y"]
)
def test_an_event_off_the_allow_list_is_refused_and_nothing_is_sent(
    api: ApiClient, driver: InngestDriver, name: str
) -> None:
    ok = {"name": "job/viewed", "data": {"userId": 1, "jobId": 1, "duration": 20}}
    response = api.post("/api/events", {"events": [ok, {"name": name, "data": {"userId": 1}}]})
    assert response.status == 422
    assert f"events[1]: '{name}' is not an event this API accepts".encode() in response.body
    assert driver.event_api is not None
    assert driver.event_api.take() == []


def test_the_events_route_needs_an_api_key_and_bounds_the_request(api: ApiClient) -> None:
    one = {"name": "job/viewed", "data": {"userId": 1, "jobId": 1, "duration": 20}}
    assert api.post("/api/events", {"events": [one]}, headers={"x-api-key": ""}).status == 401
    assert api.post("/api/events", {"events": [one] * 101}).status == 422
    assert api.post("/api/events", {"events": []}).status == 422
    assert api.get("/api/runs/nothing-here").status == 404


def test_given_event_ids_make_a_retried_request_start_nothing_twice(
    api: ApiClient, driver: InngestDriver
) -> None:
    world = backend_world()
    applied = {
        "name": "job/applied",
        "id": "apply-1",
        "data": {"userId": world["user"], "jobId": world["a"]},
    }
    assert post_events(api, applied) == ["apply-1"]
    assert post_events(api, applied) == ["apply-1"]
    driver.drain()
    assert len(driver.runs_of("record-job-application")) == 1
    # The outbox holds the id once: the retry records and sends nothing.
    assert driver.event_api is not None
    received = driver.event_api.received()
    assert [e["id"] for e in received if e["name"] == "job/applied"] == ["apply-1"]
