"""`immunoprecise evaluate --format table` shows record texts as written: brackets and colons
in an alteration or a comment are text, not terminal markup."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app

runner = CliRunner()


def _melanoma(write_json: Callable[..., Path], *alterations: str) -> Path:
    data = json.loads(ip.data.example_path("melanoma_braf.json").read_text(encoding="utf-8"))
    data.pop("expression", None)
    for mutation, alteration in zip(data["tumor"]["driver_mutations"], alterations, strict=False):
        mutation["alteration"] = alteration
    return write_json(data)


def _table(path: Path) -> str:
    result = runner.invoke(
        app, ["evaluate", str(path), "--format", "table"], env={"COLUMNS": "3000"}
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return " ".join(result.stdout.split())


def test_bracketed_hgvs_in_an_alteration_is_shown(write_json: Callable[..., Path]) -> None:
    table = _table(_melanoma(write_json, "V600E [c.1799T>A]"))
    assert "V600E [c.1799T>A]" in table


def test_a_closing_bracket_tag_in_a_record_text_does_not_stop_the_table(
    write_json: Callable[..., Path],
) -> None:
    table = _table(_melanoma(write_json, "V600E", "exon 2 deletion [/] see report"))
    assert "exon 2 deletion [/] see report" in table


def test_colon_words_are_not_turned_into_emoji(write_json: Callable[..., Path]) -> None:
    table = _table(_melanoma(write_json, "V600E", "deletion :pill: (pathology note)"))
    assert "deletion :pill: (pathology note)" in table
    assert "\N{PILL}" not in table


def test_a_file_name_with_colon_words_is_named_as_written(tmp_path: Path) -> None:
    missing = tmp_path / "visit:pill:2.json"
    result = runner.invoke(app, ["evaluate", str(missing)])
    assert result.exit_code == 2
    assert f"{missing}: 1 invalid field" in result.stderr
    assert "\N{PILL}" not in result.stderr
