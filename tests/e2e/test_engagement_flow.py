"""Flow control of the engagement and email functions, enforced: the driver reads
what each function registers at sync and runs work concurrently in virtual time,
so each test below fails when its setting is removed from the function (or keyed
differently). The first test shows the registered configuration itself.

- concurrency keyed by user: one user's signal writes never overlap, other users' do;
- throttle per user on notification emails: a burst waits, other users do not;
- rate limit per user on notification emails: beyond the limit, emails are dropped;
- debounce per user on re-ranking: ten quick preference edits, one re-rank;
- priority: premium users' digests start before queued free ones;
- batching: a burst of views is one run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from inngest_harness.catalog import new_event
from inngest_harness.driver import InngestDriver
from inngest_harness.flow import Batch, Concurrency, Debounce, RateLimit, Throttle
from jobmatch.db.models import UserPreferences
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.settings import Settings
from tests import matching_data as make
from tests.engagement_data import most_at_once, outbox

pytestmark = pytest.mark.e2e

USER = "event.data.userId"


def two_users_and_jobs(jobs: int = 3) -> tuple[int, int, list[int]]:
    with session_scope() as s:
        role = make.role(s, "backend engineer", "python developer")
        job_ids = [make.job(s, role, company=f"Firm {i}").id for i in range(jobs)]
        a = make.user(s, "a@example.com", ["backend engineer"]).id
        b = make.user(s, "b@example.com", ["backend engineer"], premium=True).id
    return a, b, job_ids


def test_registered_configuration_shows_each_flow_control_setting(
    driver: InngestDriver, settings: Settings
) -> None:
    driver.sync()
    per_user = (Concurrency(settings.user_concurrency, USER),)
    for fn in (
        "register-user",
        "record-job-application",
        "record-job-feedback",
        "apply-preference-update",
        "send-user-digest",
    ):
        assert driver.function(fn).flow.concurrency == per_user, fn
    assert driver.function("rerank-user-matches").flow.debounce == Debounce(
        settings.rerank_debounce_seconds, USER, settings.rerank_debounce_timeout_seconds
    )
    assert driver.function("record-job-views").flow.batch == Batch(
        settings.view_batch_size, settings.view_batch_seconds
    )
    email = driver.function("send-notification-email").flow
    assert email.throttle == Throttle(
        settings.email_throttle_per_user, settings.email_throttle_seconds, 0, USER
    )
    assert email.rate_limit == RateLimit(
        settings.email_rate_limit_per_user, settings.email_rate_limit_seconds, USER
    )
    assert driver.function("send-new-job-alerts").flow.concurrency == (
        Concurrency(settings.alert_send_concurrency),
    )
    assert driver.function("send-user-digest").flow.priority == (
        "event.data.premium == true ? 120 : 0"
    )
    assert driver.function("daily-digest").crons == ["0 * * * *"]


def test_one_users_signal_writes_never_overlap_while_other_users_run(
    driver: InngestDriver,
) -> None:
    a, b, jobs = two_users_and_jobs()
    events = [
        new_event("job/applied", {"userId": user, "jobId": job}) for job in jobs for user in (a, b)
    ]
    runs = driver.send_events(events)
    applied = [r for r in runs if r.function_id == "jobmatch-record-job-application"]
    assert [r.status for r in applied] == ["completed"] * 6
    by_user = {u: [r for r in applied if r.event["data"]["userId"] == u] for u in (a, b)}
    assert most_at_once(by_user[a]) == 1  # one user: one at a time
    assert most_at_once(by_user[b]) == 1
    assert most_at_once(applied) == 2  # two users: side by side


def test_a_burst_of_one_users_emails_is_throttled_and_other_users_are_not_held(
    driver: InngestDriver, settings: Settings
) -> None:
    a, b, _ = two_users_and_jobs()
    data = [{"userId": a, "email": "a@example.com", "type": "welcome"}] * 4
    data.append({"userId": b, "email": "b@example.com", "type": "welcome"})
    runs = driver.send_events([new_event("notification/email", d) for d in data])
    sent = [r for r in runs if r.function_id == "jobmatch-send-notification-email"]
    assert [r.status for r in sent] == ["completed"] * 5  # throttled: delayed, none dropped
    starts = sorted(r.started_at for r in sent if r.event["data"]["userId"] == a)
    gap = settings.email_throttle_seconds / settings.email_throttle_per_user
    assert [round(t2 - t1) for t1, t2 in itertools.pairwise(starts)] == [gap] * 3
    [other] = [r for r in sent if r.event["data"]["userId"] == b]
    assert other.started_at == 0  # another user's email does not wait for a's
    assert len(outbox("welcome")) == 5


def test_emails_beyond_a_users_rate_limit_are_dropped(
    settings: Settings, driver_for: Callable[[Dependencies], InngestDriver]
) -> None:
    driver = driver_for(Dependencies(settings.model_copy(update={"email_rate_limit_per_user": 2})))
    a, b, _ = two_users_and_jobs()
    data = [{"userId": a, "email": "a@example.com", "type": "welcome"}] * 4
    data.append({"userId": b, "email": "b@example.com", "type": "welcome"})
    runs = driver.send_events([new_event("notification/email", d) for d in data])
    statuses = sorted(
        (r.event["data"]["userId"], r.status, r.reason)
        for r in runs
        if r.function_id == "jobmatch-send-notification-email"
    )
    assert statuses == [
        (a, "completed", None),
        (a, "completed", None),
        (a, "skipped", "rate limit"),
        (a, "skipped", "rate limit"),
        (b, "completed", None),
    ]
    assert sorted(m.to_address for m in outbox()) == ["a@example.com"] * 2 + ["b@example.com"]


def test_ten_quick_preference_edits_cause_one_rerank_with_every_edit_applied(
    driver: InngestDriver, settings: Settings
) -> None:
    a, b, _ = two_users_and_jobs()
    countries = [["DE"], ["DE", "NL"], ["DE", "NL", "PT"]]
    edits: list[dict[str, Any]] = [
        {"field": "roles", "value": ["backend engineer", "python developer"]},
        {"field": "skills", "value": ["python", "go"]},
        *({"field": "preferred_countries", "value": c} for c in countries),
        {"field": "salary_min", "value": 65_000},
        {"field": "remote_ok", "value": False},
        {"field": "experience_years", "value": 6},
        {"field": "locations", "value": ["Berlin", "Hamburg"]},
        {"field": "timezone", "value": "Europe/Berlin"},
    ]
    assert len(edits) == 10
    for edit in edits:  # one every 2 s: each inside the previous one's quiet period
        driver.enqueue("preference/updated", {"userId": str(a), **edit})
        driver.advance(2)
    driver.enqueue("preference/updated", {"userId": b, "field": "skills", "value": ["sql"]})
    driver.run_until_idle()

    applied = driver.runs_of("apply-preference-update", "completed")
    assert len(applied) == 11  # every edit applied, each by its own run
    reranks = driver.runs_of("rerank-user-matches")
    by_user = sorted((str(r.event["data"]["userId"]), r.status) for r in reranks)
    assert by_user.count((str(a), "debounced")) == 9
    assert (str(a), "completed") in by_user
    assert (str(b), "completed") in by_user  # b's edit is not folded into a's re-rank
    matching = driver.runs_of("perform-ai-matching", "completed")
    assert sorted(int(r.event["data"]["userId"]) for r in matching) == [a, b]
    with session_scope() as s:
        prefs = s.get(UserPreferences, a)
        assert prefs is not None
        assert prefs.roles == ["backend engineer", "python developer"]  # the first edit too
        assert (prefs.countries, prefs.salary_min, prefs.remote_ok) == (
            ["DE", "NL", "PT"],
            65_000,
            False,
        )
        assert prefs.locations == ["berlin", "hamburg"]


def test_premium_digests_start_before_queued_free_ones(
    driver: InngestDriver, settings: Settings
) -> None:
    with session_scope() as s:
        role = make.role(s, "backend engineer")
        make.job(s, role)
        free = [make.user(s, f"free{i}@example.com", ["backend engineer"]).id for i in range(3)]
        vip = [
            make.user(s, f"vip{i}@example.com", ["backend engineer"], premium=True).id
            for i in range(2)
        ]
    digest = "digest/user.requested"
    day = "2026-03-02"
    driver.account_concurrency = 1  # one run at a time, as under a plan's limit: work queues
    driver.enqueue_events([new_event(digest, {"userId": u, "digestDate": day}) for u in free])
    driver.advance(1)  # the first free digest has started; two are queued
    driver.enqueue_events(
        [new_event(digest, {"userId": u, "digestDate": day, "premium": True}) for u in vip]
    )
    driver.run_until_idle()
    runs = sorted(driver.runs_of("send-user-digest"), key=lambda r: r.start_order or 0)
    assert [r.status for r in runs] == ["completed"] * 5
    assert [r.event["data"]["userId"] for r in runs] == [free[0], *vip, free[1], free[2]]


def test_a_burst_of_views_is_one_run_and_the_batch_size_bounds_it(
    driver: InngestDriver,
    settings: Settings,
    driver_for: Callable[[Dependencies], InngestDriver],
) -> None:
    a, b, jobs = two_users_and_jobs()
    views = [
        new_event("job/viewed", {"userId": (a, b)[i % 2], "jobId": jobs[i % 3], "duration": 30})
        for i in range(30)
    ]
    driver.send_events(views)
    assert len(driver.runs_of("record-job-views")) == 1
    small = driver_for(Dependencies(settings.model_copy(update={"view_batch_size": 10})))
    small.send_events([dict(v, id=f"{v['id']}-again") for v in views])
    assert len(small.runs_of("record-job-views")) == 3
