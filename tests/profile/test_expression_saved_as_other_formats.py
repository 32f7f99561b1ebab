"""Expression matrices saved in a binary format or compressed under a plain name: each refusal
says what the file is and how to give it, and the fix it names makes the file readable."""

from __future__ import annotations

import bz2
import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.data import example_path
from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression.values import expression_values
from immunoprecise.records import ExpressionReference

MATRIX = example_path("expression_examples.tsv")


def _example() -> pd.DataFrame:
    return pd.read_csv(MATRIX, sep="\t", index_col=0)


@pytest.mark.parametrize(
    ("compress", "suffix", "tool"),
    [(gzip.compress, ".gz", "gzip"), (bz2.compress, ".bz2", "bzip2")],
)
def test_a_compressed_matrix_under_a_plain_name_is_refused_with_its_new_name(
    tmp_path: Path, compress: Callable[[bytes], bytes], suffix: str, tool: str
) -> None:
    plain = tmp_path / "tumours.tsv"
    plain.write_bytes(compress(MATRIX.read_bytes()))
    with pytest.raises(ExpressionError) as raised:
        ip.score_expression(plain, deconvolution=False)
    message = str(raised.value)
    assert message == (
        f"tumours.tsv: is {tool}-compressed, but its name does not end in {suffix}, so it "
        f"cannot be read as text: rename it to tumours.tsv{suffix}"
    )
    assert "NUL bytes" not in message
    renamed = tmp_path / f"tumours.tsv{suffix}"
    shutil.move(plain, renamed)
    scores = ip.score_expression(renamed, deconvolution=False)
    expected = ip.score_expression(MATRIX, deconvolution=False)
    pd.testing.assert_series_equal(scores["icb_response"], expected["icb_response"])


@pytest.mark.parametrize("name", ["tumours.xlsx", "tumours.tsv"])
def test_an_excel_workbook_is_named_as_such(tmp_path: Path, name: str) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / name
    _example().to_excel(path)
    with pytest.raises(ExpressionError) as raised:
        ip.score_expression(path, deconvolution=False)
    assert str(raised.value) == (
        f"{name}: is an Excel workbook (.xlsx), which is not read as an expression matrix: "
        "save the sheet as TSV or CSV (genes in the first column, one column per sample)"
    )


def test_a_parquet_file_is_named_as_such(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "tumours.parquet"
    _example().to_parquet(path)
    with pytest.raises(ExpressionError, match=r"^tumours\.parquet: is a Parquet file, which is "):
        ip.score_expression(path, deconvolution=False)


def test_an_anndata_file_under_another_name_is_told_to_be_renamed(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    path = tmp_path / "tumours.h5"
    anndata.AnnData(_example().T).write_h5ad(path)
    with pytest.raises(ExpressionError) as raised:
        ip.score_expression(path, deconvolution=False)
    assert "an AnnData file is read when its name ends in .h5ad (rename it)" in str(raised.value)
    renamed = tmp_path / "tumours.h5ad"
    shutil.move(path, renamed)
    assert len(ip.score_expression(renamed, deconvolution=False)) == 4


def test_a_zip_archive_names_what_it_holds(tmp_path: Path) -> None:
    archive = Path(shutil.make_archive(str(tmp_path / "matrices"), "zip", MATRIX.parent))
    path = tmp_path / "matrices.tsv"  # a zip under a text name
    shutil.move(archive, path)
    with pytest.raises(ExpressionError, match=r"^matrices\.tsv: is a ZIP archive \(.+\): unzip it"):
        ip.score_expression(path, deconvolution=False)


def test_a_one_sample_matrix_is_counted_in_the_singular(tmp_path: Path) -> None:
    path = tmp_path / "one.tsv"
    _example().iloc[:, :1].to_csv(path, sep="\t")
    with pytest.raises(ExpressionError) as raised:
        expression_values(ExpressionReference(path=str(path), sample_id="NOPE"))
    assert str(raised.value) == (
        "expression.sample_id: 'NOPE' is not a sample of one.tsv (1 sample, e.g. SYN-MEL-001)"
    )
