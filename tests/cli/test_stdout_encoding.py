"""Every command run with a stdout that is not UTF-8 (a Windows redirect writes cp1252; a locale
may be ASCII): help, tables and messages are printed (a character the encoding cannot take as
its escape), JSON is written in ASCII and reads the same, and a TSV that does not fit is refused
with what to do, never written with characters lost or changed.

These run the real ``immunoprecise`` entry point in a subprocess, as a shell does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app

EXAMPLES = ip.data.example_path("fl_cohort.csv").parent
ACTOR = "γδ-lab Ødegård"


def _run(encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "immunoprecise", *args],
        capture_output=True,
        env=env,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert result.returncode == 0, stderr[-2000:]
    return result.stdout.decode("latin-1")


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--help"], "Research decision support"),
        (["cohort", "--help"], "Kaplan"),  # Kaplan–Meier, χ², τ², I²
        (["score-expression", "--help"], "score-expression"),
        (["serve", "--help"], "serve"),
    ],
    ids=["root", "cohort", "score-expression", "serve"],
)
def test_help_is_printed_in_ascii(args: list[str], shown: str) -> None:
    text = _ok(_run("ascii", *args))
    assert shown in text
    assert "\\u" in text  # the characters ASCII lacks are shown as escapes, not dropped


@pytest.mark.parametrize(
    ("encoding", "args", "shown"),
    [
        ("ascii", ["kb", "validate"], "is valid"),
        ("ascii", ["cohort", "response", "fl_cohort.csv", "--by", "treatment"], "ORR"),
        ("cp1252", ["trial", "fl_gammadelta_trial.yaml", "--no-report"], "arm"),
    ],
    ids=["kb", "cohort", "trial"],
)
def test_commands_print_their_tables(
    encoding: str, args: list[str], shown: str, tmp_path: Path
) -> None:
    args = [str(EXAMPLES / a) if (EXAMPLES / a).is_file() else a for a in args]
    if args[0] == "trial":
        args += ["--out", str(tmp_path / "trial")]
    assert shown in _ok(_run(encoding, *args))


def test_simulate_json_to_stdout_is_ascii_and_reads_the_same() -> None:
    result = _run("ascii", "simulate", "cartmath2021", "-f", "json")
    text = _ok(result)
    result.stdout.decode("ascii")  # nothing beyond ASCII
    assert "\\u" in text
    assert "cartmath2021" in json.dumps(json.loads(text))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'r.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "init", "--db", url]).exit_code == 0
    imported = runner.invoke(
        app,
        ["db", "import", str(EXAMPLES / "fl_relapsed.json"), "--db", url, "--actor", ACTOR],
    )
    assert imported.exit_code == 0, imported.output
    return url


def test_db_audit_json_to_cp1252_reads_the_same(registry: str) -> None:
    result = _run("cp1252", "db", "audit", "--db", registry, "-f", "json")
    entries = json.loads(_ok(result))
    result.stdout.decode("ascii")
    assert {e["actor"] for e in entries} >= {ACTOR}


def test_db_export_to_ascii_is_json_lines(registry: str) -> None:
    result = _run("ascii", "db", "export", "--db", registry, "--actor", "exporter")
    lines = _ok(result).splitlines()
    result.stdout.decode("ascii")
    (record,) = (json.loads(line) for line in lines)
    assert "SYN-FL-001" in json.dumps(record)
    assert "µ" in json.dumps(record, ensure_ascii=False)  # units such as cells/µL come back


def test_db_audit_tsv_that_does_not_fit_is_refused_whole(registry: str) -> None:
    result = _run("ascii", "db", "audit", "--db", registry, "-f", "tsv")
    assert result.returncode == 2
    assert result.stdout == b""
    stderr = result.stderr.decode("ascii", errors="replace")
    assert "Traceback" not in stderr
    assert "U+03B3" in stderr  # the γ of the actor
    assert "--format json" in stderr
    assert "PYTHONIOENCODING=utf-8" in stderr
