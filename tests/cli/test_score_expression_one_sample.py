"""`immunoprecise score-expression` on a matrix of one sample, and on files that are not text."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
MATRIX = example_path("expression_examples.tsv")


def test_one_sample_is_counted_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one.tsv"
    pd.read_csv(MATRIX, sep="\t", index_col=0).iloc[:, :1].to_csv(path, sep="\t")
    result = runner.invoke(app, ["score-expression", str(path), "--no-deconvolution"])
    assert result.exit_code == 0, result.output
    assert "one.tsv: 1 sample\n" in result.stderr
    assert "SYN-MEL-001" in result.stdout


def test_a_gzip_file_without_gz_in_its_name_says_to_rename_it(tmp_path: Path) -> None:
    path = tmp_path / "tumours.tsv"
    path.write_bytes(gzip.compress(MATRIX.read_bytes()))
    result = runner.invoke(app, ["score-expression", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: tumours.tsv: is gzip-compressed, but its name does not end in .gz, so it cannot "
        "be read as text: rename it to tumours.tsv.gz"
    )
    assert "Traceback" not in result.output
