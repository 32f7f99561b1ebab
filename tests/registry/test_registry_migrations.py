"""Migrations up and down, and refusing databases that are not at the latest schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import immunoprecise as ip
from immunoprecise.registry import (
    Registry,
    RegistryError,
    current_revision,
    default_url,
    downgrade,
    head_revision,
    resolve_url,
    upgrade,
)
from immunoprecise.registry.migrate import downgrade_losses
from immunoprecise.registry.schema import PATIENT_ID_FOLDED_INDEX, Base

TABLES = {
    "patients", "record_versions", "evaluations", "results", "audit_log", "api_tokens",
    "dashboard_sessions", "service_jobs", "service_job_steps",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert upgrade(db_url) == head_revision()
    assert _tables(db_url) == TABLES
    assert current_revision(db_url) == head_revision()
    assert downgrade(db_url, "base") is None
    assert _tables(db_url) == set()
    assert current_revision(db_url) is None
    assert upgrade(db_url, "head") == head_revision()
    assert _tables(db_url) == TABLES


# SQLite cannot reflect an index on an expression, so autogenerate cannot compare the index on
# lower(pseudonym) there; test_patient_ids_are_indexed_lower_case_from_0007 checks it instead.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migration_creates_what_the_tables_declare(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_columns_and_timestamps(registry: Registry, db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        columns = {c["name"] for c in inspector.get_columns("record_versions")}
        uniques = [u["column_names"] for u in inspector.get_unique_constraints("record_versions")]
    finally:
        engine.dispose()
    assert columns == {
        "id", "patient_id", "version", "record", "sha256", "source", "actor", "created_at"
    }  # fmt: skip
    assert ["patient_id", "version"] in uniques


def test_open_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()  # an empty SQLite file
    with pytest.raises(RegistryError, match=r"no registry schema.*immunoprecise db upgrade"):
        Registry.open(f"sqlite:///{path}")


def test_open_refuses_an_outdated_database(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    with pytest.raises(RegistryError, match="run `immunoprecise db upgrade"):
        Registry.open(db_url)
    with Registry.open(db_url, create=True) as registry:
        assert registry.counts()["patients"] == 0


def test_open_refuses_a_missing_file_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "registry.db"
    with pytest.raises(RegistryError, match="immunoprecise db init"):
        Registry.open(str(path))
    assert not path.exists()


def test_bad_urls_are_registry_errors() -> None:
    with pytest.raises(RegistryError, match="unknown database kind or driver"):
        Registry.open("nosuchdb://host/x")
    with pytest.raises(RegistryError, match="unknown"):
        upgrade("postgresql+nosuchdriver://u@localhost/x")


def test_default_url_follows_xdg_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IMMUNOPRECISE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / 'immunoprecise' / 'registry.db'}"
    assert resolve_url(None) == default_url()
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "share" / "immunoprecise" / "registry.db"
    assert default_url() == f"sqlite:///{expected}"
    monkeypatch.setenv("IMMUNOPRECISE_DB", "sqlite:///elsewhere.db")
    assert resolve_url(None) == "sqlite:///elsewhere.db"
    assert resolve_url("sqlite:///given.db") == "sqlite:///given.db"


def _columns(url: str) -> dict[str, set[str]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        names = set(inspector.get_table_names()) - {"alembic_version"}
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in names}
    finally:
        engine.dispose()


def test_each_downgrade_drops_what_its_migration_declares(db_url: str) -> None:
    """`db downgrade` names what a downgrade drops from each migration's
    ``dropped_by_downgrade``: it must be exactly what the downgrade drops."""
    upgrade(db_url)
    while (revision := current_revision(db_url)) is not None:
        before = _columns(db_url)
        declared = {(loss.table, loss.columns) for loss in downgrade_losses(db_url, "-1")}
        downgrade(db_url, "-1")
        after = _columns(db_url)
        dropped = {(t, ()) for t in before.keys() - after.keys()} | {
            (t, tuple(sorted(before[t] - after[t]))) for t in after if before[t] - after[t]
        }
        assert {(t, tuple(sorted(c))) for t, c in declared} == dropped, revision


def test_downgrade_losses_count_rows_and_refuse_unknown_revisions(
    registry: Registry, db_url: str
) -> None:
    import immunoprecise as ip

    registry.add_record(ip.read_patient(ip.data.example_path("crc_msih.json")), actor="ann")
    losses = {loss.table: loss for loss in downgrade_losses(db_url, "base")}
    assert (losses["patients"].rows, losses["record_versions"].rows) == (1, 1)
    assert losses["audit_log"].describe() == "audit_log: 1 row"
    assert losses["api_tokens"].rows == 0
    assert downgrade_losses(db_url, head_revision()) == []
    with pytest.raises(RegistryError, match="zzzz"):
        downgrade_losses(db_url, "zzzz")


def _audit_indexes(url: str) -> dict[str, list[str | None]]:
    engine = sa.create_engine(url)
    try:
        return {
            str(i["name"]): i["column_names"] for i in sa.inspect(engine).get_indexes("audit_log")
        }
    finally:
        engine.dispose()


def test_the_audit_log_is_indexed_by_actor_from_0006(db_url: str) -> None:
    upgrade(db_url, "0005")
    assert "ix_audit_log_actor" not in _audit_indexes(db_url)
    assert downgrade_losses(db_url, "0005") == []
    assert upgrade(db_url, "0006") == "0006"
    assert _audit_indexes(db_url)["ix_audit_log_actor"] == ["actor"]
    assert downgrade_losses(db_url, "0005") == []  # dropping an index loses no data
    assert downgrade(db_url, "0005") == "0005"
    indexes = _audit_indexes(db_url)
    assert "ix_audit_log_actor" not in indexes
    assert indexes["ix_audit_log_patient_at"] == ["patient", "at"]
    assert upgrade(db_url) == head_revision()
    assert _audit_indexes(db_url)["ix_audit_log_actor"] == ["actor"]


def test_the_audit_log_is_read_by_actor_through_its_index(registry: Registry, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the query plan is read with SQLite's EXPLAIN QUERY PLAN")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE actor = 'ann' ORDER BY id DESC"
            ).all()
    finally:
        engine.dispose()
    assert any("ix_audit_log_actor" in str(row[-1]) for row in plan), plan


@pytest.mark.parametrize("action", ["open", "upgrade", "current_revision"])
def test_a_password_with_an_unescaped_at_sign_is_refused_without_showing_it(action: str) -> None:
    url = "postgresql+psycopg://ann:s3cr@tpart@localhost/registry"
    calls = {"open": Registry.open, "upgrade": upgrade, "current_revision": current_revision}
    with pytest.raises(RegistryError, match=r"more than one '@'.*%40") as raised:
        calls[action](url)
    message = str(raised.value)
    assert "ann:***@localhost/registry" in message
    assert "tpart" not in message
    assert "s3cr" not in message


def _has_lower_case_id_index(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if url.startswith("sqlite"):
                sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
            else:
                sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
            found = connection.execute(sa.text(sql), {"name": PATIENT_ID_FOLDED_INDEX}).all()
    finally:
        engine.dispose()
    assert len(found) <= 1
    return bool(found) and "lower(" in str(found[0][0]).lower()


def test_patient_ids_are_indexed_lower_case_from_0007(db_url: str) -> None:
    upgrade(db_url, "0006")
    assert not _has_lower_case_id_index(db_url)
    assert upgrade(db_url, "0007") == "0007"
    assert _has_lower_case_id_index(db_url)
    assert downgrade_losses(db_url, "0006") == []  # dropping an index loses no data
    assert downgrade(db_url, "0006") == "0006"
    assert not _has_lower_case_id_index(db_url)
    assert upgrade(db_url) == head_revision()
    assert _has_lower_case_id_index(db_url)


def test_adding_a_patient_looks_ids_up_through_the_index(registry: Registry, db_url: str) -> None:
    """The check of ids differing only in case asks for the matching ids only, through the index
    on lower(pseudonym), instead of reading every stored id."""
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    for pid in ("SYN-01", "SYN-02"):
        patient = record.patient.model_copy(update={"id": pid})
        registry.add_record(record.model_copy(update={"patient": patient}), actor="ann")
    sent: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    sa.event.listen(registry._engine, "before_cursor_execute", remember)
    try:
        patient = record.patient.model_copy(update={"id": "SYN-03"})
        registry.add_record(record.model_copy(update={"patient": patient}), actor="ann")
    finally:
        sa.event.remove(registry._engine, "before_cursor_execute", remember)
    reads = [(s, p) for s, p in sent if " ".join(s.split()).startswith("SELECT patients.pseudonym")]
    assert reads, sent
    assert all("WHERE" in s for s, _ in reads), reads  # no read of every stored id
    lookups = [(s, p) for s, p in reads if "lower(patients.pseudonym)" in s]
    assert len(lookups) == 1, reads
    if db_url.startswith("sqlite"):
        statement, parameters = lookups[0]
        with registry._engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        assert any(PATIENT_ID_FOLDED_INDEX in str(row[-1]) for row in plan), plan
