"""score-expression reads a CSV that Excel saved with its ``sep=;`` first line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
MATRIX = example_path("expression_examples.tsv")


def test_a_semicolon_csv_with_a_sep_line_is_scored_like_the_tsv(tmp_path: Path) -> None:
    matrix = pd.read_csv(MATRIX, sep="\t", index_col=0)
    csv = tmp_path / "tpm.csv"
    with csv.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write("sep=;\r\n")
        matrix.to_csv(handle, sep=";", decimal=",", lineterminator="\r\n")
    from_tsv, from_csv = tmp_path / "tsv_scores.tsv", tmp_path / "csv_scores.tsv"
    first = runner.invoke(app, ["score-expression", str(MATRIX), "--out", str(from_tsv)])
    second = runner.invoke(app, ["score-expression", str(csv), "--out", str(from_csv)])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "as its first line (sep=;) says" in second.output
    pd.testing.assert_frame_equal(
        pd.read_csv(from_tsv, sep="\t", index_col=0), pd.read_csv(from_csv, sep="\t", index_col=0)
    )
