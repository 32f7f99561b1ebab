"""SQLite registries use write-ahead logging: a reader does not hold up a writer.

On real SQLite files: the mode a new or an existing registry ends up in, a write made while
another connection holds a read transaction open (it waits for the lock and fails in SQLite's
old ``delete`` mode, which ``$IMMUNOPRECISE_SQLITE_JOURNAL_MODE`` can still choose), and a file
that cannot switch (it keeps working, with a warning).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli.db import db_app
from immunoprecise.errors import RegistryError
from immunoprecise.registry import Registry, upgrade
from immunoprecise.registry.connection import SQLITE_JOURNAL_ENV, sqlite_journal_of

RECORD = ip.read_patient(ip.data.example_path("crc_msih.json"))


def _mode_on_disk(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])


@contextmanager
def _open_read_transaction(path: Path) -> Iterator[None]:
    """Another connection in the middle of a read (it holds SQLite's shared lock)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM audit_log").fetchone()
        try:
            yield
        finally:
            reader.execute("COMMIT")


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(SQLITE_JOURNAL_ENV, raising=False)
    return tmp_path / "registry.db"


def test_a_new_registry_uses_write_ahead_logging(path: Path) -> None:
    with Registry.open(str(path), create=True) as registry:
        registry.add_record(RECORD, actor="ann")
    assert _mode_on_disk(path) == "wal"
    assert sqlite_journal_of(f"sqlite:///{path}") == "wal"


def test_a_registry_made_in_the_old_mode_switches_when_opened(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SQLITE_JOURNAL_ENV, "delete")
    upgrade(str(path))
    assert _mode_on_disk(path) == "delete"
    monkeypatch.delenv(SQLITE_JOURNAL_ENV)
    with Registry.open(str(path)) as registry:
        registry.add_record(RECORD, actor="ann")
    assert _mode_on_disk(path) == "wal"


def test_a_write_goes_through_while_another_connection_reads(path: Path) -> None:
    upgrade(str(path))
    with Registry.open(str(path)) as registry, _open_read_transaction(path):
        stored = registry.add_record(RECORD, actor="ann")
        assert registry.record(RECORD.patient_id, actor="bob") == RECORD
    assert stored.version == 1


def test_in_the_old_mode_the_same_write_waits_for_the_reader_and_fails(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SQLITE_JOURNAL_ENV, "DELETE")
    upgrade(str(path))
    impatient = f"sqlite:///{path}?timeout=0.1"  # wait 0.1 s for a lock, not SQLite's 5 s
    with (
        Registry.open(impatient) as registry,
        _open_read_transaction(path),
        pytest.raises(RegistryError, match="database is locked"),
    ):
        registry.add_record(RECORD, actor="ann")
    assert _mode_on_disk(path) == "delete"


def test_a_file_that_cannot_switch_keeps_working_with_a_warning(
    path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(SQLITE_JOURNAL_ENV, "delete")
    upgrade(str(path))
    monkeypatch.delenv(SQLITE_JOURNAL_ENV)
    with (
        caplog.at_level(logging.WARNING, logger="immunoprecise.registry"),
        _open_read_transaction(path),
        Registry.open(f"sqlite:///{path}?timeout=0.1") as registry,
    ):
        assert registry.counts()["patients"] == 0
    assert "could not be set to wal, it is unchanged (database is locked)" in caplog.text
    assert _mode_on_disk(path) == "delete"


@pytest.mark.parametrize("value", ["memory", "off", "wall"])
def test_an_unknown_journal_mode_is_refused_naming_the_variable(
    path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(SQLITE_JOURNAL_ENV, value)
    with pytest.raises(RegistryError) as refused:
        upgrade(str(path))
    assert f"${SQLITE_JOURNAL_ENV} is {value!r}" in str(refused.value)
    assert "wal, delete, truncate, persist" in str(refused.value)
    assert not path.exists()


def test_db_status_shows_the_journal_mode(path: Path) -> None:
    upgrade(str(path))
    result = CliRunner().invoke(db_app, ["status", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "SQLite journal mode: wal" in result.output


def test_db_status_leaves_a_registry_nobody_has_open_a_single_file(path: Path) -> None:
    """`db status` read the journal mode on a read-only connection, the last to close, which
    cannot remove the log: registry.db-wal and -shm stayed behind."""
    with Registry.open(str(path), create=True) as registry:
        registry.add_record(RECORD, actor="ann")
    assert sorted(p.name for p in path.parent.iterdir()) == ["registry.db"]
    result = CliRunner().invoke(db_app, ["status", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in path.parent.iterdir()) == ["registry.db"]


def test_a_registry_opened_read_only_by_a_sqlite_uri(path: Path, tmp_path: Path) -> None:
    """`sqlite:///file:PATH?mode=ro&uri=true` (SQLite's way to open a file read-only) was
    refused as "no registry database at file:PATH"; it reads, and refuses writes by name."""
    with Registry.open(str(path), create=True) as registry:
        registry.add_record(RECORD, actor="ann")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    runner = CliRunner()
    result = runner.invoke(db_app, ["audit", "--db", url, "-f", "json"])
    assert result.exit_code == 0, result.output
    assert [e["actor"] for e in json.loads(result.stdout)] == ["ann"]
    result = runner.invoke(db_app, ["export", "--db", url])
    assert result.exit_code == 2
    assert "readonly database" in result.output
    assert result.stdout == ""  # no record left without its audit row
    result = runner.invoke(
        db_app, ["status", "--db", f"sqlite:///file:{tmp_path / 'no.db'}?mode=ro&uri=true"]
    )
    assert result.exit_code == 2
    assert f"no registry database at {tmp_path / 'no.db'}" in result.output
