"""Input handling of expression matrices: values declared on the wrong scale, identifiers that
are not genes, samples without expression, missing values and custom references."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import GeneTable, read_expression, score_expression


def _transcriptome(n_genes: int = 6_000, n_samples: int = 3, seed: int = 0) -> pd.DataFrame:
    """A whole-transcriptome-sized TPM matrix of approved symbols (log-normal, sums 10⁶)."""
    rng = np.random.default_rng(seed)
    genes = sorted(GeneTable.shipped().symbols)[:n_genes]
    raw = rng.lognormal(mean=1.0, sigma=2.0, size=(n_genes, n_samples))
    tpm = raw / raw.sum(axis=0) * 1e6
    return pd.DataFrame(tpm, index=genes, columns=[f"pt{i}" for i in range(n_samples)])


def test_log2_values_declared_tpm_are_refused_with_the_evidence() -> None:
    tpm = _transcriptome()
    logged = np.log2(tpm + 1.0)
    assert float(logged.to_numpy().max()) < 21
    with pytest.raises(
        ExpressionError,
        match=r"declared tpm, but in 6,000 genes no sample has a value above 30 \(sample "
        r"maxima .*\) and the columns sum to .*not 10⁶: these look like log2 values.*log2tpm",
    ):
        read_expression(logged, units="tpm")
    # the same values declared (or detected) as log2 read back to the TPM
    for units in ("log2tpm", None):
        back = read_expression(logged, units=units)  # type: ignore[arg-type]
        assert back.units == "log2tpm"
        np.testing.assert_allclose(back.tpm().loc[tpm.index].to_numpy(), tpm.to_numpy())
    # linear TPM of the same genes is TPM
    assert read_expression(tpm, units="tpm").units == "tpm"


def test_a_small_gene_subset_of_low_tpm_is_still_tpm() -> None:
    # a few hundred genes, all below 30 TPM: nothing says these are logarithms
    subset = _transcriptome(n_genes=300).clip(upper=25.0)
    m = read_expression(subset, units="tpm")
    assert m.units == "tpm"
    np.testing.assert_allclose(m.tpm().loc[subset.index].to_numpy(), subset.to_numpy())


def test_counts_declared_tpm_are_refused_and_detected_as_counts() -> None:
    # estimated counts (Salmon NumReads, RSEM expected_count) are not whole numbers; a sample's
    # TPM sum to 10⁶, these to millions
    tpm = _transcriptome()
    depth = np.array([4.0e6, 7.0e6, 3.0e6])
    counts = tpm / 1e6 * depth * 1.0003  # not whole numbers, not TPM either
    assert float(counts.to_numpy().max()) < 1e6  # no single value gives it away
    with pytest.raises(
        ExpressionError,
        match=r"TPM values of sample pt0 sum to 4\.001e\+06 \(3 of 3 samples above 2e\+06; "
        r"column sums .*are these counts.*units='counts'",
    ):
        read_expression(counts, units="tpm")
    detected = read_expression(counts)
    assert detected.units == "counts"
    assert "column sums" in detected.units_note
    np.testing.assert_allclose(detected.tpm().loc[tpm.index].to_numpy(), tpm.to_numpy())
    # TPM summing to a million, rounded to two decimals, or with a few repeated rows, is TPM
    rounded = tpm.round(2)
    assert read_expression(rounded).units == "tpm"
    repeated = pd.concat([tpm, tpm.iloc[:50]])
    assert read_expression(repeated, units="tpm").units == "tpm"


def _example() -> pd.DataFrame:
    from immunoprecise.data import example_path

    return pd.read_csv(example_path("expression_examples.tsv"), sep="\t", index_col=0)


HEADLINE = ["icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS", "TIL10_T.cells.CD8"]


def test_row_numbers_are_not_read_as_entrez_ids() -> None:
    # a frame built from an array has rows 0, 1, 2, …: as Entrez IDs, 1 is A1BG, 2 is A2M, …
    example = _example()
    numbered = pd.DataFrame(example.to_numpy(), columns=example.columns)
    with pytest.raises(ExpressionError, match=r"row numbers 0, 1, … 5440, not genes.*set_index"):
        read_expression(numbered, units="tpm")
    from_one = numbered.set_axis(range(1, len(numbered) + 1), axis=0)
    with pytest.raises(ExpressionError, match=r"row numbers 1, 2, … 5441"):
        score_expression(from_one)
    # real Entrez IDs, sorted, are read
    entrez = read_expression(pd.DataFrame({"s": [1.0, 2.0, 3.0]}, index=[1, 2, 9]), units="tpm")
    assert entrez.symbols == ["A1BG", "A2M", "NAT1"]


def test_an_h5ad_with_gene_names_in_a_var_column_names_the_column(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    example = _example()
    adata = anndata.AnnData(example.T.to_numpy())  # var_names "0", "1", …
    adata.obs_names = list(example.columns)
    adata.var["gene_symbols"] = list(example.index)
    adata.var["n_cells"] = 4
    path = tmp_path / "var_column.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(
        ExpressionError,
        match=r"var_column\.h5ad: var_names are the row numbers 0, 1, … 5440, not genes.*"
        r"set adata\.var_names = adata\.var\['gene_symbols'\]",
    ):
        read_expression(path)
    adata.var_names = adata.var["gene_symbols"]
    expected = score_expression(example)[HEADLINE]
    pd.testing.assert_frame_equal(score_expression(adata)[HEADLINE], expected)


def test_entrez_ids_with_a_blank_identifier_are_read_as_entrez(tmp_path: Path) -> None:
    # one blank identifier makes pandas read the Entrez column as floats (29126.0); the blank
    # itself read as text would be "nan", an HGNC alias of SCN11A
    table = GeneTable.shipped()
    entrez_of = {symbol: e for e, symbol in table.by_entrez.items()}
    example = _example()
    kept = example.loc[[g for g in example.index if g in entrez_of]]
    by_entrez = kept.set_axis([entrez_of[g] for g in kept.index], axis=0)
    path = tmp_path / "entrez.tsv"
    text = by_entrez.rename_axis("entrez").to_csv(sep="\t") + "\t1\t2\t3\t4\n"
    path.write_text(text)
    m = read_expression(path, units="tpm")
    assert m.genes.kinds["entrez"] == len(kept)
    assert m.genes.kinds["alias"] == 0
    assert m.genes.unmapped == ("(missing)",)
    expected = score_expression(kept)[HEADLINE]
    pd.testing.assert_frame_equal(score_expression(m)[HEADLINE], expected)


@pytest.mark.parametrize("units", ["tpm", "log2tpm", None])
def test_a_sample_without_expression_is_refused(units: str | None) -> None:
    example = _example()
    example["EMPTY"] = 0.0
    values = np.log2(example + 1.0) if units == "log2tpm" else example
    with pytest.raises(
        ExpressionError, match=r"1 sample without expression: every value of EMPTY is"
    ):
        score_expression(values, units=units)  # type: ignore[arg-type]


def test_a_missing_value_leaves_only_its_sample_without_cell_fractions() -> None:
    example = _example()
    expected = score_expression(example)
    gappy = example.copy()
    gappy.loc["CD8B", "SYN-MEL-001"] = np.nan  # a TIL10 gene
    gappy["UNMEASURED"] = np.nan  # a sample without any value
    scores = score_expression(gappy)
    fractions = scores.filter(like="TIL10_")
    assert fractions.loc[["SYN-MEL-001", "UNMEASURED"]].isna().all(axis=None)
    others = ["SYN-CRC-001", "SYN-NSCLC-001", "SYN-INTERMEDIATE"]
    assert not fractions.loc[others].isna().any(axis=None)
    pd.testing.assert_frame_equal(
        fractions.loc[others], expected.filter(like="TIL10_").loc[others], rtol=1e-3
    )
    line = next(c for c in scores.attrs["coverage"] if c.startswith("TIL10"))
    assert "not estimated for 2 samples missing values of reference genes" in line
    assert "SYN-MEL-001, UNMEASURED" in line


def test_a_sample_without_values_gives_no_runtime_warning() -> None:
    example = _example()
    example["UNMEASURED"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scores = score_expression(example, deconvolution=False)
    assert scores.loc["UNMEASURED"].drop("icb_response_explanation").isna().all()


def test_a_custom_reference_too_small_or_not_text_is_refused(tmp_path: Path) -> None:
    small = tmp_path / "small.tsv"
    small.write_text("gene\tT\tB\nCD3E\t120\t1\nMS4A1\t0.5\t300\n")
    with pytest.raises(
        ExpressionError,
        match=r"reference 'small': 2 genes, fewer than the 50 a deconvolution reference "
        r"needs \(cell fractions fitted on so few genes are unstable",
    ):
        score_expression(_example(), reference=small)
    # without deconvolution the reference is not used, so not refused
    assert "TIL10_Other" not in score_expression(_example(), reference=small, deconvolution=False)
    packed = tmp_path / "packed.tsv"
    packed.write_bytes(gzip.compress(small.read_bytes()))
    with pytest.raises(ValueError, match=r"packed\.tsv: not a text file"):
        score_expression(_example(), reference=packed)


def test_a_record_whose_sample_misses_a_reference_gene_value_says_why(tmp_path: Path) -> None:
    import immunoprecise as ip
    from immunoprecise.data import example_path

    gappy = _example()
    gappy.loc["CD8B", "SYN-MEL-001"] = np.nan
    path = tmp_path / "gappy.tsv"
    gappy.to_csv(path, sep="\t")
    record = ip.read_patient(example_path("melanoma_braf.json"))
    assert record.expression is not None
    assert record.expression.sample_id == "SYN-MEL-001"
    moved = record.model_copy(
        update={"expression": record.expression.model_copy(update={"path": str(path)})}
    )
    value = ip.profile(moved).values["expression.TIL10_T.cells.CD8"]
    assert value.status == "not_assessable"
    assert "not estimated for 1 sample missing values of reference genes: SYN-MEL-001" in (
        value.note or ""
    )
    other = record.model_copy(
        update={
            "expression": record.expression.model_copy(
                update={"path": str(path), "sample_id": "SYN-CRC-001"}
            )
        }
    )
    assert ip.profile(other).values["expression.TIL10_T.cells.CD8"].status == "assessed"


def test_a_log2_offset_that_is_no_offset_or_contradicts_the_values_is_refused() -> None:
    example = _example()
    example.loc["A1CF", "SYN-MEL-001"] = 0.0
    logged = np.log2(example + 0.001)  # minimum log2(0.001) where TPM is 0
    for bad in (float("nan"), float("inf"), -1.0, "one"):
        with pytest.raises(ExpressionError, match=r"log2_offset must be a finite number ≥ 0"):
            score_expression(logged, units="log2tpm", log2_offset=bad)  # type: ignore[arg-type]
    # log2(TPM + 0.001) read as log2(TPM + 1): every TPM below 1 would become 0
    with pytest.raises(
        ExpressionError,
        match=r"log2_offset=1, but the minimum value -9\.966 is below log2\(1\) = 0.*"
        r"suggests log2_offset=0\.001",
    ):
        read_expression(logged, units="log2tpm", log2_offset=1.0)
    # an offset for values that are linear
    with pytest.raises(
        ExpressionError,
        match=r"log2_offset=0\.001 was given, but the values are read as tpm \(detected TPM",
    ):
        read_expression(example, log2_offset=0.001)
    right = read_expression(logged, log2_offset=0.001)
    np.testing.assert_allclose(right.tpm().loc[example.index].to_numpy(), example.to_numpy())


def test_units_are_read_in_any_case() -> None:
    example = _example()
    assert read_expression(example, units="TPM").units == "tpm"  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match=r"units must be counts, tpm or log2tpm, not 'fpkm'"):
        read_expression(example, units="fpkm")  # type: ignore[arg-type]


def test_gene_lengths_of_another_type_or_not_numbers_get_a_clear_error() -> None:
    counts = (_example() * 20).round()
    with pytest.raises(
        ExpressionError, match=r"gene_lengths must be a pandas Series \(or a mapping\).*not list"
    ):
        read_expression(counts, units="counts", gene_lengths=[1000.0] * len(counts))  # type: ignore[arg-type]
    text = pd.Series("1000", index=counts.index)
    text["GZMA"] = "1.2 kb"
    with pytest.raises(ExpressionError, match=r"gene_lengths of GZMA is '1\.2 kb', not a number"):
        read_expression(counts, units="counts", gene_lengths=text)
    # a mapping of numbers (or numbers as text) is a Series
    lengths = dict.fromkeys(counts.index, 2000.0)
    from_mapping = read_expression(counts, units="counts", gene_lengths=lengths)  # type: ignore[arg-type]
    series = read_expression(counts, units="counts", gene_lengths=pd.Series(lengths))
    pd.testing.assert_frame_equal(from_mapping.tpm(["GZMA"]), series.tpm(["GZMA"]))


def test_true_false_values_are_not_expression() -> None:
    example = _example()
    with pytest.raises(ExpressionError, match=r"sample SYN-MEL-001 holds True/False values"):
        score_expression(example > 5)


def test_negative_values_among_linear_ones_are_named() -> None:
    # a negative value made the matrix look like log2 values; the error named only a large value
    example = _example()
    example.loc["AACS", "SYN-CRC-001"] = -1.0
    with pytest.raises(
        ExpressionError,
        match=r"negative value -1 at gene AACS, sample SYN-CRC-001, and value 147\.885 at gene "
        r"A2M, sample SYN-MEL-001: linear values .*cannot be negative",
    ):
        score_expression(example)


def test_a_gene_given_by_several_rows_is_named_in_the_gene_summary() -> None:
    # their TPM are added (as for several Ensembl IDs of one gene); the summary says so, since a
    # row given twice by mistake doubles the gene's value
    example = _example()
    doubled = pd.concat([example, example.loc[["GZMA"]].set_axis(["gzma"], axis=0)])
    scores = score_expression(doubled, deconvolution=False)
    assert scores.attrs["genes"] == (
        "5442 identifiers: 5442 symbol; 1 symbol given by several rows (their TPM added): GZMA"
    )
    assert "GZMA" not in score_expression(example, deconvolution=False).attrs["genes"]


def test_reading_options_with_a_matrix_already_read_are_refused() -> None:
    matrix = read_expression(_example())
    with pytest.raises(
        ExpressionError,
        match=r"units='counts' given with an ExpressionMatrix already read \(as tpm: detected "
        r"TPM.*pass them to read_expression",
    ):
        score_expression(matrix, units="counts")
    assert len(score_expression(matrix, deconvolution=False)) == 4


def _write_gct(path: Path, frame: pd.DataFrame, description: list[str]) -> None:
    lines = [
        "#1.2",
        f"{frame.shape[0]}\t{frame.shape[1]}",
        "\t".join(["Name", "Description", *frame.columns]),
    ]
    lines += [
        "\t".join([str(gene), text, *(f"{v:.6g}" for v in row)])
        for (gene, row), text in zip(frame.iterrows(), description, strict=True)
    ]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)


def test_a_gct_file_is_read_from_its_name_or_description_column(tmp_path: Path) -> None:
    example = _example()
    expected = score_expression(example)[HEADLINE]
    # Name holds the genes, Description free text
    plain = tmp_path / "cohort.gct"
    _write_gct(plain, example, ["na"] * len(example))
    read = read_expression(plain)
    assert "genes read from Name (column Description not read)" in read.units_note
    pd.testing.assert_frame_equal(
        score_expression(plain)[HEADLINE], expected, check_exact=False, rtol=1e-5
    )
    # Name holds probe IDs, Description the gene symbols (a microarray export); gzipped
    probes = example.set_axis([f"{i}_at" for i in range(len(example))], axis=0)
    gzipped = tmp_path / "probes.gct.gz"
    _write_gct(gzipped, probes, list(example.index))
    read = read_expression(gzipped)
    assert "genes read from column Description (Name not read)" in read.units_note
    pd.testing.assert_frame_equal(
        score_expression(gzipped)[HEADLINE], expected, check_exact=False, rtol=1e-5
    )


def test_a_gct_file_that_is_truncated_or_of_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.gct"
    path.write_text("#1.2\n3\t2\nName\tDescription\tS1\tS2\nGZMA\tna\t3\t4\nPRF1\tna\t5\t6\n")
    with pytest.raises(
        ExpressionError,
        match=r"short\.gct: line 2 declares 3 rows × 2 samples, but the file holds 2 rows × 2 "
        r"samples",
    ):
        read_expression(path)
    path.write_text("#1.3\n2\t2\t0\t0\nid\tS1\tS2\nGZMA\t3\t4\nPRF1\t5\t6\n")
    with pytest.raises(ExpressionError, match=r"short\.gct: GCT version 1\.3 is not read"):
        read_expression(path)


def test_a_compressed_h5ad_file_is_refused_with_how_to_decompress_it(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    example = _example()
    path = tmp_path / "cohort.h5ad"
    anndata.AnnData(example.T.copy()).write_h5ad(path)
    gzipped = tmp_path / "cohort.h5ad.gz"
    gzipped.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(
        ExpressionError,
        match=r"cohort\.h5ad\.gz: a compressed AnnData file is not read .*decompress it first "
        r"\(gunzip cohort\.h5ad\.gz\) and give cohort\.h5ad",
    ):
        read_expression(gzipped)


def test_the_units_note_gives_the_declared_log2_offset_it_used() -> None:
    example = _example()
    example.loc["A1CF", "SYN-MEL-001"] = 0.0
    logged = np.log2(example + 0.001)  # minimum log2(0.001) = -9.966
    # 0.0001 fits the values too (log2(0.0001) is below the minimum): it is the one used
    detected = read_expression(logged, log2_offset=0.0001)
    assert detected.log2_offset == 0.0001
    assert detected.units_note == (
        "detected log2 values (negative values; minimum -9.966); declared log2_offset 0.0001 → "
        "log2(TPM + 0.0001)"
    )
    declared = read_expression(logged, units="log2tpm", log2_offset=0.0001)
    assert (
        declared.units_note == "declared log2tpm; declared log2_offset 0.0001 → log2(TPM + 0.0001)"
    )


def test_a_description_of_one_repeated_word_does_not_name_the_rows(tmp_path: Path) -> None:
    # GCT files often hold "na" as every Description; "na" is also an HGNC alias (of XK), so
    # every row would map, more rows than the gene names (some of which are unmapped) do
    example = _example()
    unmapped = pd.DataFrame(
        1.0, index=[f"LINC-NOVEL-{i}" for i in range(50)], columns=example.columns
    )
    frame = pd.concat([example, unmapped])
    table = tmp_path / "cohort.tsv"
    frame.rename_axis("gene_id").assign(description="na")[["description", *frame.columns]].to_csv(
        table, sep="\t"
    )
    path = tmp_path / "cohort.gct"
    _write_gct(path, frame, ["na"] * len(frame))
    for source, first in ((table, "gene_id"), (path, "Name")):
        read = read_expression(source)
        assert f"genes read from {first} (column " in read.units_note
        assert "XK" not in read.duplicates
        assert len(read.symbols) == len(example)


def _write_series_matrix(path: Path, log2: pd.DataFrame | None) -> None:
    """A GEO series matrix as GEO writes it: metadata lines, then the table between markers."""
    samples = list(log2.columns) if log2 is not None else ["P1", "P2"]
    accessions = [f"GSM{100 + i}" for i in range(len(samples))]
    lines = [
        '!Series_title\t"Tumour RNA-seq before checkpoint blockade"',
        '!Series_geo_accession\t"GSE12345"',
        "!Sample_title\t" + "\t".join(f'"{s}"' for s in samples),
        "!Sample_geo_accession\t" + "\t".join(f'"{a}"' for a in accessions),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + "\t".join(f'"{a}"' for a in accessions),
    ]
    if log2 is not None:
        lines += [
            f'"{gene}"\t' + "\t".join(f"{v:.6f}" for v in row) for gene, row in log2.iterrows()
        ]
    lines.append("!series_matrix_table_end")
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


def test_a_geo_series_matrix_is_read_from_its_table(tmp_path: Path) -> None:
    tpm = _example()
    path = tmp_path / "GSE12345_series_matrix.txt.gz"
    _write_series_matrix(path, np.log2(tpm + 1.0))
    scores = score_expression(path, deconvolution=False)
    assert list(scores.index) == ["GSM100", "GSM101", "GSM102", "GSM103"]
    direct = score_expression(tpm, deconvolution=False)
    for column in ("CYT", "IFNG6", "GEP18", "IMPRES", "IPS", "icb_response"):
        np.testing.assert_allclose(
            scores[column].to_numpy(), direct[column].to_numpy(), rtol=1e-4, err_msg=column
        )
    assert scores.attrs["units"].startswith("detected log2 values")
    # an RNA-seq series whose values are in supplementary files: an empty table
    empty = tmp_path / "GSE999_series_matrix.txt.gz"
    _write_series_matrix(empty, None)
    with pytest.raises(
        ExpressionError,
        match=r"GSE999_series_matrix\.txt\.gz: the GEO series matrix holds no expression "
        r"values .*supplementary files",
    ):
        read_expression(empty)


def test_tcga_symbol_and_entrez_identifiers_are_mapped() -> None:
    table = GeneTable.shipped()
    entrez = {symbol: e for e, symbol in sorted(table.by_entrez.items(), reverse=True)}
    tpm = _example()
    tcga = tpm.set_axis([f"{g}|{entrez[g]}" for g in tpm.index], axis=0)
    tcga.columns = [f"TCGA-EE-A2GJ-0{i}A-11R-A18S-07" for i in range(1, 5)]
    scores = score_expression(tcga, deconvolution=False)
    direct = score_expression(tpm, deconvolution=False)
    np.testing.assert_array_equal(scores["CYT"].to_numpy(), direct["CYT"].to_numpy())
    np.testing.assert_array_equal(scores["IPS"].to_numpy(), direct["IPS"].to_numpy())
    assert scores.attrs["genes"] == f"{len(tpm)} identifiers: {len(tpm)} entrez"
    mapped = table.to_symbols(["?|3001", "GZMA|", "PRF1|999999999", "?|"]).symbols
    assert mapped == ("GZMA", "GZMA", "PRF1", None)
    # GENCODE's copy of a pseudoautosomal gene on Y (GDC's STAR counts) is that gene
    assert table.to_symbols(["ENSG00000002586.20_PAR_Y"]).symbols == ("CD99",)


def test_an_h5ad_layer_is_scored_instead_of_x(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    tpm = _example()
    counts = (tpm * 20).round()
    adata = anndata.AnnData(
        X=np.log1p(counts.T.to_numpy()),
        obs=pd.DataFrame(index=list(tpm.columns)),
        var=pd.DataFrame(index=list(tpm.index)),
    )
    adata.layers["counts"] = counts.T.to_numpy()
    adata.layers["tpm"] = tpm.T.to_numpy()
    adata.uns["log1p"] = {"base": None}  # scanpy.pp.log1p: X holds natural-log values
    path = tmp_path / "tumours.h5ad"
    adata.write_h5ad(path)
    with pytest.raises(
        ExpressionError, match=r"or read a layer of linear values, e\.g\. layer='counts'"
    ):
        score_expression(path, deconvolution=False)
    direct = score_expression(tpm, deconvolution=False)
    for layer in ("tpm", "counts"):
        scores = score_expression(path, layer=layer, deconvolution=False)
        assert scores.attrs["source"] == f"tumours.h5ad layer {layer!r}"
        np.testing.assert_allclose(scores["CYT"], direct["CYT"], rtol=0.02)
    assert read_expression(adata, layer="counts").units == "counts"
    with pytest.raises(
        ExpressionError, match=r"no layer 'raw' in the AnnData \(layers: 'counts', 'tpm'\)"
    ):
        read_expression(path, layer="raw")
    with pytest.raises(ExpressionError, match=r"layer='counts' was given, but layers belong to"):
        read_expression(tpm, layer="counts")
    with pytest.raises(ExpressionError, match=r"layer='tpm' given with an ExpressionMatrix"):
        score_expression(read_expression(tpm), layer="tpm")


def test_spreadsheet_csv_exports_are_read_with_their_separator(tmp_path: Path) -> None:
    tpm = _example()
    direct = score_expression(tpm, deconvolution=False)
    # a spreadsheet in a locale whose decimal mark is the comma saves CSV with semicolons
    semicolons = tmp_path / "tpm.csv"
    tpm.to_csv(semicolons, sep=";", decimal=",")
    # a CSV saved under .txt
    commas = tmp_path / "tpm.txt"
    tpm.to_csv(commas)
    for path, note in (
        (semicolons, "read as semicolon-separated with decimal commas"),
        (commas, "read as comma-separated (the header has no tab)"),
    ):
        scores = score_expression(path, deconvolution=False)
        assert list(scores.index) == list(tpm.columns)
        assert scores.attrs["units"].endswith(note), scores.attrs["units"]
        np.testing.assert_allclose(scores["CYT"], direct["CYT"], rtol=1e-6)
        np.testing.assert_allclose(scores["IPS"], direct["IPS"], rtol=1e-6)


def test_an_empty_column_without_a_header_is_not_a_sample(tmp_path: Path) -> None:
    tpm = _example()
    path = tmp_path / "tpm.tsv"
    tpm.assign(**{"": np.nan}).to_csv(path, sep="\t")  # a spreadsheet's trailing tab
    scores = score_expression(path, deconvolution=False)
    assert list(scores.index) == list(tpm.columns)
    assert scores.attrs["units"].endswith("; 1 empty column without a header left out")
    # a named sample without values is a sample (its scores are NaN, see the coverage rule)
    named = tmp_path / "named.tsv"
    tpm.assign(P9=np.nan).to_csv(named, sep="\t")
    assert list(score_expression(named, deconvolution=False).index) == [*tpm.columns, "P9"]


def test_samples_without_counts_are_all_named_with_the_fix() -> None:
    counts = (_example() * 20).round().assign(EMPTY1=0.0, EMPTY2=0.0, BLANK=np.nan)
    with pytest.raises(
        ExpressionError,
        match=r"DataFrame: 3 samples without counts: every count of EMPTY1, EMPTY2 is 0 "
        r"\(an empty or failed library; .*\); BLANK without any value \(an empty column\): "
        r"drop these samples",
    ):
        read_expression(counts, units="counts")


def test_a_sample_id_that_is_a_tcga_barcode_prefix_names_the_column(tmp_path: Path) -> None:
    from immunoprecise.profile.expression.values import expression_values
    from immunoprecise.records import ExpressionReference

    tpm = _example()
    tpm.columns = [f"TCGA-EE-A2GJ-0{i}A-11R-A18S-07" for i in range(1, 5)]
    path = tmp_path / "tcga.tsv"
    tpm.to_csv(path, sep="\t")
    for given in ("TCGA-EE-A2GJ-06", "tcga-ee-a2gj-01a-11r-a18s-07"):
        with pytest.raises(ExpressionError) as raised:
            expression_values(ExpressionReference(path=str(path), sample_id=given))
        assert str(raised.value).startswith(f"expression.sample_id: {given!r} is not a sample of")
    with pytest.raises(
        ExpressionError,
        match=r"'TCGA-EE-A2GJ-01' is not a sample of tcga\.tsv, but "
        r"'TCGA-EE-A2GJ-01A-11R-A18S-07' is close: give the sample id exactly",
    ):
        expression_values(ExpressionReference(path=str(path), sample_id="TCGA-EE-A2GJ-01"))
    with pytest.raises(
        ExpressionError,
        match=r"'tcga-ee-a2gj-02a-11r-a18s-07' is not a sample .*, but "
        r"'TCGA-EE-A2GJ-02A-11R-A18S-07' is close",
    ):
        expression_values(
            ExpressionReference(path=str(path), sample_id="tcga-ee-a2gj-02a-11r-a18s-07")
        )
    values = expression_values(
        ExpressionReference(path=str(path), sample_id="TCGA-EE-A2GJ-01A-11R-A18S-07")
    )
    assert values["expression.CYT"].status == "assessed"
