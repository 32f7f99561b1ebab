"""``evaluate --format jsonl``: JSON Lines, one compact evaluation per line and patient, the same
documents as ``--format json``; to stdout, or to one ``evaluations.jsonl`` with ``--out``."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app

runner = CliRunner()
EXAMPLES = [
    str(ip.data.example_path(name))
    for name in ("fl_relapsed.json", "nsclc_cold.json", "melanoma_braf.json")
]
IDS = ["SYN-FL-001", "SYN-NSCLC-001", "SYN-MEL-001"]


def _documents(text: str) -> list[Any]:
    """The JSON documents written back to back (``--format json`` to stdout)."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while text[at:].strip():
        while text[at].isspace():
            at += 1
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def test_jsonl_to_stdout_is_one_line_per_patient_equal_to_json() -> None:
    lines_run = runner.invoke(app, ["evaluate", *EXAMPLES, "-f", "jsonl"])
    assert lines_run.exit_code == 0, lines_run.output
    json_run = runner.invoke(app, ["evaluate", *EXAMPLES, "-f", "json"])
    assert json_run.exit_code == 0, json_run.output
    lines = lines_run.stdout.splitlines()
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    assert [d["patient_id"] for d in parsed] == [ip.read_patient(p).patient.id for p in EXAMPLES]
    assert parsed == _documents(json_run.stdout)
    assert lines_run.stdout.endswith("\n")


def test_jsonl_with_out_writes_one_file_read_by_pandas(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["evaluate", *EXAMPLES, "-f", "json", "-f", "jsonl", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    jsonl = out / "evaluations.jsonl"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["evaluations.jsonl", *(f"{i}.json" for i in IDS)]
    )
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    for line in lines:
        document = json.loads(line)
        pid = document["patient_id"]
        assert document == json.loads((out / f"{pid}.json").read_text(encoding="utf-8"))
    frame = pd.read_json(jsonl, lines=True)
    assert sorted(frame["patient_id"]) == sorted(IDS)
    # listed once among the files written, not once per patient
    assert result.stderr.count(str(jsonl)) == 1
    assert "Wrote 4 files" in result.stderr


def test_jsonl_with_out_replaces_the_file_of_an_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for paths in (EXAMPLES, EXAMPLES[:1]):
        result = runner.invoke(app, ["evaluate", *paths, "-f", "jsonl", "--out", str(out)])
        assert result.exit_code == 0, result.output
    lines = (out / "evaluations.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["patient_id"] for line in lines] == ["SYN-FL-001"]


def test_jsonl_from_a_table_has_a_line_per_row(tmp_path: Path) -> None:
    table = tmp_path / "patients.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["patient_id", "diagnosis", "oncotree_code", "tmb_mut_per_Mb", "crp_mg_per_L"]
        )
        writer.writerow(["P1", "Colon adenocarcinoma", "COAD", "45", "12"])
        writer.writerow(["P2", "Melanoma", "SKCM", "3", "40"])
    result = runner.invoke(app, ["evaluate", str(table), "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["patient_id"] for r in rows] == ["P1", "P2"]


def test_a_line_break_character_in_a_text_stays_inside_its_line(
    tmp_path: Path, minimal: dict[str, Any]
) -> None:
    # U+2028 is valid unescaped in JSON text, but str.splitlines() breaks lines at it
    minimal["disease"]["diagnosis"] = "Colon adenocarcinoma\u2028(sigmoid)"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(minimal, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(path), str(EXAMPLES[0]), "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["patient_id"] for line in lines] == ["T-001", "SYN-FL-001"]


def test_help_names_jsonl() -> None:
    result = runner.invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200"})
    assert "jsonl" in result.output
    assert "evaluations.jsonl" in result.output
