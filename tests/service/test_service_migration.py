"""The api_tokens migration (0002) creates what the declarations say, and goes down cleanly."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from immunoprecise.registry import current_revision, downgrade, head_revision, upgrade
from immunoprecise.registry.schema import Base


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_api_tokens_migration_matches_the_declarations(db_url: str) -> None:
    assert head_revision() == "0002"
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
    assert upgrade(db_url) == "0002"
    assert current_revision(db_url) == "0002"
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
    assert upgrade(url) == "0002"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT pseudonym FROM patients")).scalar() == "P1"
    finally:
        engine.dispose()
