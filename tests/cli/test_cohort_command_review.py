"""`immunoprecise cohort` on hand-made cohorts: nothing left out without a word, and a bad record
table named field by field (review of 2026-11)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()


def test_predictors_across_cohorts_names_every_cohort_not_evaluated(tmp_path: Path) -> None:
    (tmp_path / "c1.csv").write_text(
        "patient_id,response,s1,s2\nA1,R,3,1\nA2,R,2,2\nA3,NR,1,3\nA4,NR,0.5,\nA5,R,4,5\n"
        "A6,NR,2,0\n",
        encoding="utf-8",
    )
    (tmp_path / "c2.csv").write_text(
        "patient_id,response,s1\nB1,R,3\nB2,R,5\nB3,NR,1\nB4,NR,2\nB5,R,1.5\n", encoding="utf-8"
    )
    (tmp_path / "c3.csv").write_text(
        "patient_id,response,s1,s2\nC1,R,3,1\nC2,NR,2,2\nC3,NR,1,3\n", encoding="utf-8"
    )
    paths = [str(tmp_path / f"c{i}.csv") for i in (1, 2, 3)]
    result = runner.invoke(app, ["cohort", "predictors", *paths, "-p", "s1", "-p", "s2"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    # c3 has one responder (no DeLong variance), c2 has no s2: both were missing from the output
    assert "not evaluated (c3, s1: 1 responders and 2 non-responders have s1; needs 2+)" in out
    assert "not evaluated (c2, s2: no column 's2')" in out
    assert "not evaluated (c3, s2:" in out


def test_a_bad_record_table_is_named_field_by_field(tmp_path: Path) -> None:
    table = pd.read_csv(example_path("fl_cohort.csv"))
    table.loc[5, "os_event"] = 2
    path = tmp_path / "fl.csv"
    table.to_csv(path, index=False)
    for command, *options in (["survival"], ["response"], ["cutpoint", "crp", "--n-boot", "10"]):
        result = runner.invoke(app, ["cohort", command, str(path), *options])
        assert result.exit_code == 2, result.output
        err = " ".join(result.stderr.split())
        # the records' error named row, patient, column and value; the CLI kept only
        # "cannot be read as a table: fl.csv: 1 invalid field"
        assert "row 7 (SYN-FLC-006) column os_event = '2'" in err
        assert "cannot be read as a table" not in err


def _two_cohorts(tmp_path: Path) -> list[Path]:
    paths = []
    for k, folder in enumerate(("centre_a", "centre_b")):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "cohort.csv"
        rows = [
            f"{folder}-{i},{'R' if i % 2 else 'NR'},{0.5 * (i % 2) + ((7 * i + 3 * k) % 10) / 10}"
            for i in range(20)
        ]
        path.write_text("patient_id,response,s1\n" + "\n".join(rows) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_predictors_keeps_cohorts_whose_files_share_a_name(tmp_path: Path) -> None:
    a, b = _two_cohorts(tmp_path)
    out = tmp_path / "result.json"
    result = runner.invoke(
        app, ["cohort", "predictors", str(a), str(b), "-p", "s1", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    evaluation = json.loads(out.read_text(encoding="utf-8"))
    # each file is its own cohort (the second replaced the first before), pooled from both
    assert evaluation["cohorts"] == [str(a), str(b)]
    (s1,) = evaluation["results"]
    assert [c["cohort"] for c in s1["per_cohort"]] == [str(a), str(b)]
    assert s1["pooled"]["pooled"]["n"] == 40


def test_predictors_refuses_the_same_cohort_given_twice(tmp_path: Path) -> None:
    a, _ = _two_cohorts(tmp_path)
    result = runner.invoke(app, ["cohort", "predictors", str(a), str(a), "-p", "s1"])
    assert result.exit_code == 2
    assert "given twice" in result.output
    assert "Traceback" not in result.output
