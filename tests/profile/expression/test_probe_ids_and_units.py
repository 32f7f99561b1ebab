"""Numeric row identifiers that are microarray probe IDs, not Entrez gene IDs, scales declared
under another name (``log2(TPM+1)``, ``FPKM``) and an AnnData with its genes in obs."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import GeneTable, read_expression, score_expression

runner = CliRunner()


def _example() -> pd.DataFrame:
    from immunoprecise.data import example_path

    return pd.read_csv(example_path("expression_examples.tsv"), sep="\t", index_col=0)


def _log2_values(identifiers: list[object], seed: int = 0) -> pd.DataFrame:
    """Microarray-like log2 intensities (2–14) of four samples."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(2.0, 14.0, size=(len(identifiers), 4))
    return pd.DataFrame(values, index=identifiers, columns=["P1", "P2", "P3", "P4"])


def _write_series_matrix(path: Path, table: pd.DataFrame, platform: str) -> None:
    """A GEO series matrix as GEO writes it, naming its platform."""
    accessions = [f"GSM{500 + i}" for i in range(table.shape[1])]
    lines = [
        '!Series_title\t"Tumour biopsies before anti-PD-1"',
        '!Series_geo_accession\t"GSE54321"',
        f'!Series_platform_id\t"{platform}"',
        "!Sample_geo_accession\t" + "\t".join(f'"{a}"' for a in accessions),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + "\t".join(f'"{a}"' for a in accessions),
        *(f"{i}\t" + "\t".join(f"{v:.4f}" for v in row) for i, row in table.iterrows()),
        "!series_matrix_table_end",
    ]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


def test_agilent_feature_numbers_of_a_series_matrix_are_refused_as_probe_ids(
    tmp_path: Path,
) -> None:
    # Agilent "feature number" platforms (GPL4133 and others) key their probes 1 … 45,015; a
    # series keeps the features that passed its filters (here every third one from 13). Read as
    # Entrez IDs, feature 3001 was GZMA.
    features = list(range(13, 45_016, 3))
    assert 3001 in features
    assert "3001" in GeneTable.shipped().by_entrez
    path = tmp_path / "GSE54321_series_matrix.txt.gz"
    _write_series_matrix(path, _log2_values(features), "GPL4133")
    with pytest.raises(ExpressionError) as raised:
        score_expression(path, deconvolution=False)
    message = str(raised.value)
    assert message.startswith("GSE54321_series_matrix.txt.gz: the row identifiers are numbers")
    assert "look like microarray probe IDs of platform GPL4133" in message
    assert "getGEO('GPL4133')" in message
    assert "Gene Symbol or ENTREZ_GENE_ID" in message


def test_affymetrix_transcript_cluster_ids_are_refused_as_probe_ids(tmp_path: Path) -> None:
    # Affymetrix HuGene 1.0 ST transcript clusters (GPL6244: 7892501 …), exported as a TSV;
    # no human Entrez ID lies between 10⁶ and 10⁸
    clusters = [7_892_501 + i for i in range(500)]
    path = tmp_path / "hugene_rma.tsv"
    _log2_values(clusters).to_csv(path, sep="\t")
    with pytest.raises(ExpressionError, match=r"only 0 of 500 are human Entrez gene IDs") as e:
        read_expression(path)
    assert "probe IDs (or Entrez IDs of another species)" in str(e.value)
    assert "'Download full table' on its GPL page" in str(e.value)
    result = runner.invoke(app, ["score-expression", str(path), "--no-deconvolution"])
    assert result.exit_code == 2, result.output
    assert "look like microarray probe IDs" in result.stderr
    assert "Traceback" not in result.output


def test_named_probe_ids_are_called_probe_ids_not_a_transposed_matrix(tmp_path: Path) -> None:
    # Affymetrix U133 Plus 2.0 (GPL570) probe sets in a series matrix
    u133 = ["1007_s_at", "1053_at", "117_at", "121_at", "1255_g_at", "1294_at", "1316_at"]
    path = tmp_path / "GSE91061_series_matrix.txt.gz"
    _write_series_matrix(path, _log2_values(u133), "GPL570")
    with pytest.raises(ExpressionError) as raised:
        read_expression(path)
    message = str(raised.value)
    assert "1007_s_at, 1053_at, 117_at, 121_at, 1255_g_at, microarray probe IDs of platform " in (
        message
    )
    assert "getGEO('GPL570')" in message
    assert "transpose" not in message
    # Illumina probes exported as a TSV
    illumina = [f"ILMN_{1343291 + i}" for i in range(50)]
    tsv = tmp_path / "illumina.tsv"
    _log2_values(illumina).to_csv(tsv, sep="\t")
    with pytest.raises(ExpressionError, match=r"ILMN_1343295, microarray probe IDs, not genes\."):
        read_expression(tsv)


