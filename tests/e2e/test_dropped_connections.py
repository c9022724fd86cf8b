"""Connections that drop: the backend of an in-flight request, and of an in-flight
step, is terminated (`pg_terminate_backend`, as a proxy failover or a restarted
instance would end it). The request answers 503 in the one error shape and the
step fails and is retried; neither leaves a row of its transaction behind, and
the next call works on a new connection.

The cut is made by the database itself, at a chosen point: a trigger on the table
the request or step writes terminates its own backend, once (a sequence counts),
after the statement has written its rows and before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from inngest_harness.driver import InngestDriver
from jobmatch.db.session import get_engine, session_scope
from jobmatch_devkit import sample_data
from jobmatch_devkit.apiclient import ApiClient

pytestmark = pytest.mark.e2e

JOBS = [
    {"title": "Backend Engineer", "company": f"Co {i}", "skills": ["python", "sql"]}
    for i in range(4)
]
SIGNUP = {"email": "ana.almeida@example.com", "roles": ["backend engineer"], "skills": ["python"]}


def _sql(*statements: str) -> None:
    with get_engine().begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@pytest.fixture
def cut_once(db: None) -> Iterator[Callable[[str], None]]:
    """`cut_once(table)`: the next statement inserting into `table` ends its own
    connection, mid-transaction; later ones go through."""
    tables: list[str] = []

    def arm(table: str) -> None:
        tables.append(table)
        _sql(
            "CREATE SEQUENCE IF NOT EXISTS test_cuts",
            """CREATE OR REPLACE FUNCTION test_cut_once() RETURNS trigger AS $$
               BEGIN
                 IF nextval('test_cuts') = 1 THEN
                   PERFORM pg_terminate_backend(pg_backend_pid());
                 END IF;
                 RETURN NULL;
               END $$ LANGUAGE plpgsql""",
            f"CREATE TRIGGER test_cut_once AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION test_cut_once()",
        )

    yield arm
    for table in tables:
        _sql(f"DROP TRIGGER IF EXISTS test_cut_once ON {table}")
    _sql("DROP FUNCTION IF EXISTS test_cut_once()", "DROP SEQUENCE IF EXISTS test_cuts")


def _count(model: type) -> int:
    with session_scope() as uow:
        return int(uow.scalar(select(func.count()).select_from(model)) or 0)


def test_a_request_whose_connection_is_cut_answers_503_and_writes_nothing(
    api: ApiClient, cut_once: Callable[[str], None]
) -> None:
    from jobmatch.db.models import Job, OutboxEvent

    cut_once("jobs")
    cut = api.post("/api/jobs/import", {"source": "t", "batch_id": "b1", "jobs": JOBS})
    assert cut.status == 503, cut.body
    assert set(cut.json()) == {"detail", "errors"}
    assert "retry the same request" in cut.json()["detail"]
    assert cut.headers.get("retry-after") == "1"
    assert (_count(Job), _count(OutboxEvent)) == (0, 0)  # the jobs went with the connection

    again = api.post("/api/jobs/import", {"source": "t", "batch_id": "b1", "jobs": JOBS})
    assert again.status == 201, again.body
    assert (len(again.json()["job_ids"]), _count(Job), _count(OutboxEvent)) == (4, 4, 2)


def test_a_step_whose_connection_is_cut_is_retried_and_saves_once(
    api: ApiClient, driver: InngestDriver, cut_once: Callable[[str], None]
) -> None:
    from jobmatch.db.models import UserMatch

    with session_scope() as uow:
        sample_data.load_roles(uow)
    assert api.post("/api/jobs/import", {"source": "t", "jobs": JOBS}).status == 201
    driver.drain()
    assert ApiClient(driver.handler).post("/api/signup/free", SIGNUP).status == 201
    saved_by_signup = _count(UserMatch)
    _sql("DELETE FROM user_matches")  # what the durable run saves is what we look at
    cut_once("user_matches")

    [run] = [r for r in driver.drain() if r.function_id.endswith("perform-ai-matching")]
    assert run.status == "completed", run.error
    assert run.retries == 1  # the save step failed once, on the cut connection
    assert _count(UserMatch) == saved_by_signup  # saved by the retry, once


def test_a_signup_cut_after_its_user_is_saved_is_finished_by_the_clients_retry(
    api: ApiClient, driver: InngestDriver, cut_once: Callable[[str], None]
) -> None:
    """The sync signup commits the user (and its recorded run) before it saves the
    immediate matches; a cut there answers 503, and the client's retry is the same
    signup (not a change to confirm): it saves the matches, mails nobody."""
    from jobmatch.db.models import OutboxMessage, User, UserMatch

    with session_scope() as uow:
        sample_data.load_roles(uow)
    assert api.post("/api/jobs/import", {"source": "t", "jobs": JOBS}).status == 201
    driver.drain()
    public = ApiClient(driver.handler)
    cut_once("user_matches")
    assert public.post("/api/signup/free", SIGNUP).status == 503
    assert (_count(User), _count(UserMatch)) == (1, 0)

    retry = public.post("/api/signup/free", SIGNUP)
    assert retry.status == 201, retry.body
    assert _count(UserMatch) == len(retry.json()["matches"]) > 0
    assert _count(OutboxMessage) == 0  # no confirmation link for one's own signup


def test_a_connection_that_died_between_requests_is_replaced_unseen(
    api: ApiClient, database: str
) -> None:
    matches = "/api/users/nobody@example.com/matches"
    assert api.get(matches).status == 404
    with session_scope() as uow:  # the one connection the app's pool holds
        pid = uow.scalar(text("SELECT pg_backend_pid()"))
    admin = create_engine(database, poolclass=NullPool)
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert api.get(matches).status == 404  # not a 503: the dead one was replaced
