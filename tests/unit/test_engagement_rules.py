"""Pure rules of engagement: event data as the platform sends it (good and bad),
unsubscribe tokens, email templates, and how learnt affinity scores."""

from __future__ import annotations

from typing import Any

import inngest
import pytest

from jobmatch.events.engagement import (
    PUBLIC_EVENTS,
    JobsNewBatch,
    JobViewed,
    NotificationEmail,
    PreferenceUpdated,
    UserRegistered,
)
from jobmatch.mail.templates import CATEGORIES, JobLine, render
from jobmatch.mail.unsubscribe import InvalidTokenError, UnsubscribeLinks
from jobmatch.matching.scoring import (
    AFFINITY_CAP,
    JobFeatures,
    ProfileFeatures,
    affinity_component,
    score_batch,
    signal_keys,
)


@pytest.mark.parametrize(("given", "stored"), [(123, 123), ("123", 123), (" 42 ", 42)])
def test_user_ids_are_numeric_in_either_form(given: Any, stored: int) -> None:
    event = UserRegistered.parse({"userId": given, "email": "Ana@Example.com"})
    assert (event.user_id, event.email) == (stored, "ana@example.com")
    assert event.to_event().data["userId"] == str(stored)


@pytest.mark.parametrize("given", ["user_123", "", "12.5", True, 0, -4, 2**31, None, [1]])
def test_other_user_id_forms_fail_for_good(given: Any) -> None:
    with pytest.raises(inngest.NonRetriableError, match="userId"):
        JobViewed.parse({"userId": given, "jobId": 1, "duration": 20})


@pytest.mark.parametrize(
    "email", ["Ana <ana@example.com>", "ana@localhost", "ana example.com", "a@b@c.com", 42]
)
def test_registration_needs_a_bare_email_address(email: Any) -> None:
    with pytest.raises(inngest.NonRetriableError, match="email"):
        UserRegistered.parse({"userId": 1, "email": email})


def test_preference_fields_take_the_platforms_names_and_checked_values() -> None:
    event = PreferenceUpdated.parse(
        {"userId": "7", "field": "preferred_countries", "value": ["de", " nl ", "DE"]}
    )
    assert (event.column, event.value) == ("countries", ["DE", "NL"])
    roles = PreferenceUpdated.parse(
        {"userId": 7, "field": "roles", "value": ["Sr. Backend Dev (m/f/d)  - Remote", ""]}
    )
    assert roles.value == ["sr. backend dev (m/f/d) - remote"]
    assert (
        PreferenceUpdated.parse({"userId": 7, "field": "salary_min", "value": None}).value is None
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("favourite_colour", "blue"),
        ("countries", ["Germany"]),
        ("skills", "python"),
        ("skills", ["x" * 121]),
        ("remote_ok", "yes"),
        ("salary_min", -1),
        ("experience_years", 61),
        ("timezone", "Mars/Olympus_Mons"),
    ],
)
def test_bad_preference_values_fail_for_good(field: str, value: Any) -> None:
    with pytest.raises(inngest.NonRetriableError):
        PreferenceUpdated.parse({"userId": 7, "field": field, "value": value})


def test_a_batch_is_the_same_batch_whatever_the_order_of_its_ids() -> None:
    one = JobsNewBatch.parse({"jobIds": [3, 1, 2, 2], "source": "ashby"})
    assert one.batch_id == JobsNewBatch.parse({"jobIds": [1, 2, 3], "source": "ashby"}).batch_id
    assert one.batch_id != JobsNewBatch.parse({"jobIds": [1, 2, 3], "source": "lever"}).batch_id
    with pytest.raises(inngest.NonRetriableError):
        JobsNewBatch.parse({"jobIds": [], "source": "ashby"})


def test_job_emails_need_jobs_and_types_are_the_four() -> None:
    base = {"userId": 1, "email": "a@example.com"}
    with pytest.raises(inngest.NonRetriableError, match="jobIds"):
        NotificationEmail.parse(base | {"type": "new_jobs"})
    with pytest.raises(inngest.NonRetriableError, match="type"):
        NotificationEmail.parse(base | {"type": "newsletter"})
    assert set(CATEGORIES) == {"welcome", "new_jobs", "digest", "match_ready"}


