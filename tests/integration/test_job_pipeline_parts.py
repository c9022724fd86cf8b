"""The job pipeline's database work on PostgreSQL: the scraper queue under
concurrent claims, stale sessions, what a board fetch marks, expiry and cleanup."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jobmatch.db.models import (
    CandidateJobMatch,
    Job,
    RoleScrapeQueue,
    ScraperSession,
    UserMatch,
)
from jobmatch.db.session import session_scope
from jobmatch.ingestion import store as boards
from jobmatch.retention import store as retention
from jobmatch.scraping import store as queue_store
from tests import matching_data as make
from tests.jobboards_support import add_company

pytestmark = pytest.mark.integration

TODAY = date.today()


@pytest.fixture
def engine(database: str, db: None) -> Iterator[Engine]:
    """A second engine, so two transactions can be open at once (the app's has one
    connection)."""
    second = create_engine(database, pool_size=4)
    yield second
    second.dispose()


def roles(count: int) -> list[int]:
    """Roles, queued as the schedules queue new ones."""
    with session_scope() as session:
        ids = [make.role(session, f"role {i}") for i in range(count)]
        assert queue_store.enqueue_missing_roles(session) == count
        return ids


def test_a_claim_skips_a_role_another_scraper_holds(engine: Engine) -> None:
    first_role, second_role = roles(2)
    with Session(engine) as a, Session(engine) as b:
        held = queue_store.claim_next(a, "scraper-a")  # A's transaction stays open: row locked
        b.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail the test
        other = queue_store.claim_next(b, "scraper-b")
        b.commit()
        a.commit()
    assert held is not None
    assert other is not None
    assert (held.role_id, other.role_id) == (first_role, second_role)
    with Session(engine) as c:
        assert queue_store.claim_next(c, "scraper-c") is None  # both claimed: nothing left
        owners = dict(c.execute(select(RoleScrapeQueue.role_id, RoleScrapeQueue.session_id)).all())
    assert owners == {first_role: held.session_id, second_role: other.session_id}


def test_scrapers_claiming_at_once_never_get_the_same_role(engine: Engine) -> None:
    roles(20)
    claimed: list[int] = []
    barrier = threading.Barrier(4)
    lock = threading.Lock()

    def scraper(name: str) -> None:
        barrier.wait()
        for _ in range(5):
            with Session(engine) as session:
                claim = queue_store.claim_next(session, name)
                session.commit()
            assert claim is not None
            with lock:
                claimed.append(claim.role_id)

    threads = [threading.Thread(target=scraper, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 20
    assert len(set(claimed)) == 20


def test_a_silent_session_is_reset_and_its_role_queued_again(db: None) -> None:
    roles(2)
    with session_scope() as session:
        silent = queue_store.claim_next(session, "a")
        alive = queue_store.claim_next(session, "b")
    assert silent is not None
    assert alive is not None
    with session_scope() as session:
        session.execute(
            text(
                "UPDATE scraper_sessions SET last_heartbeat_at = now() - interval '2 hours' "
                "WHERE id = :id"
            ),
            {"id": silent.session_id},
        )
    with session_scope() as session:
        assert queue_store.reset_stale(session, 30, 100) == 1
    with session_scope() as session:
        assert queue_store.reset_stale(session, 30, 100) == 0  # twice: nothing more
        states = dict(session.execute(select(ScraperSession.id, ScraperSession.status)).all())
        assert states == {silent.session_id: "stale", alive.session_id: "active"}
        row = session.get(RoleScrapeQueue, silent.role_id)
        assert row is not None
        assert (row.status, row.session_id) == ("queued", None)
        # A late heartbeat does not revive it; its role is claimable again.
        beat = queue_store.heartbeat(session, silent.session_id)
        assert beat is not None
        assert beat.status == "stale"
        again = queue_store.claim_next(session, "c")
        assert again is not None
        assert again.role_id == silent.role_id


def _job(session: Session, **fields: object) -> Job:
    return make.job(session, None, embed=False, **fields)


def test_a_fetch_stamps_what_it_saw_closes_what_left_and_reopens_what_came_back(
    db: None,
) -> None:
    company = add_company("lever", "acme")
    with session_scope() as session:
        a, b = _job(session, company_id=company), _job(session, company_id=company)
        other = _job(session)  # another board's or the scraper's: untouched
        hashes = {a.id: a.job_hash, b.id: b.job_hash}
    with session_scope() as session:
        boards.mark_seen(session, company, [hashes[a.id]])
        assert boards.close_vanished(session, company) == 1
    with session_scope() as session:
        status = dict(session.execute(select(Job.id, Job.status)).all())
        assert status == {a.id: "active", b.id: "closed", other.id: "active"}
        boards.mark_seen(session, company, list(hashes.values()))
        assert boards.close_vanished(session, company) == 0
    with session_scope() as session:
        row = session.get(Job, b.id)
        assert row is not None
        assert (row.status, row.vanished_at) == ("active", None)


def _ages(session: Session) -> dict[str, Job]:
    """Jobs of every age case; the key says whether it must expire."""
    old, young = TODAY - timedelta(days=45), TODAY - timedelta(days=3)
    made = {
        "old-posted": _job(session, posted_date=old),
        "old-import": _job(session, posted_date=None),
        "closed-old": _job(session, posted_date=old, status="closed"),
        "young": _job(session, posted_date=young),
        "young-unknown": _job(session, posted_date=None),
    }
    session.execute(
        text("UPDATE jobs SET imported_at = now() - interval '40 days' WHERE id = :id"),
        {"id": made["old-import"].id},
    )
    return made


def test_expiry_takes_the_earlier_of_posted_and_imported_and_removes_matches(db: None) -> None:
    with session_scope() as session:
        made = _ages(session)
        tenant = make.tenant(session, "T")
        person = make.candidate(session, tenant, [])
        for job in made.values():
            session.add(
                CandidateJobMatch(
                    candidate_id=person.id, job_id=job.id, tenant_id=tenant, **_scores()
                )
            )
            session.add(
                UserMatch(
                    user_email="u@example.com", job_hash=job.job_hash, method="rules", **_scores()
                )
            )
    with session_scope() as session:
        expired, removed = retention.expire_jobs(session, 30, 2)
        assert (expired, removed) == (2, 4)
    with session_scope() as session:
        assert retention.expire_jobs(session, 30, 2) == (1, 2)
        assert retention.expire_jobs(session, 30, 2) == (0, 0)
        status = {k: session.get(Job, j.id).status for k, j in made.items()}  # type: ignore[union-attr]
        assert status == {
            "old-posted": "expired",
            "old-import": "expired",
            "closed-old": "expired",
            "young": "active",
            "young-unknown": "active",
        }
        left = session.scalars(select(CandidateJobMatch.job_id)).all()
        assert sorted(left) == sorted([made["young"].id, made["young-unknown"].id])
        assert session.scalar(select(func.count()).select_from(UserMatch)) == 2


def _scores() -> dict[str, float]:
    names = ("score", "skill_score", "experience_score", "location_score", "salary_score")
    return {**dict.fromkeys(names, 60.0), "semantic_score": 50.0}


def test_cleanup_deletes_old_expired_jobs_and_unused_matches_only(db: None) -> None:
    with session_scope() as session:
        long_gone = _job(session, status="expired")
        recently = _job(session, status="expired")
        live = _job(session)
        make.user(session, "kept@example.com", [])
        session.execute(
            text("UPDATE jobs SET expired_at = now() - make_interval(days => :d) WHERE id = :id"),
            [{"d": 120, "id": long_gone.id}, {"d": 5, "id": recently.id}],
        )
        rows = [
            ("kept@example.com", live.job_hash, 0),  # a stored user's match: kept
            ("kept@example.com", "f" * 64, 0),  # its job no longer exists
            ("inline@example.com", live.job_hash, 5),  # inline preferences, recent: kept
            ("inline@example.com", recently.job_hash, 200),  # inline, past retention
            ("kept@example.com", long_gone.job_hash, 0),  # goes with its job
        ]
        for email, job_hash, age in rows:
            match = UserMatch(user_email=email, job_hash=job_hash, method="rules", **_scores())
            session.add(match)
            session.flush()
            session.execute(
                text(
                    "UPDATE user_matches SET updated_at = now() - make_interval(days => :d) "
                    "WHERE id = :id"
                ),
                {"d": age, "id": match.id},
            )
    with session_scope() as session:
        assert retention.delete_expired_jobs(session, 90, 100) == 1
        last, scanned, deleted = retention.delete_unused_matches(session, 90, 0, 100)
        assert (scanned, deleted) == (4, 2)
        assert retention.delete_unused_matches(session, 90, last or 0, 100)[1] == 0
    with session_scope() as session:
        assert set(session.scalars(select(Job.id))) == {recently.id, live.id}
        kept = {tuple(r) for r in session.execute(select(UserMatch.user_email, UserMatch.job_hash))}
        assert kept == {
            ("kept@example.com", live.job_hash),
            ("inline@example.com", live.job_hash),
        }
