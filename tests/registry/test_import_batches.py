"""Importing a table larger than one insert batch: every record, version and audit row stored,
progress reported per batch, and a refusal in a later batch rolling everything back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from immunoprecise.data.synthetic import synthetic_table
from immunoprecise.records import read_patients
from immunoprecise.registry import AuditQuery, Registry, RegistryError, import_files
from immunoprecise.registry.store import _INSERT_BATCH

N = 2 * _INSERT_BATCH + 250  # three batches, the last one partly filled


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """N synthetic patients as text cells."""
    return synthetic_table(N, seed=11)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_every_record_version_and_audit_row_of_several_batches_is_stored(
    registry: Registry, table: pd.DataFrame, tmp_path: Path
) -> None:
    first = _write(table, tmp_path / "first.csv")
    changed = table.copy()
    every_third = changed.index % 3 == 0
    changed.loc[every_third, "age_years"] = "99"  # a new version of every third patient
    second = _write(changed, tmp_path / "second.csv")
    again = changed.iloc[: _INSERT_BATCH + 10].copy()  # across the first batch boundary
    again["age_years"] = "98"  # a third version of these, in the same import as the second
    third = _write(again, tmp_path / "third.csv")

    calls: list[tuple[int, int]] = []
    (report,) = import_files(registry, [first], actor="ann", stored=lambda *a: calls.append(a))
    assert calls == [(_INSERT_BATCH, N), (2 * _INSERT_BATCH, N), (N, N)]
    assert (report.rows, report.created, report.updated, report.unchanged) == (N, N, 0, 0)
    reports = import_files(registry, [second, third], actor="bob")
    n_changed = int(every_third.sum())
    assert [(r.created, r.updated, r.unchanged) for r in reports] == [
        (0, n_changed, N - n_changed),
        (0, len(again), 0),
    ]
    total_versions = N + n_changed + len(again)
    assert registry.counts() == {
        "patients": N,
        "record_versions": total_versions,
        "evaluations": 0,
        "results": 0,
        "audit_log": N + N + len(again),  # one row per record imported, unchanged ones too
    }
    audit = registry.audit(AuditQuery(actor="bob"))
    second_rows = [(e.patient_id, e.action.value, e.object) for e in audit[:N]]
    third_rows = [(e.patient_id, e.action.value, e.object) for e in audit[N:]]
    ids = list(table["patient_id"])
    expected_second = [
        (pid, "update", "record_version 2")
        if i % 3 == 0
        else (pid, "unchanged", "record_version 1")
        for i, pid in enumerate(ids)
    ]
    assert second_rows == expected_second  # in the order of the rows
    assert third_rows == [
        (pid, "update", f"record_version {3 if i % 3 == 0 else 2}")
        for i, pid in enumerate(ids[: len(again)])
    ]
    latest = {v.patient_id: v for v in registry.latest_versions(ids, actor="eve")}
    final = read_patients(second)
    final[: len(again)] = read_patients(third)
    for i, record in enumerate(final):
        stored = latest[record.patient_id]
        assert stored.record == record
        expected_version = 1 + (i % 3 == 0) + (i < len(again))
        assert stored.version == expected_version
        assert stored.actor == ("ann" if expected_version == 1 else "bob")


def _refuse_patient(db_url: str, patient_id: str) -> None:
    """Make the database refuse to store a version of ``patient_id`` (a trigger)."""
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON record_versions WHEN "
                f"(SELECT pseudonym FROM patients WHERE id = NEW.patient_id) = '{patient_id}' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_version() RETURNS trigger AS $$ BEGIN "
                f"IF (SELECT pseudonym FROM patients WHERE id = NEW.patient_id) = '{patient_id}' "
                "THEN RAISE EXCEPTION 'refused' USING ERRCODE = '23514'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON record_versions "
                "FOR EACH ROW EXECUTE FUNCTION refuse_version()"
            )
    engine.dispose()


def test_a_record_refused_in_a_later_batch_is_named_and_nothing_is_stored(
    registry: Registry, db_url: str, table: pd.DataFrame, tmp_path: Path
) -> None:
    path = _write(table, tmp_path / "cohort.csv")
    position = 2 * _INSERT_BATCH + 7  # in the third batch
    victim = str(table["patient_id"].iloc[position])
    _refuse_patient(db_url, victim)
    calls: list[tuple[int, int]] = []
    with pytest.raises(RegistryError) as caught:
        import_files(registry, [path], actor="ann", stored=lambda *a: calls.append(a))
    assert calls == [(_INSERT_BATCH, N), (2 * _INSERT_BATCH, N)]  # two batches were flushed
    message = str(caught.value)
    assert f"{path}: row {position + 2} ({victim}): cannot be stored" in message
    assert "nothing was stored" in message
    assert registry.counts() == {
        "patients": 0, "record_versions": 0, "evaluations": 0, "results": 0, "audit_log": 0
    }  # fmt: skip