def test_the_event_route_accepts_the_platforms_engagement_events_only() -> None:
    assert set(PUBLIC_EVENTS) == {
        "user/registered",
        "job/applied",
        "job/viewed",
        "job/feedback",
        "preference/updated",
        "notification/email",
        "jobs/new-batch",
    }


def test_unsubscribe_tokens_verify_only_as_issued() -> None:
    links = UnsubscribeLinks("https://api.example.com/", "s3cret")
    token = links.token(12, "digest")
    assert links.url(12, "digest") == f"https://api.example.com/api/unsubscribe?token={token}"
    opt = links.verify(token)
    assert (opt.user_id, opt.category) == (12, "digest")
    for forged in (
        token.replace("12.", "13.", 1),  # someone else
        token.replace(".digest.", ".all.", 1),  # a wider opt-out
        UnsubscribeLinks("https://api.example.com", "other").token(12, "digest"),
        "12.newsletter.abc",
    ):
        with pytest.raises(InvalidTokenError):
            links.verify(forged)


def test_templates_render_text_and_escaped_html_for_each_type() -> None:
    jobs = [
        JobLine("Sr. Backend Dev (m/f/d) <Remote>", "Acme & Co", "Berlin", "https://x.io/?a=1&b=2")
    ]
    for kind in CATEGORIES:
        rendered = render(kind, name="Ana", jobs=jobs, digest_date="2026-03-02")
        assert rendered.text.startswith("Hello Ana,")
        assert rendered.html.startswith("<!doctype html>")
        assert "<Remote>" not in rendered.html
    html = render("new_jobs", name=None, jobs=jobs).html
    assert "Sr. Backend Dev (m/f/d) &lt;Remote&gt;" in html
    assert 'href="https://x.io/?a=1&amp;b=2"' in html
    assert "Acme &amp; Co" in html
    with pytest.raises(ValueError, match="no email template"):
        render("newsletter", name=None, jobs=[])


def job(job_id: int, company: str, skills: tuple[str, ...], role: int = 1) -> JobFeatures:
    return JobFeatures(
        job_id, f"h{job_id}", "Backend Engineer", company, skills, "Berlin", "DE", True,
        60_000, 80_000, 3, role,
    )  # fmt: skip


def profile(affinity: dict[str, float], excluded: tuple[int, ...] = ()) -> ProfileFeatures:
    return ProfileFeatures.build(
        1,
        skills=["python", "sql"],
        experience_years=5,
        locations=["Berlin"],
        countries=["DE"],
        remote_ok=True,
        salary_expectation=60_000,
        role_ids=[1],
        affinity=affinity,
        excluded_job_ids=excluded,
    )


def test_affinity_moves_a_score_by_the_users_weights_within_the_cap() -> None:
    globex = job(1, "  Globex ", ("python", "kafka"))
    assert signal_keys(globex) == [
        ("skill", "kafka"),
        ("skill", "python"),
        ("role", "1"),
        ("company", "globex"),
    ]
    liked = profile({"company:globex": 3.0, "skill:kafka": 1.5})
    assert affinity_component(liked, globex) == 4.5
    assert affinity_component(profile({"company:globex": 50.0}), globex) == AFFINITY_CAP
    assert affinity_component(profile({"company:globex": -50.0}), globex) == -AFFINITY_CAP
    [plain] = score_batch({1: profile({})}, {1: globex}, [(1, 1, 0.5)])
    [boosted] = score_batch({1: liked}, {1: globex}, [(1, 1, 0.5)])
    assert boosted.score == pytest.approx(plain.score + 4.5)
    assert "Like jobs you applied to, liked or looked at closely" in boosted.reasons


def test_an_excluded_job_is_not_scored_for_that_profile() -> None:
    jobs = {1: job(1, "Acme", ("python",)), 2: job(2, "Acme", ("python",))}
    results = score_batch({1: profile({}, excluded=(2,))}, jobs, [(1, 1, 0.6), (1, 2, 0.6)])
    assert [r.job_id for r in results] == [1]
