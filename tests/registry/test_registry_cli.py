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


@pytest.mark.parametrize("command", [["init"], ["status"], ["upgrade"], ["import", COHORT]])
def test_url_with_a_bad_port_is_refused_without_traceback_or_password(
    command: list[str],
) -> None:
    """SQLAlchemy reads the port with int(): a typo there raised ValueError (a traceback)."""
    url = "postgresql+psycopg://ann:s3cr3t@dbhost:54x32/registry"
    result = runner.invoke(db_app, [*command, "--db", url])
    _assert_clean_failure(result, "cannot read database URL", "port must be a number")
    assert "s3cr3t" not in result.output
    assert "ann:***@dbhost" in result.output


def test_upgrade_of_a_database_from_a_newer_immunoprecise_says_so(url: str) -> None:
    """`db upgrade`/`db init`/`db downgrade` on a newer schema said only "Can't locate
    revision identified by '0099'"; now they say, as `db status` does, to upgrade immunoprecise."""
    from sqlalchemy import create_engine, text

    runner.invoke(db_app, ["init", "--db", url])
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for command in (["upgrade"], ["init"], ["downgrade", "previous"]):
        result = runner.invoke(db_app, [*command, "--db", url])
        _assert_clean_failure(result, "schema revision 0099", "a newer immunoprecise migrated it")


def test_export_makes_missing_folders(url: str, tmp_path: Path) -> None:
    """`--out` accepts missing folders (the callback says the command makes them): it failed
    with "No such file or directory"."""
    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url])
    out = tmp_path / "exports" / "2026" / "registry.jsonl"
    result = runner.invoke(db_app, ["export", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 200


def test_failed_export_keeps_the_earlier_file_and_audits_nothing(url: str, tmp_path: Path) -> None:
    """A write that fails part-way (here: a file-size limit, as a full disk would) left a
    truncated export in place of the earlier one; now the earlier one stays, no partial file is
    left and no export is audited."""
    import resource
    import signal
    import subprocess
    import sys

    runner.invoke(db_app, ["init", "--db", url])
    runner.invoke(db_app, ["import", COHORT, "--db", url, "--actor", "ann"])
    out = tmp_path / "out" / "registry.jsonl"
    out.parent.mkdir()
    out.write_text("the earlier export\n", encoding="utf-8")

    def small_files() -> None:  # the export (~700 kB) is larger; the database's log is not
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "db", "export", "--db", url, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_files,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_text(encoding="utf-8") == "the earlier export\n"
    assert [p.name for p in out.parent.iterdir()] == ["registry.jsonl"]
    with Registry.open(url) as registry:
        assert [e for e in registry.audit() if e.action.value == "export"] == []
