"""A matrix of mouse genes is refused: its symbols match human genes only when case is ignored
(``Gzma`` → GZMA), and the signatures are of human genes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import read_expression

HUMAN = ["GZMA", "PRF1", "CD8A", "IFNG", "STAT1", "CXCL9", "CXCL10", "IDO1", "HLA-DRA", "ACTB"]
MOUSE = ["Gzma", "Prf1", "Cd8a", "Ifng", "Stat1", "Cxcl9", "Cxcl10", "Ido1", "H2-Ea", "Actb"]


def _matrix(genes: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        rng.uniform(1.0, 300.0, (len(genes), 3)), index=genes, columns=["m1", "m2", "m3"]
    )


def test_a_matrix_of_mouse_symbols_is_refused_naming_them() -> None:
    with pytest.raises(ExpressionError, match="look like mouse genes") as caught:
        ip.score_expression(_matrix(MOUSE), units="tpm")
    text = str(caught.value)
    assert "Gzma, Prf1, Cd8a" in text
    assert "human orthologs" in text


def test_a_matrix_of_mouse_ensembl_ids_is_refused_as_mouse() -> None:
    ids = ["ENSMUSG00000023132.4", "ENSMUSG00000037202", "ENSMUSG00000053977"]
    with pytest.raises(ExpressionError, match="look like mouse genes"):
        read_expression(_matrix(ids), units="tpm")


@pytest.mark.parametrize("case", [str.upper, str.lower], ids=["upper", "lower"])
def test_human_symbols_in_one_case_are_read(case: Callable[[str], str]) -> None:
    genes = [case(g) for g in HUMAN]
    scores = ip.score_expression(_matrix(genes), units="tpm", deconvolution=False)
    expected = ip.score_expression(_matrix(HUMAN), units="tpm", deconvolution=False)
    pd.testing.assert_frame_equal(scores, expected)


def test_a_few_human_symbols_with_lower_case_letters_are_not_mouse() -> None:
    # approved human symbols such as C9orf72 have lower-case letters; one odd row is not a species
    genes = [*HUMAN, "C9orf72", "Prf1"]
    matrix = read_expression(_matrix(genes), units="tpm")
    assert {"C9orf72", "PRF1"} <= set(matrix.symbols)


def test_the_command_refuses_a_mouse_matrix_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "mouse.tsv"
    _matrix(MOUSE).to_csv(path, sep="\t")
    result = CliRunner().invoke(app, ["score-expression", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "look like mouse genes" in result.output
    assert "Traceback" not in result.output


def test_a_matrix_of_human_and_mouse_genes_is_refused_naming_the_twins() -> None:
    # a xenograft aligned to both genomes: Gzma would be added to GZMA when case is ignored
    with pytest.raises(ExpressionError, match="mix human and mouse genes") as caught:
        read_expression(_matrix([*HUMAN, "Gzma", "Prf1"]), units="tpm")
    assert "Gzma beside GZMA, Prf1 beside PRF1" in str(caught.value)


def test_human_previous_symbols_beside_their_capitals_are_not_a_xenograft() -> None:
    # RNA-seq tables carry both C6orf165 (a previous human symbol, as written by HGNC) and its
    # capitalized form; neither is a mouse gene
    genes = [*HUMAN, "C6orf165", "C6ORF165", "C15orf37", "C15ORF37"]
    matrix = read_expression(_matrix(genes), units="tpm")
    assert "GZMA" in matrix.symbols
