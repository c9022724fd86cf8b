"""Input that PostgreSQL or JSON cannot hold is refused at the edge with a 4xx whose
body is valid JSON, and it writes nothing and sends nothing: NUL characters in
any text (body, path, query), NaN and Infinity, lone surrogates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch_devkit.apiclient import ApiClient
from tests.security_support import database_state

pytestmark = pytest.mark.e2e

SIGNUP = '{"email": "ana@example.com", "roles": ["backend engineer"]'
JOB = '{"title": "Backend Engineer", "company": "Acme"'
IMPORT = '{"source": "t", "jobs": [%s]}'
NUL = "\\u0000"  # as written in JSON
LONE = "\\ud800"


# (method, path, raw JSON body or None, query or None)
HOSTILE: list[tuple[str, str, str | None, dict[str, str] | None]] = [
    # NUL in text that would reach PostgreSQL
    ("POST", "/api/jobs/import", f'{{"source": "t", "jobs": [{JOB[:-1]}{NUL}"}}]}}', None),
    ("POST", "/api/signup/free", f'{SIGNUP}, "name": "Ana{NUL}"}}', None),
    ("POST", "/api/signup/free", f'{{"email": "ana{NUL}@example.com", "roles": ["x"]}}', None),
    ("POST", "/api/signup/free", f'{{"email": "ana@example.com", "roles": ["x{NUL}"]}}', None),
    ("POST", "/api/match-users", f'{{"emails": ["ana{NUL}@example.com"]}}', None),
    ("POST", "/api/admin/tenders/sync", f'{{"triggeredBy": "cron{NUL}"}}', None),
    ("POST", "/api/admin/tenders/enrich-today", f'{{"adminUserId": "a{NUL}"}}', None),
    ("POST", "/api/admin/roles", f'{{"name": "quantum{NUL} gardener"}}', None),
    ("POST", "/api/admin/roles/1/aliases", f'{{"alias": "pruner{NUL}"}}', None),
    ("POST", "/api/scraper/sessions", f'{{"scraper": "s{NUL}"}}', None),
    ("POST", "/api/keys", f'{{"label": "ats{NUL}"}}', None),
    ("POST", "/api/admin/api-keys", f'{{"scope": "platform", "label": "{LONE}"}}', None),
    (
        "POST",
        "/api/scraper/sessions/00000000-0000-0000-0000-000000000001/complete",
        f'{{"source": "t{NUL}", "jobs": []}}',
        None,
    ),
    ("GET", "/api/admin/job-logs", None, {"jobType": "tender\x00sync"}),
    ("GET", "/api/users/ana%00@example.com/matches", None, None),
    # NaN, Infinity and lone surrogates, which the default error answer echoed
    ("POST", "/api/signup/free", f'{SIGNUP}, "salary_min": NaN}}', None),
    ("POST", "/api/signup/free", f'{SIGNUP}, "experience_years": Infinity}}', None),
    ("POST", "/api/signup/free", f'{SIGNUP}, "name": "{LONE}"}}', None),
    ("POST", "/api/signup/free", f'{SIGNUP}, "{LONE}": 1}}', None),
    ("POST", "/api/jobs/import", f'{{"source": "{LONE}", "jobs": [{JOB}}}]}}', None),
    ("POST", "/api/jobs/import", IMPORT % f'{JOB}, "salary_min": -Infinity}}', None),
    ("POST", "/api/admin/tenders/sync", '{"maxEnrichment": NaN}', None),
    ("POST", "/api/match-users", '{"user_ids": [NaN]}', None),
    ("GET", "/api/users/ana@example.com/matches", None, {"min_score": "NaN"}),
]


@pytest.mark.parametrize(("method", "path", "body", "query"), HOSTILE)
def test_hostile_input_is_a_422_with_a_json_body_and_changes_nothing(
    api: ApiClient,
    event_api: EventAPI,
    method: str,
    path: str,
    body: str | None,
    query: dict[str, str] | None,
) -> None:
    before = database_state()
    headers = {"content-type": "application/json"} if body is not None else None
    response = api.call(method, path, body=body, headers=headers, query=query)
    assert response.status == 422, response.body
    answer: dict[str, Any] = json.loads(response.body.decode("utf-8"))  # strict UTF-8
    assert answer["detail"].startswith("invalid request")
    assert answer["errors"]
    assert database_state() == before
    assert event_api.received() == []


def test_a_body_that_is_not_json_is_a_400(api: ApiClient, event_api: EventAPI) -> None:
    before = database_state()
    for raw in ('{"email": ', "not json", '{"a": 1}}'):
        response = api.call(
            "POST", "/api/signup/free", body=raw, headers={"content-type": "application/json"}
        )
        assert response.status == 400, raw
        assert response.json() == {"detail": "the request body is not valid JSON", "errors": []}
    assert database_state() == before
    assert event_api.received() == []


def test_a_tender_sync_event_with_a_nul_fails_once_without_retries(
    driver: InngestDriver,
) -> None:
    """An event with unstorable text (sent by anyone holding the event key) ends its
    run at once instead of failing every retry while, as a singleton, it blocks the
    real syncs."""
    from jobmatch.db.models import JobLog
    from jobmatch.db.session import session_scope

    driver.sync()
    [run] = [
        r
        for r in driver.send("tender/sync.requested", {"triggeredBy": "x\x00y"})
        if r.function_id.endswith("tender-sync")
    ]
    assert run.status == "failed"
    assert run.attempts == 1
    assert run.error is not None
    assert "NUL" in run.error["message"]
    with session_scope() as session:  # the failure is visible to admins, input not echoed
        [log] = session.query(JobLog).all()
    assert log.status == "FAILED"
    assert log.triggered_by is None
    assert log.error is not None
    assert "\x00" not in log.error


@pytest.mark.parametrize("port", ["", "https", "443x"])
def test_a_bad_forwarded_port_header_is_not_a_5xx(api: ApiClient, port: str) -> None:
    """Mangum reads X-Forwarded-Port with int() before the app runs."""
    from inngest_harness.apigw import http_event, lambda_context

    event = http_event("GET", "/api/health", headers={"x-forwarded-port": port})
    assert api.handler(event, lambda_context())["statusCode"] == 200