def test_matrices_keyed_by_entrez_ids_are_read_as_before(tmp_path: Path) -> None:
    table = GeneTable.shipped()
    entrez = {symbol: e for e, symbol in sorted(table.by_entrez.items(), reverse=True)}
    tpm = _example()
    keyed = tpm.set_axis([entrez[g] for g in tpm.index], axis=0)
    # NCBI's count tables also list unnamed loci (LOC…, IDs above 10⁸) that map to no gene
    loci = pd.DataFrame(
        0.5, index=[str(105_370_000 + i) for i in range(3 * len(tpm))], columns=tpm.columns
    )
    with_loci = pd.concat([keyed, loci])
    by_symbol = score_expression(tpm, deconvolution=False)
    for frame in (keyed, with_loci):
        scores = score_expression(frame, deconvolution=False)
        np.testing.assert_allclose(scores["CYT"].to_numpy(), by_symbol["CYT"].to_numpy(), rtol=1e-3)
    # a series matrix of a platform keyed by Entrez IDs
    path = tmp_path / "GSE1_series_matrix.txt.gz"
    _write_series_matrix(path, np.log2(keyed + 1.0), "GPL99999")
    from_series = score_expression(path, deconvolution=False)
    np.testing.assert_allclose(
        from_series["IFNG6"].to_numpy(), by_symbol["IFNG6"].to_numpy(), rtol=1e-4
    )


def test_a_few_numeric_rows_among_symbols_are_not_refused() -> None:
    tpm = _example()
    extra = pd.DataFrame(1.0, index=["7892501", "7892502", "7892503"], columns=tpm.columns)
    read = read_expression(pd.concat([tpm, extra]), units="tpm")
    assert "GZMA" in read.symbols


@pytest.mark.parametrize(
    ("declared", "hint"),
    [
        ("log2(TPM+1)", "for log2(TPM + c) values declare units='log2tpm' (and log2_offset=c"),
        ("FPKM", "convert each sample to TPM (its FPKM ÷ the sample's FPKM sum × 10⁶)"),
        ("cpm", "read counts, raw or per million, are declared units='counts'"),
        ("log10", "the only logarithmic scale read is log2"),
    ],
)
def test_a_scale_named_another_way_says_what_to_declare(declared: str, hint: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        read_expression(_example(), units=declared)  # type: ignore[arg-type]
    message = str(raised.value)
    assert message.startswith(f"units must be counts, tpm or log2tpm, not {declared!r}: ")
    assert hint in message


def test_the_command_words_the_units_hint_as_options() -> None:
    from immunoprecise.data import example_path

    matrix = str(example_path("expression_examples.tsv"))
    result = runner.invoke(app, ["score-expression", matrix, "--units", "log2(tpm+1)"])
    assert result.exit_code == 2, result.output
    assert (
        "error: --units must be counts, tpm or log2tpm, not 'log2(tpm+1)': for log2(TPM + c) "
        "values declare --units log2tpm (and --log2-offset c where c is known, e.g. "
        "--log2-offset 1 for log2(TPM + 1))"
    ) in result.stderr
    assert "log2_offset" not in result.stderr


def test_an_anndata_with_genes_in_obs_is_refused_in_anndata_terms(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    tpm = _example()
    # genes as obs, samples as var: the genes × samples table stored as it is
    adata = anndata.AnnData(
        X=tpm.to_numpy(), obs=pd.DataFrame(index=tpm.index), var=pd.DataFrame(index=tpm.columns)
    )
    path = tmp_path / "cohort.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(ExpressionError) as raised:
        read_expression(path)
    message = str(raised.value)
    assert message.startswith(
        f"cohort.h5ad: the obs names look like genes ({len(tpm):,} of {len(tpm):,}"
    )
    assert "0 of 4 var names are" in message
    assert "AnnData holds samples in obs and genes in var" in message
    assert "adata = adata.T" in message
    assert "expected genes in rows" not in message
    # the same AnnData transposed is read
    assert read_expression(adata.T).samples == list(tpm.columns)
