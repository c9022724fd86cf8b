"""Migrations go up and down on the embedded PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

from jobmatch.db import migrate
from jobmatch.db.models import Base
from jobmatch.db.session import get_engine

pytestmark = pytest.mark.integration


def test_migrations_down_to_base_and_up_to_heads(database: str) -> None:
    migrate.downgrade("base")
    assert migrate.current_revisions() == set()
    assert inspect(get_engine()).get_table_names() == ["alembic_version"]

    migrate.upgrade("heads")
    tables = set(inspect(get_engine()).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with get_engine().connect() as conn:
        assert conn.execute(
            text("SELECT extname FROM pg_extension WHERE extname='vector'")
        ).scalar()


def test_models_match_migrations(database: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.fixture
def matches_at_0002(db: None) -> Iterator[None]:
    """Two candidate matches stored before the rename, with raw cosines 0.61 and -0.2."""
    migrate.downgrade("0002_matching")
    with get_engine().begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name) VALUES (1, 'T')"))
        conn.execute(
            text("""
                INSERT INTO candidates (id, tenant_id, first_name, last_name, email, status,
                                        remote_ok)
                VALUES (1, 1, 'A', 'B', 'a@b.test', 'approved', false)
            """)
        )
        for i, similarity in enumerate((0.61, -0.2), start=1):
            conn.execute(
                text("""
                    INSERT INTO jobs (id, job_hash, title, company, location, remote,
                                      description, source, status)
                    VALUES (:i, :h, 'Dev', 'Acme', '', false, '', 'test', 'active')
                """),
                {"i": i, "h": f"h{i}"},
            )
            conn.execute(
                text("""
                    INSERT INTO candidate_job_matches
                        (candidate_id, job_id, tenant_id, match_score, skill_match_score,
                         experience_match_score, location_match_score, salary_match_score,
                         semantic_similarity, match_reasons, is_recommended)
                    VALUES (1, :i, 1, 60, 50, 100, 70, 70, :sim, ARRAY['why'], false)
                """),
                {"i": i, "sim": similarity},
            )
    try:
        yield
    finally:
        migrate.upgrade("heads")


def test_the_rename_keeps_candidate_matches_and_puts_semantic_on_the_0_100_scale(
    matches_at_0002: None,
) -> None:
    migrate.upgrade("heads")
    with get_engine().connect() as conn:
        rows = conn.execute(
            text("SELECT score, semantic_score, reasons FROM candidate_job_matches ORDER BY job_id")
        ).all()
    assert [tuple(r) for r in rows] == [(60.0, 61.0, ["why"]), (60.0, 0.0, ["why"])]

    migrate.downgrade("0002_matching")
    with get_engine().connect() as conn:
        back = conn.execute(
            text("SELECT semantic_similarity FROM candidate_job_matches ORDER BY job_id")
        ).scalars()
        assert list(back) == pytest.approx([0.61, 0.0])


def test_roles_migration_keeps_existing_jobs_matched_and_marks_roleless_ones_pending(
    db: None,
) -> None:
    migrate.downgrade("0004_match_columns")
    try:
        with get_engine().begin() as conn:
            conn.execute(text("INSERT INTO global_roles (id, name) VALUES (7, 'nurse')"))
            for i, role in ((1, 7), (2, None)):
                conn.execute(
                    text("""
                        INSERT INTO jobs (id, job_hash, title, company, location, remote,
                                          description, source, status, normalized_role_id)
                        VALUES (:i, :h, 'Nurse', 'C', '', false, '', 't', 'active', :r)
                    """),
                    {"i": i, "h": f"h{i}", "r": role},
                )
        migrate.upgrade("heads")
        with get_engine().connect() as conn:
            roles = conn.execute(text("SELECT job_id, role_id, method FROM job_roles")).all()
            status = conn.execute(text("SELECT id, role_resolution FROM jobs ORDER BY id")).all()
        assert [tuple(r) for r in roles] == [(1, 7, "alias")]
        assert [tuple(r) for r in status] == [(1, "alias"), (2, "pending")]
    finally:
        migrate.upgrade("heads")
