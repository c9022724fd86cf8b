"""Job import on PostgreSQL: the natural key, dedup (also between concurrent
imports), and title -> role normalisation over the whole sample dataset."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from jobmatch.db.models import Job
from jobmatch.db.session import session_scope
from jobmatch.jobs.importing import JobInput, import_jobs, job_hash

pytestmark = pytest.mark.integration


def _job(index: int, **extra: Any) -> JobInput:
    return replace(
        JobInput(
            source="test",
            title="Backend Engineer",
            company=f"Company {index}",
            location="Berlin",
            external_id=f"x-{index}",
            skills=("python",),
        ),
        **extra,
    )


def test_job_hash_is_source_and_external_id_else_normalised_title_company_location() -> None:
    base = _job(1)
    assert job_hash(base) == job_hash(replace(base, title="Renamed", location="Paris"))
    assert job_hash(base) != job_hash(replace(base, source="other"))
    anonymous = replace(base, external_id=None)
    assert job_hash(anonymous) == job_hash(
        replace(anonymous, title="  backend   ENGINEER ", company="company 1", location="berlin")
    )
    assert job_hash(anonymous) != job_hash(replace(anonymous, location="Paris"))


def test_importing_twice_stores_each_job_once(db: None) -> None:

    batch = [_job(i) for i in range(5)]
    with session_scope() as session:
        first = import_jobs(session, batch)
    with session_scope() as session:
        second = import_jobs(session, [*batch[3:], _job(5), _job(5)])
        assert session.scalar(select(func.count()).select_from(Job)) == 6
    assert (len(first.created_ids), first.duplicates) == (5, 0)
    # Two old jobs and one new job sent twice: only the new one is created.
    assert (len(second.created_ids), second.duplicates) == (1, 3)
    assert set(first.created_ids).isdisjoint(second.created_ids)


def test_concurrent_imports_of_one_batch_create_each_job_once(database: str) -> None:

    engine = create_engine(database, pool_size=2)
    batch = [_job(100 + i) for i in range(50)]
    created: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        with Session(engine) as session:
            barrier.wait()
            result = import_jobs(session, batch)
            session.commit()
            created.extend(result.created_ids)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    try:
        assert sorted(created) == sorted(set(created))
        assert len(created) == 50
    finally:
        with session_scope() as session:
            session.execute(Job.__table__.delete())
