"""Registry fixtures: a migrated database per test, SQLite always, PostgreSQL when configured.

Set ``IMMUNOPRECISE_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://user@localhost/scratch``) to
run the registry tests on PostgreSQL too; that database is reset (downgraded to base) per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from immunoprecise.registry import Registry, downgrade

POSTGRES_ENV = "IMMUNOPRECISE_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file in tmp_path, or the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to a scratch database URL")
    downgrade(url, "base")
    yield url
    downgrade(url, "base")


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    """An open registry migrated to the latest schema."""
    with Registry.open(db_url, create=True) as opened:
        yield opened
