"""Emails end to end: typed notifications, new-job alerts, the per-time-zone digest,
unsubscribe links and bounces, through the Lambda handler (API Gateway events and
the Inngest driver), with the outbox and the digest log read back from PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from jobmatch.db.models import (
    DigestLog,
    Job,
    MailSuppression,
    MailUnsubscribe,
    NewJobAlert,
    RunProgress,
    User,
    UserPreferences,
)
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.mail.ses_events import handler as ses_events
from jobmatch.matching import service
from jobmatch.settings import Settings
from jobmatch.users.profile import match_user
from jobmatch_devkit.apiclient import ApiClient
from tests import matching_data as make
from tests.conftest import TEST_API_KEY
from tests.engagement_data import backend_world, count, outbox
from tests.integration.test_mail_engagement import BOUNCE, sns_record

pytestmark = pytest.mark.e2e

BERLIN_9_30 = "2026-03-02T08:30:00+00:00"  # 09:30 in Berlin (CET), 08:30 in London


@pytest.fixture
def api(driver: InngestDriver) -> ApiClient:
    return ApiClient(driver.handler, api_key=TEST_API_KEY)


def of(runs: list[Any], fn: str) -> list[Any]:
    return [r for r in runs if r.function_id == f"jobmatch-{fn}"]


def store_matches(user_id: int, settings: Settings) -> int:
    """The engine's matches for the user, stored as the matching step stores them."""
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        results = match_user(s, user_id, settings, make.EMBEDDER)
        return service.save_user_matches(s, user.email, results)


def set_user(user_id: int, **values: Any) -> None:
    with session_scope() as s:
        s.execute(update(User).where(User.id == user_id).values(**values))


# ---------------------------------------------------------------- notification/email


def test_each_email_type_renders_and_only_opt_out_types_carry_unsubscribe(
    driver: InngestDriver, settings: Settings
) -> None:
    world = backend_world(name="Ana")
    store_matches(world["user"], settings)
    base = {"userId": str(world["user"]), "email": world["email"]}
    jobs = {"jobIds": [world["a"], world["b"], 999_999]}
    events = [
        new_event("notification/email", base | {"type": "welcome"}),
        new_event("notification/email", base | {"type": "new_jobs", "data": jobs}),
        new_event("notification/email", base | {"type": "digest", "data": jobs}),
        new_event(
            "notification/email", base | {"type": "match_ready", "data": {"matchesSaved": 4}}
        ),
    ]
    runs = driver.send_events(events)
    assert [r.status for r in of(runs, "send-notification-email")] == ["completed"] * 4
    mail = {m.kind: m for m in outbox()}
    assert set(mail) == {"welcome", "new_jobs", "digest", "match_ready"}
    assert mail["welcome"].headers == {}
    for kind in ("new_jobs", "digest", "match_ready"):
        assert mail[kind].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f".{kind}." in mail[kind].headers["List-Unsubscribe"]
    assert mail["new_jobs"].subject == "2 new jobs for you"  # the unknown job is left out
    assert mail["match_ready"].body_text.startswith("Hello Ana")
    assert "4 jobs matched your profile" in mail["match_ready"].body_text
    assert mail["digest"].body_html is not None
    assert "<li>" in mail["digest"].body_html


def test_an_email_for_another_users_address_is_refused(driver: InngestDriver) -> None:
    world = backend_world()
    data = {"userId": world["user"], "email": "stranger@example.com", "type": "welcome"}
    [run] = of(driver.send("notification/email", data), "send-notification-email")
    assert run.status == "failed"
    assert "does not belong" in (run.error or {}).get("message", "")
    assert outbox() == []


def test_a_job_title_cannot_inject_html(driver: InngestDriver) -> None:
    world = backend_world()
    with session_scope() as s:
        s.execute(
            update(Job).where(Job.id == world["a"]).values(title='<script>alert("x")</script>')
        )
    data = {"userId": world["user"], "email": world["email"], "type": "new_jobs"}
    driver.send("notification/email", data | {"data": {"jobIds": [world["a"]]}})
    [mail] = outbox("new_jobs")
    assert mail.body_html is not None
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;" in mail.body_html


