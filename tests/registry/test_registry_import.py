"""Importing files: one transaction, idempotent, and nothing stored when one row fails."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.registry import (
    Registry,
    RegistryError,
    cohort_names,
    import_cohort,
    import_file,
    import_files,
    record_files,
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


def _record_json(pid: str, ecog: int) -> str:
    data = ip.read_patient(ip.data.example_path("crc_msih.json")).model_dump(mode="json")
    data["patient"]["id"] = pid
    data["patient"]["ecog"] = ecog
    return json.dumps(data)


def _record_folder(root: Path) -> Path:
    """A folder as users keep one: records, a table, a note, a hidden file, a sub-folder."""
    folder = root / "records"
    (folder / "site2").mkdir(parents=True)
    (folder / "p2.json").write_text(_record_json("SYN-DIR-1", 2), encoding="utf-8")
    (folder / "p10.json").write_text(_record_json("SYN-DIR-1", 1), encoding="utf-8")
    (folder / "B.JSON").write_text(_record_json("SYN-DIR-2", 0), encoding="utf-8")
    (folder / "cohort.csv").write_bytes(COHORT.read_bytes())
    (folder / "README.md").write_text("records from site 1\n", encoding="utf-8")
    (folder / ".p3.json").write_text("{not a record", encoding="utf-8")  # hidden: left out
    (folder / "~$cohort.xlsx").write_bytes(b"\x00lock")  # an office lock file: left out
    (folder / "site2" / "p4.yaml").write_text(
        yaml.safe_dump(json.loads(_record_json("SYN-DIR-4", 1))), encoding="utf-8"
    )
    return folder


def test_a_folder_imports_its_record_files_in_code_point_order(
    registry: Registry, tmp_path: Path
) -> None:
    """A folder was refused ("is not a file"); its record files are imported in one
    transaction, in code-point order of their names (p10 before p2), hidden files, lock files,
    other types and sub-folders left out."""
    folder = _record_folder(tmp_path)
    files, others = record_files(folder)
    assert [f.name for f in files] == ["B.JSON", "cohort.csv", "p10.json", "p2.json"]
    assert [f.name for f in others] == ["README.md"]
    seen: list[tuple[int, int, str]] = []
    reports = import_files(
        registry, [folder], actor="ann", progress=lambda i, n, p: seen.append((i, n, p.name))
    )
    assert seen == [(1, 4, "B.JSON"), (2, 4, "cohort.csv"), (3, 4, "p10.json"), (4, 4, "p2.json")]
    assert [Path(r.source).name for r in reports] == [f.name for f in files]
    assert [(r.rows, r.created, r.updated) for r in reports] == [
        (1, 1, 0), (200, 200, 0), (1, 1, 0), (1, 0, 1)
    ]  # fmt: skip
    versions = registry.versions("SYN-DIR-1", actor="ann")
    assert [(v.source, v.record.patient.ecog) for v in versions] == [
        ("p10.json", 1), ("p2.json", 2)
    ]  # fmt: skip
    assert not registry.has_patient("SYN-DIR-4")
    again = import_files(registry, [folder], actor="ann")
    assert sum(r.unchanged for r in again) == 203
    assert registry.counts()["record_versions"] == 203


def test_a_folder_with_sub_folders_and_a_file_named_twice(
    registry: Registry, tmp_path: Path
) -> None:
    folder = _record_folder(tmp_path)
    files, _ = record_files(folder, recursive=True)
    assert [f.relative_to(folder).as_posix() for f in files] == [
        "B.JSON", "cohort.csv", "p10.json", "p2.json", "site2/p4.yaml"
    ]  # fmt: skip
    # a file given on its own and again inside its folder is imported once, where first named
    reports = import_files(registry, [folder / "p2.json", folder], actor="ann", recursive=True)
    assert [Path(r.source).name for r in reports] == [
        "p2.json", "B.JSON", "cohort.csv", "p10.json", "p4.yaml"
    ]  # fmt: skip
    assert registry.has_patient("SYN-DIR-4")


def test_bad_files_in_a_folder_are_all_named_and_nothing_is_stored(
    registry: Registry, tmp_path: Path
) -> None:
    folder = _record_folder(tmp_path)
    (folder / "p5.json").write_text(_record_json("SYN-DIR-5", 9), encoding="utf-8")
    (folder / "notes.yaml").write_text("- a list, not a record\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        import_files(registry, [folder], actor="ann")
    message = str(caught.value)
    assert message.startswith(f"2 of 6 files ({folder / 'notes.yaml'}, {folder / 'p5.json'})")
    assert f"{folder / 'p5.json'}: patient.ecog = 9" in message
    assert f"{folder / 'notes.yaml'}: (file)" in message
    assert registry.counts()["patients"] == 0
    assert registry.audit() == []
    (folder / "notes.yaml").unlink()
    with pytest.raises(ValidationError) as caught:  # one bad file: its own error, as before
        import_files(registry, [folder], actor="ann")
    assert str(caught.value).startswith(f"{folder / 'p5.json'}: 1 invalid field")
    assert registry.counts()["patients"] == 0


def test_a_folder_without_record_files_is_refused(registry: Registry, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here", encoding="utf-8")
    with pytest.raises(ValidationError, match="holds no record file"):
        import_files(registry, [COHORT, empty], actor="ann")
    with pytest.raises(ValidationError, match="is a folder; import_files"):
        import_file(registry, empty, actor="ann")
    assert registry.counts()["patients"] == 0


def test_a_file_that_cannot_be_read_is_named(registry: Registry, tmp_path: Path) -> None:
    """A read the system refuses (here an I/O error: /proc/self/mem cannot be read from its
    start) escaped as a bare OSError, a traceback in `db import`."""
    if not Path("/proc/self/mem").exists():
        pytest.skip("needs Linux's /proc")
    unreadable = tmp_path / "broken.json"
    unreadable.symlink_to("/proc/self/mem")
    with pytest.raises(ValidationError, match=r"(?s)broken\.json: .*cannot be read: "):
        import_files(registry, [COHORT, unreadable], actor="ann")
    assert registry.counts()["patients"] == 0
