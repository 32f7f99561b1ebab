"""The CLI: help on every command, outputs written, exit codes 0 and 2, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["evaluate"], ["schema"], ["examples"]])
def test_help_on_every_command(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_json_to_stdout(write_json: Callable[..., Path], minimal: dict[str, Any]) -> None:
    result = runner.invoke(app, ["evaluate", str(write_json(minimal))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"patient_id", "profile", "plan", "software"} <= set(data)
    assert data["patient_id"] == "T-001"
    assert len(data["software"]["input_sha256"]) == 64


def test_files_written_to_out(tmp_path: Path) -> None:
    example = ip.data.example_path("crc_msih.json")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["evaluate", str(example), "-f", "json", "-f", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["SYN-CRC-001.html", "SYN-CRC-001.json"]
    data = json.loads((out / "SYN-CRC-001.json").read_text(encoding="utf-8"))
    assert data["software"]["input_sha256"] == ip.evaluation.file_sha256(example)
    assert "<html" in (out / "SYN-CRC-001.html").read_text(encoding="utf-8")


def test_table_format(write_json: Callable[..., Path], minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    result = runner.invoke(app, ["evaluate", str(write_json(minimal)), "--format", "table"])
    assert result.exit_code == 0
    assert "ranked strategies" in result.output
    assert "Pembrolizumab" in result.output


def test_invalid_input_exits_2_with_field_message(
    write_json: Callable[..., Path], minimal: dict[str, Any]
) -> None:
    minimal["host"]["crp"] = "12 bananas"
    result = runner.invoke(app, ["evaluate", str(write_json(minimal))])
    assert result.exit_code == 2
    assert "host.crp" in result.stderr
    assert "unknown unit" in result.stderr
    assert "Traceback" not in result.output


def test_valid_inputs_still_evaluated_beside_invalid(
    tmp_path: Path, write_json: Callable[..., Path], minimal: dict[str, Any]
) -> None:
    good = write_json(minimal, "good.json")
    bad = write_json({"patient": {}}, "bad.json")
    out = tmp_path / "o"
    result = runner.invoke(app, ["evaluate", str(bad), str(good), "--out", str(out)])
    assert result.exit_code == 2
    assert (out / "T-001.json").exists()
    assert "disease: required field is missing" in result.stderr


@pytest.mark.parametrize(
    "args", [["evaluate"], ["evaluate", "x.json", "--format", "pdf"], ["nonsense"]]
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_bad_knowledge_base_exits_2(
    tmp_path: Path, write_json: Callable[..., Path], minimal: dict[str, Any]
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    result = runner.invoke(app, ["evaluate", str(write_json(minimal)), "--knowledge", str(kb)])
    assert result.exit_code == 2
    assert "knowledge base" in result.stderr


def test_table_input_evaluates_every_row(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(
        "patient_id,diagnosis,oncotree_code,tmb_mut_per_Mb\nA,x,COAD,20\nB,y,COAD,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = runner.invoke(app, ["evaluate", str(table), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["A.json", "B.json"]


def test_installed_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("immunoprecise ")


def test_examples_lists_paths_and_with_all_every_shipped_file() -> None:
    folder = ip.data.example_path("crc_msih.json").parent
    plain = runner.invoke(app, ["examples"])
    assert plain.exit_code == 0, plain.output
    paths = [Path(line) for line in plain.stdout.splitlines()]
    assert all(p.is_file() for p in paths)  # one path a line, usable by a shell
    assert {p.name for p in paths} == {p.name for p in folder.glob("*.json")} | {"fl_cohort.csv"}
    every = runner.invoke(app, ["examples", "--all"])
    assert every.exit_code == 0, every.output
    rows = dict(line.split("\t") for line in every.stdout.splitlines())
    # the tutorials use the expression matrix and the trial design, which the plain list omits
    assert {Path(p).name for p in rows} == {p.name for p in folder.iterdir() if p.is_file()}
    assert rows[str(folder / "expression_examples.tsv")].startswith("expression matrix")
    assert rows[str(folder / "fl_gammadelta_trial.yaml")] == "virtual trial design"
