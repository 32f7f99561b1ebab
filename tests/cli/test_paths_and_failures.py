"""The command line's outputs and failures: paths refused before work, no partial output,
one patient's failure not stopping the others, standard JSON, ids kept as written."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from icb_data import ICB, needs_icb
from immunoprecise.cli import app
from immunoprecise.registry import record_sha256

runner = CliRunner()
EXAMPLES = Path(ip.data.example_path("crc_msih.json")).parent


def _blocked(tmp_path: Path) -> Path:
    """A path that runs through a file: ``<tmp>/x.txt/sub``."""
    (tmp_path / "x.txt").write_text("a file\n", encoding="utf-8")
    return tmp_path / "x.txt" / "sub"


def test_one_patients_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    # the copy's expression matrix is not beside it: that patient fails, the others are evaluated
    copy = tmp_path / "crc_copy.json"
    shutil.copy(EXAMPLES / "crc_msih.json", copy)
    out = tmp_path / "o"
    args = [str(EXAMPLES / "fl_relapsed.json"), str(copy), str(EXAMPLES / "melanoma_braf.json")]
    result = runner.invoke(app, ["evaluate", *args, "-o", str(out)])
    assert result.exit_code == 2
    assert f"{copy}: patient SYN-CRC-001: " in result.stderr
    assert "matrix file not found" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["SYN-FL-001.json", "SYN-MEL-001.json"]
    assert "Wrote 2 files" in result.stderr


def test_a_patient_given_twice_is_not_overwritten(tmp_path: Path) -> None:
    first = EXAMPLES / "fl_relapsed.json"
    second = tmp_path / "fl_again.json"
    second.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(app, ["evaluate", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 2
    assert f"patient SYN-FL-001 was already evaluated from {first}" in result.stderr
    assert "Wrote 1 file to" in result.stderr
    written = json.loads((out / "SYN-FL-001.json").read_text(encoding="utf-8"))
    assert written["software"]["input_sha256"] == ip.evaluation.file_sha256(first)


def test_format_and_out_are_checked_before_any_output(tmp_path: Path) -> None:
    rows = (EXAMPLES / "fl_cohort.csv").read_text(encoding="utf-8").splitlines()[:4]
    table = tmp_path / "three.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    html = runner.invoke(app, ["evaluate", str(table), "-f", "html"])
    assert html.exit_code == 2
    assert "--format html for 3 patients needs --out DIR" in html.stderr
    assert html.stdout == ""
    pdf = runner.invoke(
        app, ["evaluate", str(EXAMPLES / "fl_relapsed.json"), "-f", "json", "-f", "pdf"]
    )
    assert pdf.exit_code == 2
    assert "--format pdf needs --out DIR" in pdf.stderr
    assert pdf.stdout == ""


def test_what_if_table_says_the_plan_is_hypothetical() -> None:
    path = str(EXAMPLES / "nsclc_cold.json")
    result = runner.invoke(app, ["evaluate", path, "--what-if", "pdl1_tps=70", "-f", "table"])
    assert result.exit_code == 0, result.output
    banner = " ".join(result.stdout.split("immune profile")[0].split())
    assert re.match(
        r"WHAT-IF \(hypothetical, not the patient's record\): pdl1_tps 0(\.0)? → 70\.", banner
    )
    assert "Pembrolizumab (anti-PD-1): disfavoured → indicated" in banner
    plain = runner.invoke(app, ["evaluate", path, "-f", "table"])
    assert "WHAT-IF" not in plain.stdout


def test_a_negative_seed_is_a_usage_error() -> None:
    path = str(EXAMPLES / "crc_msih.json")
    result = runner.invoke(app, ["evaluate", path, "--simulate", "--seed", "-1"])
    assert result.exit_code == 2
    assert "--seed" in result.output


def test_input_hash_of_a_record_without_a_file_is_the_registry_digest() -> None:
    record = ip.read_patient(EXAMPLES / "crc_msih.json")
    assert ip.evaluate(record).software.input_sha256 == record_sha256(record)


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["evaluate", str(EXAMPLES / "crc_msih.json"), "-o", "{blocked}"], "--out"),
        (["simulate", "kuznetsov1994", "-o", "{blocked}"], "--out"),
        (["schema", "--out", "{blocked}"], "--out"),
        (["trial", str(EXAMPLES / "fl_gammadelta_trial.yaml"), "--out", "{file}"], "--out"),
        (["cohort", "survival", str(EXAMPLES / "fl_cohort.csv"), "--json", "{dir}"], "--json"),
        (["cohort", "survival", str(EXAMPLES / "fl_cohort.csv"), "--plot", "km.txt"], "--plot"),
        (
            ["cohort", "survival", str(EXAMPLES / "fl_cohort.csv"), "--plot", "{blocked}.png"],
            "--plot",
        ),
        (["cohort", "report", str(EXAMPLES / "fl_cohort.csv"), "--out", "{dir}"], "--out"),
        (
            ["score-expression", str(EXAMPLES / "expression_examples.tsv"), "--out", "{dir}"],
            "--out",
        ),
    ],
)
def test_output_paths_that_cannot_be_written_are_refused_before_any_work(
    tmp_path: Path, command: list[str], option: str
) -> None:
    blocked = _blocked(tmp_path)
    places = {"{blocked}": str(blocked), "{file}": str(blocked.parent), "{dir}": str(tmp_path)}
    args = [places.get(a, a.replace("{blocked}", str(blocked))) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert "Traceback" not in result.output
    assert result.stdout.count("\n") < 8  # the usage error only: nothing was computed or printed


def test_db_init_through_a_file_names_the_file_in_the_way(tmp_path: Path) -> None:
    blocked = _blocked(tmp_path)
    result = runner.invoke(app, ["db", "init", "--db", str(blocked / "r.db")])
    assert result.exit_code == 2
    assert f"cannot create the folder {blocked.parent}" in result.stderr
    assert "a file of that name is in the way" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (no header row)"),
        (b"   \n", "is empty (no header row)"),
        (b"\xef\xbb\xbf", "is empty (no header row)"),
        (b'patient_id,os_days,os_event\n"a,1,1\n', "cannot be read as a table: "),
        (b"patient_id,os_days,os_event\nb\xe9,1,1\n", "is not UTF-8 text (byte 29)"),
        (b"\x00\x01\x02", "holds NUL bytes"),
    ],
)
def test_cohort_commands_refuse_unreadable_tables(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    result = runner.invoke(app, ["cohort", "survival", str(path)])
    assert result.exit_code == 2
    assert f"error: t.csv: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_score_expression_refuses_a_missing_reference(tmp_path: Path) -> None:
    matrix = str(EXAMPLES / "expression_examples.tsv")
    result = runner.invoke(
        app, ["score-expression", matrix, "--reference", str(tmp_path / "nope.tsv")]
    )
    assert result.exit_code == 2
    assert "nope.tsv" in result.output
    assert "does not exist" in result.output


def test_json_of_a_median_not_reached_is_standard_json(tmp_path: Path) -> None:
    table = tmp_path / "nr.csv"
    table.write_text(
        "patient_id,os_days,os_event,grp\n"
        "a,100,1,x\nb,150,1,x\nc,200,0,x\nd,50,0,y\ne,120,0,y\nf,200,1,y\ng,400,0,y\n"
        "h,500,0,y\ni,600,0,y\n",
        encoding="utf-8",
    )
    out = tmp_path / "nr.json"
    result = runner.invoke(
        app, ["cohort", "survival", str(table), "--by", "grp", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Infinity" not in text
    curves = json.loads(text)["kaplan_meier"]["curves"]
    medians = {c["label"]: c["median"]["estimate"] for c in curves}
    assert medians == {"x": 150.0, "y": None}
    assert "not reached" in result.stdout


@needs_icb
def test_predictors_across_cohorts_list_who_was_left_out(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    cohorts = [str(ICB / "Hugo2016_melanoma_PD1"), str(ICB / "Riaz2017_melanoma_PD1")]
    result = runner.invoke(
        app, ["cohort", "predictors", *cohorts, "-p", "icb_response", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    alone = ip.cohort.compare_predictors(
        ip.cohort.read_icb_cohort(ICB / "Riaz2017_melanoma_PD1"), ["icb_response"]
    )
    assert alone.excluded
    line = next(s for s in result.stdout.splitlines() if "Riaz2017_melanoma_PD1, icb_response" in s)
    assert alone.excluded[0] in line
    per_cohort = json.loads(out.read_text(encoding="utf-8"))["results"][0]["per_cohort"]
    riaz = next(c for c in per_cohort if c["cohort"] == "Riaz2017_melanoma_PD1")
    assert tuple(riaz["excluded"]) == alone.excluded


def test_simulate_keeps_patient_ids_as_written(tmp_path: Path) -> None:
    patients = tmp_path / "pts.csv"
    patients.write_text("patient,s\n001,0.1181\n002,0.2\n", encoding="utf-8")
    out = tmp_path / "o"
    result = runner.invoke(
        app, ["simulate", "kuznetsov1994", "--patients", str(patients), "-f", "csv", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = (out / "trajectories.csv").read_text(encoding="utf-8").splitlines()
    assert {r.split(",")[0] for r in rows[1:]} == {"001", "002"}


def test_db_downgrade_previous_and_a_newer_database(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    head = ip.registry.head_revision()
    down = runner.invoke(app, ["db", "downgrade", "previous", "--db", str(db)])
    assert down.exit_code == 0, down.output
    assert f"is at schema revision {int(head) - 1:04d}" in down.stdout
    assert runner.invoke(app, ["db", "upgrade", "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as connection:  # as a newer immunoprecise would leave it
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    status = runner.invoke(app, ["db", "status", "--db", str(db)])
    assert status.exit_code == 2
    assert "a newer immunoprecise migrated it" in status.stdout
    assert "run `immunoprecise db upgrade`" not in status.stdout
    imported = runner.invoke(
        app, ["db", "import", str(EXAMPLES / "crc_msih.json"), "--db", str(db)]
    )
    assert imported.exit_code == 2
    assert "upgrade immunoprecise" in imported.stderr


def test_a_failed_first_migration_leaves_no_database_file(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    result = runner.invoke(app, ["db", "upgrade", "--db", str(db), "--revision", "bogus"])
    assert result.exit_code == 2
    assert "bogus" in result.stderr
    assert not db.exists()


def test_export_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    table = str(EXAMPLES / "fl_cohort.csv")
    assert runner.invoke(app, ["db", "import", table, "--db", str(db)]).exit_code == 0
    export = subprocess.Popen(
        [sys.executable, "-m", "immunoprecise", "db", "export", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None
    first = export.stdout.read(10)  # the reader takes ten bytes and goes, as `| head -c 10`
    export.stdout.close()
    _, err = export.communicate()
    assert first.startswith(b"{")
    assert export.returncode == 0
    assert err == b""


def test_a_write_the_system_refuses_exits_2_naming_the_file() -> None:
    # /dev/full passes every check on the path, and then the system refuses the write (ENOSPC)
    cohort = str(EXAMPLES / "fl_cohort.csv")
    result = runner.invoke(app, ["cohort", "survival", cohort, "--json", "/dev/full"])
    assert result.exit_code == 2
    assert "error: cannot write /dev/full: No space left on device" in result.stderr


def test_the_entry_point_turns_any_refused_write_into_exit_2() -> None:
    matrix = str(EXAMPLES / "expression_examples.tsv")
    result = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "score-expression", matrix, "--out", "/dev/full"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("error: No space left on device")
