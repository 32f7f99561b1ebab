"""The service's migrations create what the declarations say and go down cleanly: api_tokens
(0002), dashboard_sessions and service_jobs (0003), and the columns that let another process
take a job over (0004), the finished steps of unfinished jobs (0005), the index on the audit
log's actor (0006) and the index on the lower-case patient id (0007)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from immunoprecise.registry import current_revision, downgrade, head_revision, upgrade
from immunoprecise.registry.database import open_migrated_engine
from immunoprecise.registry.schema import Base

HEAD = "0007"


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


# SQLite cannot reflect the expression index on lower(patients.pseudonym) (migration 0007), so
# autogenerate skips it there; tests/registry/test_registry_migrations.py checks it directly.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_api_tokens_migration_matches_the_declarations(db_url: str) -> None:
    assert head_revision() == HEAD
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        inspector = sa.inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("api_tokens")}
        uniques = [u["column_names"] for u in inspector.get_unique_constraints("api_tokens")]
    finally:
        engine.dispose()
    assert diff == []
    assert set(columns) == {
        "id", "name", "role", "token_sha256", "created_by", "created_at", "revoked_at"
    }  # fmt: skip
    assert columns["revoked_at"]["nullable"]
    assert not columns["token_sha256"]["nullable"]
    assert ["name"] in uniques
    assert ["token_sha256"] in uniques


def test_api_tokens_migration_goes_down_and_up(db_url: str) -> None:
    assert "api_tokens" in _tables(db_url)
    assert downgrade(db_url, "0001") == "0001"
    assert "api_tokens" not in _tables(db_url)
    assert "patients" in _tables(db_url)
    assert upgrade(db_url) == HEAD
    assert current_revision(db_url) == HEAD
    assert "api_tokens" in _tables(db_url)


def test_a_0001_registry_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO patients (pseudonym, created_at) VALUES ('P1', :t)"),
                {"t": "2025-01-01 00:00:00"},
            )
    finally:
        engine.dispose()
    assert upgrade(url) == HEAD
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT pseudonym FROM patients")).scalar() == "P1"
    finally:
        engine.dispose()


def test_service_state_migration_creates_sessions_and_jobs(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        sessions = {c["name"]: c for c in inspector.get_columns("dashboard_sessions")}
        jobs = {c["name"]: c for c in inspector.get_columns("service_jobs")}
        session_key = inspector.get_pk_constraint("dashboard_sessions")["constrained_columns"]
    finally:
        engine.dispose()
    assert set(sessions) == {"session_sha256", "name", "role", "csrf", "created_at", "last_seen"}
    assert session_key == ["session_sha256"]
    assert {"id", "owner", "status", "progress", "heartbeat_at", "result_id"} <= set(jobs)
    assert not jobs["heartbeat_at"]["nullable"]
    assert jobs["result_id"]["nullable"]


def test_service_state_migration_goes_down_and_up(db_url: str) -> None:
    assert downgrade(db_url, "0002") == "0002"
    assert {"dashboard_sessions", "service_jobs"}.isdisjoint(_tables(db_url))
    assert "api_tokens" in _tables(db_url)
    assert upgrade(db_url) == HEAD
    assert {"dashboard_sessions", "service_jobs", "api_tokens"} <= _tables(db_url)


def _job_columns(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        return {c["name"]: c for c in sa.inspect(engine).get_columns("service_jobs")}
    finally:
        engine.dispose()


def test_resumable_jobs_migration_keeps_the_jobs_and_goes_down_and_up(db_url: str) -> None:
    assert downgrade(db_url, "0003") == "0003"
    assert {"request", "starts", "runner"}.isdisjoint(_job_columns(db_url))
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO service_jobs (id, kind, owner, status, progress, created_at, "
                    "heartbeat_at) VALUES ('j1', 'virtual_trial', 'ann', 'done', 1.0, :t, :t)"
                ),
                {"t": "2026-01-01 00:00:00+00:00"},
            )
    finally:
        engine.dispose()
    assert upgrade(db_url) == HEAD
    columns = _job_columns(db_url)
    assert {"request", "starts", "runner"} <= set(columns)
    assert columns["request"]["nullable"]
    assert not columns["starts"]["nullable"]
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT id, starts, request FROM service_jobs")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in kept] == [("j1", 0, None)]


def _insert_job(connection: sa.Connection, job_id: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO service_jobs (id, kind, owner, status, progress, created_at, "
            "heartbeat_at, starts) VALUES (:id, 'virtual_trial_design', 'ann', 'running', 0.5, "
            ":t, :t, 1)"
        ),
        {"id": job_id, "t": "2026-01-01 00:00:00+00:00"},
    )


def test_job_steps_migration_goes_down_and_up_and_steps_go_with_their_job(db_url: str) -> None:
    assert downgrade(db_url, "0004") == "0004"
    assert "service_job_steps" not in _tables(db_url)
    assert upgrade(db_url) == HEAD
    engine = open_migrated_engine(db_url)  # the registry's connections (SQLite: foreign keys on)
    try:
        inspector = sa.inspect(engine)
        key = inspector.get_pk_constraint("service_job_steps")["constrained_columns"]
        (foreign,) = inspector.get_foreign_keys("service_job_steps")
        with engine.begin() as connection:
            _insert_job(connection, "j1")
            _insert_job(connection, "j2")
            for job_id in ("j1", "j2"):
                connection.execute(
                    sa.text(
                        "INSERT INTO service_job_steps (job_id, step, version, data, created_at) "
                        "VALUES (:id, 0, '1.0', :data, :t)"
                    ),
                    {"id": job_id, "data": b"\x00chunk", "t": "2026-01-01 00:00:00+00:00"},
                )
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM service_jobs WHERE id = 'j1'"))
        with engine.connect() as connection:
            left = connection.execute(sa.text("SELECT job_id, data FROM service_job_steps")).all()
    finally:
        engine.dispose()
    assert key == ["job_id", "step"]
    assert foreign["referred_table"] == "service_jobs"
    assert foreign["options"].get("ondelete") == "CASCADE"
    assert [(row[0], bytes(row[1])) for row in left] == [("j2", b"\x00chunk")]
    assert downgrade(db_url, "0004") == "0004"
    assert "service_job_steps" not in _tables(db_url)
    assert {"service_jobs", "api_tokens"} <= _tables(db_url)
