"""Reading expression matrices: formats, unit detection and conversion, gene identifiers."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import GeneTable, detect_units, read_expression
from immunoprecise.profile.expression.signatures import immunogram_axes


@pytest.fixture
def tpm() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    genes = ["GZMA", "PRF1", "CD274", "STAT1", "B2M", "ACTB"]
    values = rng.uniform(0.0, 500.0, (len(genes), 3))
    values[0, 1] = 0.0  # RNA-seq has zeros: they reveal the offset of log2(TPM + offset)
    return pd.DataFrame(values, index=genes, columns=["pt_a", "pt_b", "pt_c"])


def test_gene_identifiers_of_every_kind_map_to_symbols() -> None:
    table = GeneTable.shipped()
    mapping = table.to_symbols(
        ["CD274", "cd274", "ENSG00000120217", "ENSG00000120217.14", "29126", "PDL1", "x-y-z"]
    )
    assert mapping.symbols == ("CD274", "CD274", "CD274", "CD274", "CD274", "CD274", None)
    assert mapping.kinds["ensembl"] == 2
    assert mapping.kinds["entrez"] == 1
    assert mapping.kinds["alias"] == 1
    assert mapping.unmapped == ("x-y-z",)
    assert ("PDL1", "CD274") in mapping.renamed


def test_previous_symbols_of_the_signatures_are_mapped() -> None:
    symbols = GeneTable.shipped().to_symbols(["C14orf102", "C10orf54", "IARS", "SDPR"]).symbols
    assert symbols == ("NRDE2", "VSIR", "IARS1", "CAVIN2")


def test_an_alias_shared_by_two_genes_is_not_guessed() -> None:
    table = GeneTable.shipped()
    ambiguous = sorted(table.ambiguous_aliases)[0]
    mapping = table.to_symbols([ambiguous])
    assert mapping.symbols == (None,)
    assert mapping.kinds["ambiguous"] == 1


def test_an_alias_in_another_case_is_mapped_only_where_that_is_unambiguous() -> None:
    # HGNC: INOS is an alias of ISYNA1, iNOS one of NOS2; Tim-3 / TIM3 only of HAVCR2
    table = GeneTable.shipped()
    mapping = table.to_symbols(["INOS", "iNOS", "Inos", "inos", "tim3", "cd66B"])
    assert mapping.symbols == ("ISYNA1", "NOS2", None, None, "HAVCR2", "CEACAM8")
    assert mapping.kinds["ambiguous"] == 2
    assert mapping.unmapped == ("Inos", "inos")


def test_immunogram_protein_names_score_the_genes_meant() -> None:
    """IGS8 lists INOS (inducible NOS, NOS2), not ISYNA1 whose HGNC alias INOS is; IGS7 lists
    TIM-3 (HAVCR2)."""
    genes = ["NOS2", "ISYNA1", "HAVCR2", "IL10", "IDO1", "TGFB1", "ARG1", "CTNNB1", "PDCD1"]
    genes += ["BTLA", "LAG3", "CTLA4", "CD274", "VSIR"] + [f"GENE{i}" for i in range(40)]
    rng = np.random.default_rng(1)
    tpm = pd.DataFrame(rng.uniform(1.0, 100.0, (len(genes), 3)), index=genes)
    tpm.columns = ["a", "b", "c"]
    scores = {s.coverage.signature: s for s in immunogram_axes(read_expression(tpm, units="tpm"))}
    assert "NOS2" in scores["IGS8"].coverage.found
    assert "ISYNA1" not in scores["IGS8"].coverage.found
    assert scores["IGS7"].coverage.found == (
        "PDCD1",
        "BTLA",
        "HAVCR2",
        "LAG3",
        "CTLA4",
        "CD274",
        "VSIR",
    )
    # the axis moves with NOS2, not with ISYNA1
    raised = tpm.copy()
    raised.loc["NOS2", "a"] *= 50
    igs8 = {s.coverage.signature: s for s in immunogram_axes(read_expression(raised, units="tpm"))}
    assert igs8["IGS8"].values.loc["a", "IGS8"] > scores["IGS8"].values.loc["a", "IGS8"]


@pytest.mark.parametrize(
    ("offset", "expected"), [(1.0, 1.0), (0.001, 0.001), (0.01, 0.01), (1e-4, 1e-4)]
)
def test_log2_offset_is_detected_from_the_minimum(offset: float, expected: float) -> None:
    values = np.log2(np.array([[0.0, 5.0], [120.0, 0.5]]) + offset)
    units, detected, evidence = detect_units(values)
    assert units == "log2tpm"
    assert detected == expected
    assert "log2" in evidence


def test_counts_and_tpm_are_told_apart() -> None:
    counts = np.array([[0.0, 12.0, 7.0], [530.0, 9100.0, 15.0], [44.0, 3.0, 1200.0]])
    assert detect_units(counts)[0] == "counts"
    tpm = counts / counts.sum(axis=0) * 1e6
    assert detect_units(tpm)[0] == "tpm"


def test_log2_input_converts_back_to_the_same_tpm(tpm: pd.DataFrame) -> None:
    logged = np.log2(tpm + 0.001)
    m = read_expression(logged)
    assert m.units == "log2tpm"
    back = m.tpm(list(tpm.index)).loc[tpm.index]
    np.testing.assert_allclose(back.to_numpy(), tpm.to_numpy(), rtol=1e-9, atol=1e-9)


def test_counts_become_cpm_or_tpm_with_gene_lengths() -> None:
    counts = pd.DataFrame({"a": [100.0, 300.0], "b": [10.0, 10.0]}, index=["GZMA", "PRF1"])
    cpm = read_expression(counts, units="counts")
    np.testing.assert_allclose(cpm.tpm().loc["GZMA"].to_numpy(), [250_000.0, 500_000.0])
    assert "counts per million" in cpm.units_note
    lengths = pd.Series({"GZMA": 1000.0, "PRF1": 3000.0})
    tpm = read_expression(counts, units="counts", gene_lengths=lengths)
    np.testing.assert_allclose(tpm.tpm().loc["GZMA"].to_numpy(), [500_000.0, 750_000.0])


@pytest.mark.parametrize("units", [None, "counts"])
def test_reading_counts_with_gene_lengths_leaves_the_callers_frame_alone(
    units: Literal["counts"] | None,
) -> None:
    # integer values not summing to a million: detected as counts when units are omitted
    counts = pd.DataFrame(
        {"a": [4268.0, 1421.0, 300.0], "b": [3221.0, 1608.0, 977.0]},
        index=["GZMA", "PRF1", "CD8A"],
    )
    before = counts.copy()
    lengths = pd.Series({"GZMA": 1000.0, "PRF1": 2000.0, "CD8A": 1500.0})
    first = read_expression(counts, units=units, gene_lengths=lengths)
    assert first.units == "counts"
    pd.testing.assert_frame_equal(counts, before)
    # TPM from first principles: counts per base pair, scaled to a million per sample
    rate = before.div(lengths, axis=0)
    expected = rate / rate.sum() * 1e6
    got = first.tpm(["GZMA", "PRF1", "CD8A"])
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    # reading the same frame again gives the same values
    again = read_expression(counts, units=units, gene_lengths=lengths)
    np.testing.assert_allclose(again.tpm(["GZMA"]).to_numpy(), got.loc[["GZMA"]].to_numpy())


def test_rows_mapping_to_one_symbol_are_added_in_linear_space() -> None:
    frame = pd.DataFrame({"s": [10.0, 5.0, 1.0]}, index=["CD274", "ENSG00000120217.3", "GZMA"])
    m = read_expression(frame, units="tpm")
    assert m.duplicates == ("CD274",)
    assert m.tpm(["CD274"]).iloc[0, 0] == 15.0
    logged = np.log2(frame + 1.0)
    assert read_expression(logged, units="log2tpm").tpm(["CD274"]).iloc[0, 0] == pytest.approx(15)


def test_files_tsv_gz_csv_and_h5ad_read_the_same(tmp_path: Path, tpm: pd.DataFrame) -> None:
    anndata = pytest.importorskip("anndata")
    tsv = tmp_path / "m.tsv.gz"
    with gzip.open(tsv, "wt") as handle:
        tpm.to_csv(handle, sep="\t")
    csv = tmp_path / "m.csv"
    tpm.to_csv(csv)
    h5ad = tmp_path / "m.h5ad"
    anndata.AnnData(tpm.T.copy()).write_h5ad(h5ad)
    reads = [read_expression(p, units="tpm") for p in (tsv, csv, h5ad)]
    for m in reads:
        assert m.samples == ["pt_a", "pt_b", "pt_c"]
        pd.testing.assert_frame_equal(m.tpm(), reads[0].tpm())


def test_bad_input_gets_a_clear_error(tmp_path: Path, tpm: pd.DataFrame) -> None:
    with pytest.raises(ExpressionError, match="not found"):
        read_expression(tmp_path / "missing.tsv")
    bad = tpm.astype(object)
    bad.iloc[2, 1] = "high"
    with pytest.raises(ExpressionError, match=r"gene CD274, sample pt_b: 'high'"):
        read_expression(bad)
    negative = tpm.copy()
    negative.iloc[0, 0] = -3.0
    with pytest.raises(ExpressionError, match="negative tpm value at gene GZMA, sample pt_a"):
        read_expression(negative, units="tpm")
    with pytest.raises(ExpressionError, match="units must be counts, tpm or log2tpm"):
        read_expression(tpm, units="fpkm")  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="transpose"):
        read_expression(tpm.T)
    infinite = tpm.copy()
    infinite.iloc[1, 2] = np.inf
    with pytest.raises(ExpressionError, match="infinite value at gene PRF1, sample pt_c"):
        read_expression(infinite)


def test_per_sample_moments_equal_the_direct_computation(tpm: pd.DataFrame) -> None:
    m = read_expression(tpm, units="tpm")
    mean, sd = m.log2_moments(chunk=2)
    direct = np.log2(tpm + 1.0)
    np.testing.assert_allclose(mean, direct.mean(axis=0).to_numpy())
    np.testing.assert_allclose(sd, direct.std(axis=0, ddof=1).to_numpy())
    np.testing.assert_allclose(m.tpm_totals(chunk=2), tpm.sum(axis=0).to_numpy())


@pytest.mark.parametrize("suffix", [".tsv", ".csv.gz"])
def test_a_sample_id_written_twice_in_a_file_is_refused(tmp_path: Path, suffix: str) -> None:
    # pandas would read the second "pt_a" as "pt_a.1": two samples silently become distinct
    sep = "," if ".csv" in suffix else "\t"
    text = sep.join(["gene", "pt_a", "pt_b", "pt_a"]) + "\n"
    text += "".join(sep.join([g, "1", "2", "3"]) + "\n" for g in ["GZMA", "PRF1"])
    path = tmp_path / f"m{suffix}"
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    with pytest.raises(ExpressionError, match=r"m\S*: sample ids must be unique; repeated: 'pt_a'"):
        read_expression(path, units="tpm")


def test_a_sample_id_repeated_in_a_dataframe_is_refused() -> None:
    frame = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["GZMA", "PRF1"], columns=["x", "x"])
    with pytest.raises(ExpressionError, match="repeated: 'x'"):
        read_expression(frame, units="tpm")


def test_file_sample_ids_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_text("gene\t001\t2.50\t\nGZMA\t1\t2\t3\nPRF1\t2\t3\t4\n")
    assert read_expression(path, units="tpm").samples == ["001", "2.50", "Unnamed: 3"]


def test_a_transposed_matrix_is_refused_even_when_sample_names_are_gene_aliases() -> None:
    # samples as rows: "S1" and "P2" are HGNC aliases (of PSMD1 and RPLP2), so read as genes
    # they would silently become two genes measured in three "samples" named GZMA, PRF1, CD274
    transposed = pd.DataFrame(
        {"GZMA": [10.0, 5.0], "PRF1": [1.0, 2.0], "CD274": [3.0, 3.0]}, index=["S1", "P2"]
    )
    with pytest.raises(ExpressionError, match=r"columns look like genes.*transpose"):
        read_expression(transposed, units="tpm")
    # the right way round it reads, and numbered samples (Entrez IDs) are not taken for genes
    upright = transposed.T
    assert read_expression(upright, units="tpm").samples == ["S1", "P2"]
    numbered = upright.set_axis(["1", "2"], axis=1)
    assert read_expression(numbered, units="tpm").samples == ["1", "2"]


def test_log2_values_declared_counts_are_refused(tpm: pd.DataFrame) -> None:
    logged = np.log2(tpm + 1.0)
    with pytest.raises(ExpressionError, match=r"declared counts.*log2 values.*log2tpm"):
        read_expression(logged, units="counts")
    # small whole numbers are counts
    assert read_expression(tpm.round().clip(upper=30), units="counts").units == "counts"


def test_an_anndata_without_x_names_its_layers(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    adata = anndata.AnnData(
        X=None,
        obs=pd.DataFrame(index=["s1", "s2"]),
        var=pd.DataFrame(index=["GZMA", "PRF1", "CD274"]),
    )
    adata.layers["counts"] = np.array([[100.0, 50.0, 3.0], [20.0, 40.0, 9.0]])
    with pytest.raises(ExpressionError, match=r"AnnData: .*no X matrix \(layers: 'counts'\)"):
        read_expression(adata)
    path = tmp_path / "layers_only.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(ExpressionError, match=r"layers_only\.h5ad: .*no X matrix"):
        read_expression(path)


def test_natural_log_values_marked_by_scanpy_are_refused(tmp_path: Path, tpm: pd.DataFrame) -> None:
    anndata = pytest.importorskip("anndata")
    logged = anndata.AnnData(np.log1p(tpm.T.to_numpy()))  # scanpy.pp.log1p: base e
    logged.var_names = list(tpm.index)
    logged.obs_names = list(tpm.columns)
    logged.uns["log1p"] = {"base": None}
    with pytest.raises(ExpressionError, match=r"AnnData: uns\['log1p'\] marks X as log1p values"):
        read_expression(logged)
    path = tmp_path / "natural.h5ad"
    logged.write_h5ad(path)  # the file drops the None base: still natural
    with pytest.raises(ExpressionError, match=r"natural\.h5ad: .* of base e \(natural\)"):
        read_expression(path)
    # base 2 is what log2tpm means: read back to the same TPM
    base2 = anndata.AnnData(np.log2(tpm.T.to_numpy() + 1.0), uns={"log1p": {"base": 2}})
    base2.var_names, base2.obs_names = list(tpm.index), list(tpm.columns)
    read = read_expression(base2, units="log2tpm", log2_offset=1.0)
    assert np.allclose(read.tpm().loc[tpm.index, tpm.columns], tpm)
    # the mark describes a layer when X holds linear values
    linear = anndata.AnnData(tpm.T.to_numpy() * 100.0, uns={"log1p": {"base": None}})
    linear.var_names, linear.obs_names = list(tpm.index), list(tpm.columns)
    assert read_expression(linear, units="tpm").units == "tpm"


def test_a_gene_name_column_beside_the_gene_ids_is_not_read_as_a_sample(tmp_path: Path) -> None:
    # nf-core/rnaseq's salmon.merged.gene_tpm.tsv: gene_id, gene_name, then the samples
    table = GeneTable.shipped()
    ensembl = {symbol: e for e, symbol in table.by_ensembl.items()}
    from immunoprecise.data import example_path

    example = pd.read_csv(example_path("expression_examples.tsv"), sep="\t", index_col=0)
    kept = example.loc[[g for g in example.index if g in ensembl]]
    merged = kept.copy()
    merged.insert(0, "gene_name", kept.index)
    merged.index = pd.Index([f"{ensembl[g]}.4" for g in kept.index], name="gene_id")
    path = tmp_path / "salmon.merged.gene_tpm.tsv"
    merged.to_csv(path, sep="\t")
    m = read_expression(path)
    assert m.samples == list(example.columns)
    assert m.units_note.endswith("; genes read from gene_id (column gene_name not read)")
    assert m.genes.kinds["ensembl"] == len(kept)
    np.testing.assert_allclose(m.tpm(list(kept.index)).to_numpy(), kept.to_numpy())
    # where only the names are genes (unversioned custom ids), the names are read
    custom = merged.set_axis([f"g{i}" for i in range(len(merged))], axis=0)
    named = read_expression(custom.rename_axis("id"))
    assert named.units_note.endswith("; genes read from column gene_name (id not read)")
    assert named.genes.kinds["symbol"] == len(kept)
