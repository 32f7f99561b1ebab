"""`immunoprecise db export --format fhir` and :func:`export_fhir`: the latest version of every
record as FHIR R4B (one collection Bundle, or one file per patient), audited as the JSON-lines
export is, read back by `db import` into a fresh registry (SQLite, and PostgreSQL when
configured)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli.db import db_app
from immunoprecise.records import PatientRecord
from immunoprecise.records.fhir import read_fhir_bundles
from immunoprecise.registry import (
    AuditAction,
    Registry,
    StoredRecordError,
    downgrade,
)
from stored_records import stored_as_an_earlier_release

runner = CliRunner()
EXAMPLES = sorted(ip.data.example_path("crc_msih.json").parent.glob("*.json"))


def _without_expression(record: PatientRecord) -> dict[str, Any]:
    dumped: dict[str, Any] = record.model_dump(mode="json", exclude={"expression"})
    return dumped


def _originals() -> dict[str, dict[str, Any]]:
    records = [ip.read_patient(path) for path in EXAMPLES]
    return {r.patient_id: _without_expression(r) for r in records}


def _ok(args: list[str]) -> str:
    result = runner.invoke(db_app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _filled(db_url: str) -> None:
    """Every shipped JSON example imported with `db import` into the registry at ``db_url``."""
    _ok(["init", "--db", db_url])
    _ok(["import", *map(str, EXAMPLES), "--db", db_url, "--actor", "ann"])


def _fresh(db_url: str) -> None:
    """The database at ``db_url`` emptied (every table dropped) and migrated again."""
    downgrade(db_url, "base")
    _ok(["init", "--db", db_url])


def _stored(db_url: str) -> dict[str, dict[str, Any]]:
    with Registry.open(db_url) as registry:
        ids = registry.patients(actor="test")
        versions = registry.latest_versions(ids, actor="test")
    return {v.patient_id: _without_expression(v.record) for v in versions}


def test_examples_survive_a_bundle_export_and_import(db_url: str, tmp_path: Path) -> None:
    assert len(EXAMPLES) >= 5
    _filled(db_url)
    out = tmp_path / "registry.fhir.json"
    shown = _ok(["export", "--db", db_url, "--format", "fhir", "--out", str(out)])
    assert f"wrote {len(EXAMPLES)} record(s)" in shown
    bundle = json.loads(out.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    patients = [
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert patients == sorted(_originals())
    assert [i.record.patient_id for i in read_fhir_bundles(out)] == sorted(_originals())
    _fresh(db_url)
    imported = _ok(["import", str(out), "--db", db_url, "--actor", "bob"])
    assert f"{len(EXAMPLES)} rows, {len(EXAMPLES)} new" in imported
    assert _stored(db_url) == _originals()


def test_one_file_per_patient_into_a_folder(db_url: str, tmp_path: Path) -> None:
    _filled(db_url)
    folder = tmp_path / "fhir"
    folder.mkdir()
    shown = _ok(["export", "--db", db_url, "-f", "fhir", "-o", f"{folder}/"])
    assert f"wrote {len(EXAMPLES)} record(s)" in shown
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"{pid}.fhir.json" for pid in sorted(_originals())]
    for name in names:
        (one,) = read_fhir_bundles(folder / name)
        assert f"{one.record.patient_id}.fhir.json" == name
    _fresh(db_url)
    _ok(["import", str(folder), "--db", db_url])
    assert _stored(db_url) == _originals()
    # a folder named with a trailing / that does not exist yet is made
    made = tmp_path / "new"
    _ok(["export", "--db", db_url, "-f", "fhir", "-o", f"{made}/"])
    assert len(list(made.glob("*.fhir.json"))) == len(EXAMPLES)


def test_export_is_audited_as_the_json_lines_export_is(db_url: str, tmp_path: Path) -> None:
    _filled(db_url)
    # a second version of one record: the export names the latest version
    record = ip.read_patient(EXAMPLES[0])
    changed = record.model_copy(update={"collected_on": dt.date(2026, 3, 2)})
    with Registry.open(db_url) as registry:
        assert registry.add_record(changed, actor="ann").version == 2
    _ok(["export", "--db", db_url, "--actor", "jl", "--out", str(tmp_path / "r.jsonl")])
    _ok(["export", "--db", db_url, "--actor", "fh", "-f", "fhir", "-o", str(tmp_path / "r.json")])
    with Registry.open(db_url) as registry:
        exports = [e for e in registry.audit() if e.action is AuditAction.export]
    by = {a: [(e.patient_id, e.object) for e in exports if e.actor == a] for a in ("jl", "fh")}
    assert by["fh"] == by["jl"]
    assert len(by["fh"]) == len(EXAMPLES)
    assert (record.patient_id, "record_version 2") in by["fh"]
    (back,) = [
        i.record
        for i in read_fhir_bundles(tmp_path / "r.json")
        if i.record.patient_id == record.patient_id
    ]
    assert back.collected_on == dt.date(2026, 3, 2)


def test_help_and_an_unknown_format(tmp_path: Path) -> None:
    result = runner.invoke(db_app, ["export", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--format" in result.output
    assert "fhir: FHIR R4B" in result.output
    assert "jsonl: one record per line" in result.output
    assert "--format fhir --out registry.fhir.json" in result.output
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _ok(["init", "--db", url])
    result = runner.invoke(db_app, ["export", "--db", url, "--format", "xml"], terminal_width=200)
    assert result.exit_code == 2
    shown = " ".join(result.output.replace("│", " ").split())  # words, as the box wraps them
    assert "'xml' is not one of 'jsonl', 'fhir'" in shown


def test_an_empty_registry_gives_an_empty_bundle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _ok(["init", "--db", url])
    result = runner.invoke(db_app, ["export", "--db", url, "--format", "fhir"])
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    assert bundle == {"resourceType": "Bundle", "type": "collection"}
    Bundle.model_validate(bundle)


def test_the_python_function_writes_a_stream(registry: Registry) -> None:
    from immunoprecise.registry.exporting import export_fhir

    for path in EXAMPLES[:2]:
        registry.add_record(ip.read_patient(path), actor="ann")
    buffer = io.StringIO()
    assert export_fhir(registry, buffer, actor="cy") == 2
    records = [i.record for i in read_fhir_bundles(json.loads(buffer.getvalue()))]
    assert [_without_expression(r) for r in records] == [
        _without_expression(ip.read_patient(p)) for p in EXAMPLES[:2]
    ]


def test_a_record_that_no_longer_validates_writes_and_audits_nothing(
    registry: Registry, db_url: str, tmp_path: Path
) -> None:
    stored_as_an_earlier_release(registry, db_url)
    out = tmp_path / "registry.fhir.json"
    out.write_text("the earlier export\n", encoding="utf-8")
    result = runner.invoke(db_app, ["export", "--db", db_url, "-f", "fhir", "-o", str(out)])
    assert result.exit_code == 2
    assert "no longer validates" in result.output
    assert "patient.age" in result.output
    assert out.read_text(encoding="utf-8") == "the earlier export\n"
    assert list(tmp_path.glob(".*partial")) == []
    assert [e for e in registry.audit() if e.action is AuditAction.export] == []
    from immunoprecise.registry.exporting import export_fhir

    with pytest.raises(StoredRecordError):
        export_fhir(registry, io.StringIO(), actor="cy")


def test_json_lines_into_a_folder_name_is_refused_not_written_as_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _ok(["init", "--db", url])
    target = tmp_path / "newdir"
    result = runner.invoke(db_app, ["export", "--db", url, "--out", f"{target}/"])
    assert result.exit_code == 2
    shown = " ".join(result.output.replace("│", " ").split())
    assert "names a folder; give a file name (or --format fhir for one file per patient)" in shown
    assert not target.exists()  # neither a file called newdir nor a folder
