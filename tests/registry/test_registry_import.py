"""Importing files: one transaction, idempotent, and nothing stored when one row fails."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.registry import (
    Registry,
    RegistryError,
    cohort_names,
    import_cohort,
    import_file,
    import_files,
)

COHORT = ip.data.example_path("fl_cohort.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cohort_import_then_reimport_changes_nothing(registry: Registry) -> None:
    report = import_file(registry, COHORT, actor="ann")
    assert (report.rows, report.created, report.updated, report.unchanged) == (200, 200, 0, 0)
    counts = registry.counts()
    assert counts["patients"] == counts["record_versions"] == 200
    again = import_file(registry, COHORT, actor="ann")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 200)
    assert registry.counts()["record_versions"] == 200
    first = ip.read_patients(COHORT)[0]
    assert registry.record(first.patient_id, actor="bob") == first
    assert registry.versions(first.patient_id, actor="bob")[0].source == "fl_cohort.csv"


def test_example_json_records_import(registry: Registry) -> None:
    paths = ip.data.example_patients()
    reports = import_files(registry, paths, actor="ann")
    assert [r.created for r in reports] == [1] * len(paths)
    assert registry.counts()["patients"] == len(paths)
    again = import_files(registry, paths, actor="ann")
    assert sum(r.unchanged for r in again) == len(paths)
    assert registry.counts()["record_versions"] == len(paths)


def test_changed_rows_become_new_versions(registry: Registry, tmp_path: Path) -> None:
    import_file(registry, COHORT, actor="ann")
    rows = _rows(COHORT)
    rows[4]["crp_mg_per_L"] = "99.0"
    report = import_file(registry, _write(rows, tmp_path / "cohort.csv"), actor="bob")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 199)
    versions = registry.versions(rows[4]["patient_id"], actor="bob")
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].record.host.crp is not None
    assert versions[1].record.host.crp.value == 99.0


def test_bad_cell_in_row_3_stores_nothing(registry: Registry, tmp_path: Path) -> None:
    rows = _rows(COHORT)
    rows[1]["crp_mg_per_L"] = "lots"  # data row 2 is row 3 of the file (row 1 is the header)
    path = _write(rows, tmp_path / "bad.csv")
    with pytest.raises(ValidationError) as caught:
        import_file(registry, path, actor="ann")
    message = str(caught.value)
    assert f"row 3 ({rows[1]['patient_id']}) column crp_mg_per_L" in message
    assert registry.counts()["record_versions"] == 0
    assert registry.audit() == []


def test_database_error_rolls_back_the_batch(registry: Registry, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the refusing trigger is written in SQLite's dialect")
    victim = _rows(COHORT)[2]["patient_id"]
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON patients "
            f"WHEN NEW.pseudonym = '{victim}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    engine.dispose()
    first_file = ip.data.example_path("crc_msih.json")  # stored first, then rolled back too
    with pytest.raises(RegistryError) as caught:
        import_files(registry, [first_file, COHORT], actor="ann")
    assert f"row 4 ({victim})" in str(caught.value)
    assert "nothing was stored" in str(caught.value)
    assert registry.counts() == {
        "patients": 0, "record_versions": 0, "evaluations": 0, "results": 0, "audit_log": 0
    }  # fmt: skip


def test_missing_file_is_a_validation_error(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        import_files(registry, [COHORT, tmp_path / "missing.csv"], actor="ann")
    assert registry.counts()["patients"] == 0


def _refuse_result_inserts(db_url: str) -> None:
    """A trigger that makes the database refuse every new row of ``results``."""
    engine = sa.create_engine(db_url)
    with engine.begin() as connection:
        if db_url.startswith("sqlite"):
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON results "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON results "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    engine.dispose()


def test_cohort_upload_stores_records_and_its_entry_together_or_neither(
    registry: Registry, db_url: str
) -> None:
    # the upload entry (the result listing the patients and outcomes) is refused by the
    # database after every record was added in the same transaction: nothing may remain
    _refuse_result_inserts(db_url)
    with pytest.raises(RegistryError, match="refused"):
        import_cohort(registry, COHORT, name="FL phase II", actor="ann")
    assert registry.counts() == {
        "patients": 0, "record_versions": 0, "evaluations": 0, "results": 0, "audit_log": 0
    }  # fmt: skip
    assert cohort_names(registry, actor="ann") == {}


def test_cohort_upload_entry_lists_the_versions_it_stored(registry: Registry) -> None:
    report, result_id = import_cohort(registry, COHORT, name="FL phase II", actor="ann")
    (entry,) = registry.results(actor="ann", cohort="FL phase II")
    assert entry.id == result_id
    assert entry.payload["patient_ids"] == list(report.patient_ids)
    assert (entry.payload["rows"], entry.payload["created"]) == (200, 200)
    assert registry.counts()["record_versions"] == 200
    again, _ = import_cohort(registry, COHORT, name="FL phase II", actor="ann")
    assert (again.created, again.unchanged) == (0, 200)
    assert len(registry.results(actor="ann", cohort="FL phase II")) == 2


def test_a_registry_export_imports_into_another_registry_unchanged(
    registry: Registry, tmp_path: Path
) -> None:
    import_files(registry, ip.data.example_patients(), actor="ann")
    exported = tmp_path / "registry.jsonl"
    count = registry.export(exported, actor="ann")
    with Registry.open(f"sqlite:///{tmp_path / 'copy.db'}", create=True) as copy:
        report = import_file(copy, exported, actor="bob")
        assert (report.rows, report.created) == (count, count)
        for pid in registry.patients(actor="ann"):
            assert copy.record(pid, actor="bob") == registry.record(pid, actor="ann")
            assert copy.latest_digest(pid) == registry.latest_digest(pid)
    again = import_file(registry, exported, actor="ann")  # into the registry it came from
    assert (again.created, again.updated, again.unchanged) == (0, 0, count)


def test_a_bad_line_of_a_registry_export_is_named_and_nothing_is_stored(
    registry: Registry, tmp_path: Path
) -> None:
    good = ip.read_patient(ip.data.example_path("crc_msih.json")).model_dump_json()
    exported = tmp_path / "registry.jsonl"
    exported.write_text(good + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"line 3.*not valid JSON"):
        import_file(registry, exported, actor="ann")
    assert registry.counts()["record_versions"] == 0


def test_an_invalid_fhir_bundle_among_several_files_is_named(
    registry: Registry, tmp_path: Path
) -> None:
    """A FHIR bundle's problems were reported without its file ("1 invalid field"), so an
    administrator importing several files could not tell which one to fix."""
    import json

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "F1"}}],
    }
    bad = tmp_path / "site_export.fhir.json"
    bad.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_files(registry, [COHORT, bad], actor="ann")
    assert str(caught.value).startswith(f"{bad}: ")
    assert "disease.diagnosis" in str(caught.value)
    assert registry.counts()["patients"] == 0
