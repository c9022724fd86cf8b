"""The failure handlers of the two run records (`workflows.run_records`), through
the handler and the driver: a run that fails for good leaves its progress record
failed (found by the id of the event that started it) and its job log FAILED,
each with Inngest's reason."""

from __future__ import annotations

from typing import Any

import inngest
import pytest
from mangum import Mangum
from sqlalchemy import select

from inngest_harness.driver import InngestDriver
from inngest_harness.eventapi import EventAPI
from jobmatch.db.models import JobLog
from jobmatch.db.session import session_scope
from jobmatch.dependencies import Dependencies
from jobmatch.runs import progress
from jobmatch.runs.ref import RunRef
from jobmatch.settings import Settings
from jobmatch.workflows.run_records import job_log_failure, progress_failure
from tests.conftest import TEST_SIGNING_KEY

pytestmark = pytest.mark.e2e


def doomed(deps: Dependencies, fn_id: str, **kw: Any) -> inngest.Function[Any]:
    """A function that fails at once, with `kw`'s on_failure handler."""

    @deps.inngest.create_function(
        fn_id=fn_id, trigger=inngest.TriggerEvent(event=f"test/{fn_id}"), retries=0, **kw
    )
    def run(ctx: inngest.ContextSync) -> None:
        raise inngest.NonRetriableError("the input says no")

    return run


def driver_of(
    deps: Dependencies, event_api: EventAPI, *fns: inngest.Function[Any]
) -> InngestDriver:
    from jobmatch.app import create_app

    handler = Mangum(create_app(deps, functions=list(fns)), lifespan="off")
    return InngestDriver(handler, signing_key=TEST_SIGNING_KEY, event_api=event_api)


def test_a_failed_run_is_failed_in_its_progress_and_its_job_log(
    db: None, settings: Settings, event_api: EventAPI
) -> None:
    deps = Dependencies(settings)
    clients = doomed(deps, "doomed-client-run", on_failure=progress_failure(deps, "doomed"))
    admins = doomed(deps, "doomed-admin-run", on_failure=job_log_failure(deps, "doomed-job"))
    driver = driver_of(deps, event_api, clients, admins)

    runs = driver.send("test/doomed-client-run") + driver.send("test/doomed-admin-run")

    by_fn = {r.function_id: r for r in runs}
    assert by_fn["jobmatch-doomed-client-run"].status == "failed"
    assert by_fn["jobmatch-doomed-client-run-failure"].status == "completed"
    assert by_fn["jobmatch-doomed-client-run-failure"].step_ids == ["record-failure"]
    started_by = by_fn["jobmatch-doomed-client-run"].event["id"]
    with session_scope() as uow:
        record = progress.find(uow, started_by)
    assert record is not None
    assert (record["function_id"], record["status"]) == ("doomed", "failed")
    assert record["run_id"] == by_fn["jobmatch-doomed-client-run"].run_id
    assert "the input says no" in record["detail"]["error"]

    assert by_fn["jobmatch-doomed-admin-run-failure"].step_ids == ["mark-job-log-failed"]
    with session_scope() as uow:
        [log] = uow.scalars(select(JobLog)).all()
    assert (log.job_type, log.status) == ("doomed-job", "FAILED")
    assert log.run_id == by_fn["jobmatch-doomed-admin-run"].run_id
    assert "the input says no" in str(log.error)


def test_progress_bodies_finish_a_run_once_and_prune_it(db: None, settings: Settings) -> None:
    deps = Dependencies(settings)
    ref = RunRef("run-typed", "typed-fn", ("event-typed",))
    last = progress.Finished(ref=ref, step=2, detail={"sent": 3})

    assert progress.finish_run(deps, last) is True
    assert progress.finish_run(deps, last) is False  # a retried step: already recorded
    with session_scope() as uow:
        record = progress.find(uow, "event-typed")
    assert record is not None
    assert (record["status"], record["steps_done"], record["detail"]) == (
        "completed",
        2,
        {"sent": 3},
    )

    assert progress.prune_old(deps, progress.Prune(keep_days=1)) == 0  # updated just now
    assert progress.prune_old(deps, progress.Prune(keep_days=0)) == 1
    with session_scope() as uow:
        assert progress.find(uow, "run-typed") is None