# ---------------------------------------------------------------- bounces, unsubscribe


def test_a_bounced_address_receives_nothing_more(driver: InngestDriver) -> None:
    world = backend_world(email="gone@example.com")
    data = {"userId": world["user"], "email": "gone@example.com", "type": "new_jobs"}
    data["data"] = {"jobIds": [world["a"]]}
    driver.send("notification/email", data)
    assert [m.status for m in outbox()] == ["sent"]
    assert ses_events({"Records": [sns_record(BOUNCE)]}, None)["suppressed"] == 1

    driver.send("notification/email", data)  # another notification...
    driver.send("jobs/new-batch", {"jobIds": [world["b"]], "source": "ashby"})  # ...an alert
    assert [m.status for m in outbox()] == ["sent", "suppressed"]
    assert count(NewJobAlert) == 0  # the alert query leaves suppressed addresses out


def test_unsubscribe_link_confirms_on_get_and_opts_out_on_one_click_post(
    driver: InngestDriver, api: ApiClient
) -> None:
    world = backend_world()
    data = {"userId": world["user"], "email": world["email"], "type": "new_jobs"}
    driver.send("notification/email", data | {"data": {"jobIds": [world["a"]]}})
    [mail] = outbox("new_jobs")
    link = urlsplit(mail.headers["List-Unsubscribe"].strip("<>"))
    token = link.query.removeprefix("token=")

    page = api.get(link.path, query={"token": token}, headers={"x-api-key": ""})
    assert page.status == 200
    assert b'<form method="post"' in page.body
    assert count(MailUnsubscribe) == 0  # a link scanner's GET changes nothing

    one_click = api.call(
        "POST",
        link.path,
        query={"token": token},
        body="List-Unsubscribe=One-Click",
        headers={"x-api-key": "", "content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status == 200
    assert b"you will not receive new job alerts" in one_click.body
    assert count(MailUnsubscribe) == 1

    driver.send("notification/email", data | {"data": {"jobIds": [world["b"]]}})
    assert [m.status for m in outbox("new_jobs")] == ["sent", "unsubscribed"]
    driver.send("notification/email", data | {"type": "welcome"})  # not an opt-out type
    assert outbox("welcome")[0].status == "sent"


@pytest.mark.parametrize("token", ["1.digest.forged", "1.weekly.abc", "x.digest.abc", "nodots"])
def test_a_forged_or_malformed_unsubscribe_token_is_refused(api: ApiClient, token: str) -> None:
    response = api.post("/api/unsubscribe", None, query={"token": token})
    assert response.status in (400, 422)
    assert count(MailUnsubscribe) == 0


# ---------------------------------------------------------------- jobs/new-batch


@pytest.fixture
def small_chunks(
    settings: Settings, driver_for: Callable[[Dependencies], InngestDriver]
) -> InngestDriver:
    """A driver whose app sends alerts two users per chunk (to see the fan-out)."""
    return driver_for(Dependencies(settings.model_copy(update={"alert_users_per_chunk": 2})))


def test_a_new_batch_alerts_each_fitting_user_once(small_chunks: InngestDriver) -> None:
    driver = small_chunks
    with session_scope() as s:
        backend = make.role(s, "backend engineer", "python developer")
        nurse = make.role(s, "registered nurse", "nurse")
        jobs = [make.job(s, backend).id, make.job(s, backend, title="Python Developer").id]
        nurse_job = make.job(s, nurse, title="Nurse (m/f/d)", skills=["triage"]).id
        fits = [make.user(s, f"dev{i}@example.com", ["backend engineer"]).id for i in range(4)]
        make.user(s, "alias@example.com", ["python developer"])  # a role alias fits too
        make.user(s, "nurse@example.com", ["nurse"])
    driver.send("job/applied", {"userId": fits[0], "jobId": jobs[0]})  # not alerted again

    batch = {"jobIds": [*jobs, 999_999], "source": "ashby"}
    runs = driver.send("jobs/new-batch", batch)
    [main] = of(runs, "alert-new-jobs")
    assert main.status == "completed", main.error
    assert main.output["recipients"] == 5
    assert [s.id for s in main.steps][:3] == ["find-recipients", "plan-chunks", "fan-out"]
    assert len(of(runs, "send-new-job-alerts")) == 3  # 5 users, 2 per chunk
    alerts = {m.to_address: m for m in outbox("new_jobs")}
    assert set(alerts) == {f"dev{i}@example.com" for i in range(4)} | {"alias@example.com"}
    assert alerts["dev0@example.com"].subject == "1 new job for you"  # applied one left out
    assert alerts["dev1@example.com"].subject == "2 new jobs for you"
    assert count(NewJobAlert) == 5

    # The same batch announced again, and a chunk's step run again: nobody twice.
    driver.send("jobs/new-batch", batch)
    [chunk, *_] = of(runs, "send-new-job-alerts")
    driver.replay_step(chunk, "send-alerts")
    assert len(outbox("new_jobs")) == 5
    # The nurse job fits nobody else's roles.
    driver.send("jobs/new-batch", {"jobIds": [nurse_job], "source": "ashby"})
    assert [m.to_address for m in outbox("new_jobs")][-1] == "nurse@example.com"
    assert len(outbox("new_jobs")) == 6


def test_a_batch_alerts_nobody_mail_policy_holds_back(driver: InngestDriver) -> None:
    """Recipients are chosen in one statement that asks mail/ who may be mailed: a
    suppressed address and an opt-out of new-job alerts (or of all mail) are left
    out; an opt-out of another category is not."""
    with session_scope() as s:
        backend = make.role(s, "backend engineer")
        job = make.job(s, backend).id
        users = {
            name: make.user(s, f"{name}@example.com", ["backend engineer"]).id
            for name in ("plain", "bounced", "no_alerts", "no_mail", "no_digest")
        }
        s.add(MailSuppression(email="bounced@example.com", reason="bounce", detail="test"))
        for name, category in (
            ("no_alerts", "new_jobs"),
            ("no_mail", "all"),
            ("no_digest", "digest"),
        ):
            s.add(MailUnsubscribe(user_id=users[name], category=category))
    [main] = of(
        driver.send("jobs/new-batch", {"jobIds": [job], "source": "ashby"}), "alert-new-jobs"
    )
    assert main.status == "completed", main.error
    assert main.output["recipients"] == 2
    with session_scope() as s:
        alerted = set(s.scalars(select(NewJobAlert.user_id)))
    assert alerted == {users["plain"], users["no_digest"]}
    assert {m.to_address for m in outbox("new_jobs")} == {
        "plain@example.com",
        "no_digest@example.com",
    }


def test_jobs_from_the_import_api_alert_users_as_board_jobs_do(
    driver: InngestDriver, api: ApiClient
) -> None:
    """Every door into `jobs` announces new jobs the same way: matching and alerts.
    A retried import announces nothing again, so nobody is alerted twice."""
    with session_scope() as s:
        make.role(s, "backend engineer", "python developer")
        make.user(s, "dev@example.com", ["backend engineer"])
    batch = {
        "source": "monster",
        "batch_id": "monster-2026-11-23",
        "jobs": [{"title": "Senior Python Developer (m/w/d)", "company": "Acme GmbH"}],
    }
    imported = api.post("/api/jobs/import", batch)
    assert imported.status == 201, imported.body
    assert len(imported.json()["event_ids"]) == 2
    runs = driver.drain()
    assert [r.status for r in of(runs, "alert-new-jobs")] == ["completed"]
    assert of(runs, "match-jobs-to-candidates")
    assert [m.to_address for m in outbox("new_jobs")] == ["dev@example.com"]

    assert api.post("/api/jobs/import", batch).json()["event_ids"] == []
    driver.drain()
    assert len(outbox("new_jobs")) == 1


def test_a_chunk_that_runs_out_of_time_goes_on_in_a_next_step(
    settings: Settings, driver_for: Callable[[Dependencies], InngestDriver]
) -> None:
    """With a step budget no longer than the margin kept for the last send, every
    step sends one email and hands over: the chunk still alerts each user once."""
    update = {"step_budget_seconds": 3.0, "alert_users_per_chunk": 5}
    driver = driver_for(Dependencies(settings.model_copy(update=update)))
    with session_scope() as s:
        role = make.role(s, "backend engineer")
        job = make.job(s, role).id
        for i in range(3):
            make.user(s, f"dev{i}@example.com", ["backend engineer"])
    runs = driver.send("jobs/new-batch", {"jobIds": [job], "source": "ashby"})
    [chunk] = of(runs, "send-new-job-alerts")
    assert [s.id for s in chunk.steps] == ["send-alerts", "send-alerts-2", "send-alerts-3"]
    assert chunk.output == {"users": 3, "sent": 3, "steps": 3}
    assert sorted(m.to_address for m in outbox("new_jobs")) == [
        f"dev{i}@example.com" for i in range(3)
    ]


# ---------------------------------------------------------------- daily digest


def berlin_users(settings: Settings) -> dict[str, int]:
    """Users with stored matches: two in Berlin, one in London, one in Berlin with
    nothing new, one in Berlin who opted out of digests."""
    world = backend_world(email="berlin@example.com", timezone="Europe/Berlin")
    with session_scope() as s:
        more = {
            "premium": make.user(s, "vip@example.com", ["backend engineer"], premium=True).id,
            "london": make.user(s, "london@example.com", ["backend engineer"]).id,
            "idle": make.user(s, "idle@example.com", ["nurse"]).id,
            "opted_out": make.user(s, "out@example.com", ["backend engineer"]).id,
        }
        s.add(MailUnsubscribe(user_id=more["opted_out"], category="digest"))
    for name, user_id in more.items():
        set_user(user_id, timezone="Europe/London" if name == "london" else "Europe/Berlin")
    users = {"berlin": world["user"], **more}
    for name, user_id in users.items():
        if name != "idle":
            store_matches(user_id, settings)
    return users


def digests() -> dict[str, str]:
    return {m.to_address: m.idempotency_key for m in outbox("digest")}


def test_the_specifications_event_name_still_starts_the_digest(
    driver: InngestDriver, api: ApiClient, settings: Settings
) -> None:
    """`cron/daily-digest` (seed 003's name) runs the same digest as its renamed event."""
    users = berlin_users(settings)
    runs = driver.send("cron/daily-digest", {"asOf": BERLIN_9_30})
    [run] = of(runs, "daily-digest")
    assert run.status == "completed", run.error
    assert run.output["due"] == 2
    assert set(digests()) == {"berlin@example.com", "vip@example.com"}
    assert digests()["berlin@example.com"] == f"digest:{users['berlin']}:2026-03-02"


def test_digest_at_9_in_the_users_zone_once_per_day_only_with_news(
    driver: InngestDriver, api: ApiClient, settings: Settings
) -> None:
    users = berlin_users(settings)
    runs = driver.send("digest/run.requested", {"asOf": BERLIN_9_30})
    [run] = of(runs, "daily-digest")
    assert run.status == "completed", run.error
    assert run.output["due"] == 2  # London is at 8:30, idle has no matches, one opted out
    assert digests() == {
        "berlin@example.com": f"digest:{users['berlin']}:2026-03-02",
        "vip@example.com": f"digest:{users['premium']}:2026-03-02",
    }
    [mail] = [m for m in outbox("digest") if m.to_address == "berlin@example.com"]
    assert mail.subject.startswith("Your daily jobs digest")
    assert "for 2026-03-02" in mail.body_text

    # Retried step, re-run, another trigger in the same hour: still one per day.
    [user_run, *_] = of(runs, "send-user-digest")
    driver.replay_step(user_run, "send-digest")
    driver.rerun(run)
    driver.send("digest/run.requested", {"asOf": "2026-03-02T08:55:00+00:00"})
    assert len(outbox("digest")) == 2
    assert count(DigestLog) == 2

    # London's 9 AM an hour later: London's digest only.
    driver.send("digest/run.requested", {"asOf": "2026-03-02T09:10:00+00:00"})
    assert set(digests()) == {"berlin@example.com", "vip@example.com", "london@example.com"}

    # Next day in Berlin: nothing new, no digest; a new match, a digest with only it.
    next_day = "2026-03-03T08:30:00+00:00"
    driver.send("digest/run.requested", {"asOf": next_day})
    assert len(outbox("digest")) == 3
    with session_scope() as s:
        make.job(s, make.role(s, "data engineer"), title="Data Engineer", company="Initech")
        s.execute(
            update(UserPreferences)
            .where(UserPreferences.user_id == users["berlin"])
            .values(roles=["backend engineer", "data engineer"])
        )
    store_matches(users["berlin"], settings)
    driver.send("digest/run.requested", {"asOf": next_day})
    [second] = [m for m in outbox("digest") if m.idempotency_key.endswith("2026-03-03")]
    assert second.to_address == "berlin@example.com"
    assert second.meta["jobs"] == 1


def test_the_hourly_cron_picks_the_zones_where_it_is_9_now(
    driver: InngestDriver, settings: Settings
) -> None:
    zones = ["Etc/GMT"] + [f"Etc/GMT{sign}{h}" for h in range(1, 13) for sign in "+-"]
    zones += ["Etc/GMT-13", "Etc/GMT-14"]
    with session_scope() as s:
        role = make.role(s, "backend engineer")
        make.job(s, role)
        ids = {
            z: make.user(s, f"u{i}@example.com", ["backend engineer"]).id
            for i, z in enumerate(zones)
        }
    for zone, user_id in ids.items():
        set_user(user_id, timezone=zone)
        store_matches(user_id, settings)
    run = driver.run_cron("daily-digest")
    assert run.status == "completed", run.error
    as_of = datetime.fromisoformat(run.output["as_of"])
    due = {z for z in zones if as_of.astimezone(ZoneInfo(z)).hour == 9}
    assert due  # whole-hour zones from -12 to +14: one or two are at 9 AM now
    assert set(digests()) == {f"u{zones.index(z)}@example.com" for z in due}


def test_send_scheduled_emails_sends_what_is_due_and_is_safe_to_call_twice(
    driver: InngestDriver, api: ApiClient
) -> None:
    first = api.post("/api/send-scheduled-emails")
    second = api.post("/api/send-scheduled-emails")
    assert first.status == second.status == 202
    assert first.json()["event_ids"] == second.json()["event_ids"]
    assert first.json()["hour"] == datetime.now(UTC).strftime("%Y-%m-%dT%H")
    runs = driver.drain()
    assert len(of(runs, "daily-digest")) == 1  # the second request's event was a duplicate
    [event_id] = first.json()["event_ids"]
    followed = api.get(f"/api/runs/{event_id}").json()
    assert followed["status"] == "completed"
    assert followed["detail"]["due"] == 0
    assert api.post("/api/send-scheduled-emails", headers={"x-api-key": "wrong"}).status == 401
    assert timedelta(0) <= datetime.now(UTC) - datetime.fromisoformat(followed["detail"]["as_of"])


# ---------------------------------------------------------------- pruning


def test_pruning_forgets_run_and_alert_records_older_than_the_retention(
    driver: InngestDriver, settings: Settings
) -> None:
    old = datetime.now(UTC) - timedelta(days=settings.progress_retention_days + 1)
    with session_scope() as s:
        user_id = make.user(s, "pruned@example.com", ["nurse"]).id
        for name, at in (("old", old), ("new", datetime.now(UTC))):
            s.add(NewJobAlert(batch_id=name, user_id=user_id, job_ids=[1], created_at=at))
            s.add(
                RunProgress(
                    run_id=name,
                    function_id="f",
                    status="completed",
                    steps_done=1,
                    detail={},
                    updated_at=at,
                )
            )
    run = driver.run_cron("prune-engagement-records")
    assert run.status == "completed", run.error
    assert run.output == {"progress": 1, "alerts": 1}
    with session_scope() as s:
        assert s.scalars(select(NewJobAlert.batch_id)).all() == ["new"]
        assert s.scalars(select(RunProgress.run_id)).all() == ["new"]
