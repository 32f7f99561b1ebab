"""A registry export (``.jsonl``) with several bad lines: every one is named, nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli.db import db_app
from immunoprecise.errors import ValidationError
from immunoprecise.registry import Registry, import_file


def _export_with_bad_lines(tmp_path: Path) -> Path:
    """Four lines: a good record, one with an implausible age, bad JSON, a good record."""
    good = ip.read_patient(ip.data.example_path("crc_msih.json")).model_dump(mode="json")
    implausible = json.loads(json.dumps(good))
    implausible["patient"]["id"] = "SYN-BAD-002"
    implausible["patient"]["age"] = -5
    other = json.loads(json.dumps(good))
    other["patient"]["id"] = "SYN-OK-004"
    lines = [json.dumps(good), json.dumps(implausible), "{not json", json.dumps(other)]
    exported = tmp_path / "registry.jsonl"
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return exported


def test_every_bad_line_of_an_export_is_named_at_once(registry: Registry, tmp_path: Path) -> None:
    """Only the first bad line was named, so a file with several took one import per line."""
    exported = _export_with_bad_lines(tmp_path)
    with pytest.raises(ValidationError) as caught:
        import_file(registry, exported, actor="ann")
    fields = [p.field for p in caught.value.problems]
    assert fields == ["line 2: patient.age", "line 3"]
    assert caught.value.problems[0].value == -5
    assert "not valid JSON" in caught.value.problems[1].message
    assert registry.counts()["record_versions"] == 0


def test_db_import_lists_every_bad_line_of_an_export(tmp_path: Path) -> None:
    exported = _export_with_bad_lines(tmp_path)
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    runner = CliRunner()
    assert runner.invoke(db_app, ["init", "--db", url]).exit_code == 0
    result = runner.invoke(db_app, ["import", str(exported), "--db", url, "--actor", "ann"])
    assert result.exit_code == 2
    assert "line 2: patient.age = -5" in result.output
    assert "line 3: is not valid JSON" in result.output
    assert "Traceback" not in result.output
    with Registry.open(url) as registry:
        assert registry.counts()["record_versions"] == 0
