"""`immunoprecise db ...` through typer's CliRunner, on real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli.db import db_app
from immunoprecise.registry import Registry, head_revision

runner = CliRunner()
COHORT = str(ip.data.example_path("fl_cohort.csv"))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_init_import_export_status(url: str, tmp_path: Path) -> None:
    result = runner.invoke(db_app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"schema revision {head_revision()}" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    assert result.exit_code == 0, result.output
    assert "200 rows, 200 new, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    assert "0 new, 0 updated, 200 unchanged" in result.output
    out = tmp_path / "export.jsonl"
    result = runner.invoke(db_app, ["export", "--db", url, "--out", str(out), "--actor", "x"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    assert json.loads(lines[0])["patient"]["id"] == "SYN-FLC-001"
    result = runner.invoke(db_app, ["status", "--db", url])
    assert result.exit_code == 0, result.output
    assert "patients: 200" in result.output
    assert f"schema: {head_revision()} (latest)" in result.output
    with Registry.open(url) as registry:
        actors = {e.actor for e in registry.audit()}
    assert actors == {"ann", "x"}


def test_export_to_stdout_and_default_actor(url: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", str(ip.data.example_path("crc_msih.json")), "--db", url])
    result = runner.invoke(db_app, ["export", "--db", url])
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)["patient"]["id"]
        == ip.read_patient(ip.data.example_path("crc_msih.json")).patient_id
    )
    with Registry.open(url) as registry:
        assert all(e.actor for e in registry.audit())


def test_env_var_names_the_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMMUNOPRECISE_DB", url)
    assert runner.invoke(db_app, ["init"]).exit_code == 0
    assert runner.invoke(db_app, ["import", COHORT]).exit_code == 0
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 200


def test_downgrade_and_upgrade(url: str) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    result = runner.invoke(db_app, ["downgrade", "base", "--db", url])
    assert result.exit_code == 0, result.output
    assert "revision base" in result.output
    result = runner.invoke(db_app, ["status", "--db", url])
    assert result.exit_code == 1
    assert "run `immunoprecise db upgrade`" in result.output
    result = runner.invoke(db_app, ["import", COHORT, "--db", url])
    assert result.exit_code == 2
    assert "immunoprecise db upgrade" in result.output
    result = runner.invoke(db_app, ["upgrade", "--db", url, "--revision", "head"])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output


def _assert_clean_failure(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.output


def test_bad_input_exits_2_without_traceback(url: str, tmp_path: Path) -> None:
    runner.invoke(db_app, ["init", "--db", url])
    missing = tmp_path / "missing.csv"
    _assert_clean_failure(
        runner.invoke(db_app, ["import", str(missing), "--db", url]), "no such file"
    )
    _assert_clean_failure(runner.invoke(db_app, ["init", "--db", "nosuchdb://x/y"]), "nosuchdb")
    _assert_clean_failure(
        runner.invoke(db_app, ["status", "--db", str(tmp_path / "absent.db")]), "db init"
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"patient": {"id": "B1", "ecog": 9}, "disease": {}}), "utf-8")
    _assert_clean_failure(runner.invoke(db_app, ["import", str(bad), "--db", url]), "ecog")
    _assert_clean_failure(runner.invoke(db_app, ["downgrade", "zzzz", "--db", url]), "zzzz")
    with Registry.open(url) as registry:
        assert registry.counts()["patients"] == 0
