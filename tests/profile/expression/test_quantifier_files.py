"""Single-sample output files of RNA-seq quantifiers (Salmon, kallisto, RSEM, featureCounts):
recognised by their header, one column read, one sample per file, several files combined."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immunoprecise.data import example_path
from immunoprecise.errors import ExpressionError
from immunoprecise.profile.expression import GeneTable, read_expression, score_expression

HEADLINE = ["icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS", "TIL10_T.cells.CD8"]


def _example() -> pd.DataFrame:
    return pd.read_csv(example_path("expression_examples.tsv"), sep="\t", index_col=0)


def _lengths(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gene lengths and effective lengths (bp); the effective ones differ per sample."""
    rng = np.random.default_rng(seed)
    length = rng.integers(600, 6000, n).astype(float)
    return length, length - rng.uniform(150.0, 250.0, n)


def _write_salmon(
    folder: Path, tpm: pd.Series, seed: int = 0, name: str = "quant.genes.sf"
) -> Path:
    """A Salmon quant.genes.sf as salmon writes it: NumReads are estimated (not whole) counts
    proportional to TPM × effective length."""
    length, effective = _lengths(len(tpm), seed)
    reads = tpm.to_numpy() * effective / 1e3 * 3.7
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    lines = ["Name\tLength\tEffectiveLength\tTPM\tNumReads"]
    lines += [
        f"{g}\t{int(n)}\t{e:.3f}\t{t:.6f}\t{r:.3f}"
        for g, n, e, t, r in zip(tpm.index, length, effective, tpm.to_numpy(), reads, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_salmon_gene_file_is_one_sample_of_tpm_named_after_its_folder(tmp_path: Path) -> None:
    example = _example()
    path = _write_salmon(tmp_path / "SYN-MEL-001", example["SYN-MEL-001"])
    matrix = read_expression(path)
    assert matrix.samples == ["SYN-MEL-001"]
    assert matrix.units == "tpm"
    assert matrix.units_note == "the TPM column of Salmon quant.genes.sf (tpm)"
    assert matrix.source == "SYN-MEL-001/quant.genes.sf"
    np.testing.assert_allclose(
        matrix.tpm(["GZMA", "PRF1"])["SYN-MEL-001"].to_numpy(),
        example.loc[["GZMA", "PRF1"], "SYN-MEL-001"].to_numpy(),
        rtol=1e-6,
    )
    scores = score_expression(path)
    expected = score_expression(example[["SYN-MEL-001"]])
    pd.testing.assert_frame_equal(scores[HEADLINE], expected[HEADLINE], rtol=1e-6)
    # gzip-compressed, named after the sample, reads the same
    packed = tmp_path / "SYN-MEL-001.quant.genes.sf.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert read_expression(packed).samples == ["SYN-MEL-001"]


def test_salmon_counts_use_each_file_s_effective_lengths(tmp_path: Path) -> None:
    example = _example()
    paths = [
        _write_salmon(tmp_path / sample, example[sample], seed=i)
        for i, sample in enumerate(example.columns)
    ]
    matrix = read_expression(paths, units="counts")
    assert matrix.samples == list(example.columns)
    assert "the NumReads column of each Salmon file" in matrix.units_note
    assert "EffectiveLength column" in matrix.units_note
    # counts ÷ effective length, scaled to a million, give back Salmon's TPM
    np.testing.assert_allclose(
        matrix.tpm(list(example.index)).to_numpy(),
        (example / example.sum() * 1e6).to_numpy(),
        rtol=1e-3,  # NumReads and EffectiveLength are written with three decimals
    )
    combined = score_expression(paths)
    pd.testing.assert_frame_equal(
        combined[HEADLINE], score_expression(example)[HEADLINE], rtol=1e-6
    )


def test_several_files_with_one_sample_name_are_refused_naming_it(tmp_path: Path) -> None:
    example = _example()
    first = _write_salmon(tmp_path / "run1" / "P1", example["SYN-MEL-001"])
    second = _write_salmon(tmp_path / "run2" / "P1", example["SYN-CRC-001"])
    with pytest.raises(
        ExpressionError,
        match=r"sample names must be unique across the files; repeated: 'P1' in "
        r"run1/P1/quant\.genes\.sf, run2/P1/quant\.genes\.sf",
    ):
        read_expression([first, second])


def test_files_of_different_genes_are_not_combined(tmp_path: Path) -> None:
    example = _example()
    first = _write_salmon(tmp_path / "A", example["SYN-MEL-001"])
    second = _write_salmon(tmp_path / "B", example["SYN-CRC-001"].drop("GZMA"))
    with pytest.raises(
        ExpressionError,
        match=r"B/quant\.genes\.sf and A/quant\.genes\.sf do not hold the same "
        r"genes.*only in A/quant\.genes\.sf: GZMA",
    ):
        read_expression([first, second])


def test_transcript_level_files_are_refused_with_what_to_give_instead(tmp_path: Path) -> None:
    kallisto = tmp_path / "S1" / "abundance.tsv"
    kallisto.parent.mkdir()
    kallisto.write_text(
        "target_id\tlength\teff_length\test_counts\ttpm\n"
        "ENST00000335137.4\t918\t743.2\t12\t4.1\n"
        "ENST00000423372.3\t2748\t2573.1\t0\t0\n"
        "ENST00000426406.1\t939\t764.3\t3.5\t1.2\n"
    )
    with pytest.raises(
        ExpressionError,
        match=r"S1/abundance\.tsv: a transcript-level kallisto abundance\.tsv file \(identifiers "
        r"are transcripts, e\.g\. ENST00000335137\.4.*no transcript-to-gene map.*quant\.genes\.sf"
        r".*tximport.*genes\.results",
    ):
        read_expression(kallisto)
    # a Salmon quant.sf of GENCODE transcript names
    salmon = tmp_path / "S2" / "quant.sf"
    salmon.parent.mkdir()
    salmon.write_text(
        "Name\tLength\tEffectiveLength\tTPM\tNumReads\n"
        "GZMA-201\t1006\t831.0\t120.5\t240.2\n"
        "PRF1-201\t2517\t2342.0\t80.1\t450.9\n"
        "CD274-201\t3634\t3459.0\t11.0\t91.4\n"
    )
    with pytest.raises(ExpressionError, match=r"transcript-level Salmon .*GZMA-201"):
        score_expression(salmon)


_ISOFORMS = [
    # transcript, gene, length, effective length, expected count, TPM
    ("ENST00000000001.1", "ENSG00000145649.8", 1006, 831.0, 240.0, 60.0),  # GZMA
    ("ENST00000000002.1", "ENSG00000145649.8", 1500, 1325.0, 120.0, 18.8),  # GZMA
    ("ENST00000000003.1", "ENSG00000180644.7", 2517, 2342.0, 450.0, 39.9),  # PRF1
    ("ENST00000000004.1", "ENSG00000120217.14", 3634, 3459.0, 91.0, 5.4),  # CD274
    ("ENST00000000005.1", "ENSG00000120217.14", 800, 0.0, 0.0, 0.0),  # CD274, too short
    ("ENST00000000006.1", "ENSG00000120217.14", 900, 725.0, 14.0, 3.9),  # CD274
]


def _write_isoforms(path: Path, rows: list[tuple[str, str, int, float, float, float]]) -> Path:
    lines = ["transcript_id\tgene_id\tlength\teffective_length\texpected_count\tTPM\tFPKM\tIsoPct"]
    lines += [f"{t}\t{g}\t{n}\t{e}\t{c}\t{tpm}\t{tpm * 0.8}\t50.00" for t, g, n, e, c, tpm in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rsem_isoforms_are_summed_into_their_genes(tmp_path: Path) -> None:
    path = _write_isoforms(tmp_path / "S3.isoforms.results", _ISOFORMS)
    matrix = read_expression(path)
    assert matrix.samples == ["S3"]
    assert matrix.units_note == (
        "the TPM column (6 isoforms summed into 3 genes by their gene_id) of RSEM "
        "S3.isoforms.results (tpm)"
    )
    tpm = matrix.tpm(["GZMA", "PRF1", "CD274"])["S3"]
    np.testing.assert_allclose(tpm.to_numpy(), [78.8, 39.9, 9.3])
    # estimated counts: per gene, counts ÷ length equal the sum over its isoforms
    counts = read_expression(path, units="counts")
    assert "the expected_count column (6 isoforms summed into 3 genes" in counts.units_note
    rate = {
        "GZMA": 240.0 / 831.0 + 120.0 / 1325.0,
        "PRF1": 450.0 / 2342.0,
        "CD274": 91.0 / 3459.0 + 14.0 / 725.0,
    }
    total = sum(rate.values())
    np.testing.assert_allclose(
        counts.tpm(list(rate))["S3"].to_numpy(), [r / total * 1e6 for r in rate.values()]
    )


def test_an_isoform_without_a_gene_or_a_number_is_refused_naming_it(tmp_path: Path) -> None:
    rows = list(_ISOFORMS)
    rows[2] = ("ENST00000000003.1", "", 2517, 2342.0, 450.0, 39.9)
    with pytest.raises(
        ExpressionError,
        match=r"S4\.isoforms\.results: transcript ENST00000000003\.1 has no gene_id",
    ):
        read_expression(_write_isoforms(tmp_path / "S4.isoforms.results", rows))
    path = tmp_path / "S5.isoforms.results"
    _write_isoforms(path, _ISOFORMS)
    path.write_text(path.read_text().replace("\t39.9\t", "\tNA\t"))
    with pytest.raises(
        ExpressionError, match=r"S5\.isoforms\.results: TPM of transcript ENST00000000003\.1 is"
    ):
        read_expression(path)


def test_gencode_transcript_names_are_summed_into_their_genes(tmp_path: Path) -> None:
    names = [
        f"{t}|{g}|OTTHUMG00000000001.1|OTTHUMT00000000001.1|X-20{i}|X|{n}|protein_coding|"
        for i, (t, g, n, *_rest) in enumerate(_ISOFORMS)
    ]
    names[3] = names[3].replace("ENSG00000120217.14|", "ENSG00000120217.14_PAR_Y|")
    salmon = tmp_path / "S6" / "quant.sf"
    salmon.parent.mkdir()
    lines = ["Name\tLength\tEffectiveLength\tTPM\tNumReads"]
    lines += [
        f"{name}\t{n}\t{e}\t{tpm}\t{c}"
        for name, (_t, _g, n, e, c, tpm) in zip(names, _ISOFORMS, strict=True)
    ]
    salmon.write_text("\n".join(lines) + "\n")
    matrix = read_expression(salmon)
    assert matrix.samples == ["S6"]
    assert "(6 transcripts summed into 3 genes by the gene ID in their names)" in (
        matrix.units_note
    )
    np.testing.assert_allclose(
        matrix.tpm(["GZMA", "PRF1", "CD274"])["S6"].to_numpy(), [78.8, 39.9, 9.3]
    )
    # one name without the gene: the file is not summed, and refused as before
    salmon.write_text(salmon.read_text().replace(names[2], "ENST00000000003.1"))
    with pytest.raises(ExpressionError, match=r"transcript-level Salmon .*ENST0000000000"):
        read_expression(salmon)


def test_an_rsem_gene_file_reads_tpm_or_expected_counts(tmp_path: Path) -> None:
    table = GeneTable.shipped()
    ensembl = {symbol: e for e, symbol in table.by_ensembl.items()}
    example = _example()["SYN-NSCLC-001"]
    kept = example[[g in ensembl for g in example.index]]
    length, effective = _lengths(len(kept), 3)
    effective[0] = 0.0  # RSEM: a gene shorter than the fragments has no effective length
    expected = kept.to_numpy() * np.maximum(effective, 1.0) / 1e3 * 2.1
    expected[0] = 0.0
    tpm = kept.to_numpy().copy()
    tpm[0] = 0.0
    path = tmp_path / "P7.genes.results"
    lines = ["gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM"]
    lines += [
        f"{ensembl[g]}.7\tENST{i:011d}.1,ENST{i + 1:011d}.2\t{n:.2f}\t{e:.2f}\t{c:.2f}\t{t:.2f}"
        f"\t{t * 0.8:.2f}"
        for i, (g, n, e, c, t) in enumerate(
            zip(kept.index, length, effective, expected, tpm, strict=True)
        )
    ]
    path.write_text("\n".join(lines) + "\n")
    matrix = read_expression(path)
    assert matrix.samples == ["P7"]
    assert matrix.units_note == "the TPM column of RSEM P7.genes.results (tpm)"
    assert matrix.genes.kinds["ensembl"] == len(kept)
    counts = read_expression(path, units="counts")
    assert "the expected_count column of RSEM P7.genes.results" in counts.units_note
    np.testing.assert_allclose(
        counts.tpm(["GZMA", "PRF1", "CD274"]).to_numpy(),
        matrix.tpm(["GZMA", "PRF1", "CD274"]).to_numpy() * 1e6 / tpm.sum(),
        rtol=1e-3,
    )
    with pytest.raises(
        ExpressionError, match=r"RSEM genes\.results holds linear values \(TPM and counts\), not "
    ):
        read_expression(path, units="log2tpm")


def _write_featurecounts(path: Path, counts: pd.DataFrame, length: np.ndarray) -> None:
    lines = [
        '# Program:featureCounts v2.0.6; Command:"featureCounts" "-a" "genes.gtf" "-o" '
        f'"{path.name}" ' + " ".join(f'"{c}"' for c in counts.columns),
        "\t".join(["Geneid", "Chr", "Start", "End", "Strand", "Length", *counts.columns]),
    ]
    for (gene, row), n in zip(counts.iterrows(), length, strict=True):
        fields = [str(gene), "chr5;chr5", "100;900", "400;1500", "+;+", str(int(n))]
        lines.append("\t".join(fields + [str(int(v)) for v in row]))
    path.write_text("\n".join(lines) + "\n")


def test_featurecounts_output_reads_counts_with_its_lengths(tmp_path: Path) -> None:
    example = _example()
    length, _ = _lengths(len(example), 5)
    counts = (example.mul(length, axis=0) / 1e3 * 2.3).round()
    counts.columns = [f"/data/bam/{c}.sorted.bam" for c in example.columns]
    path = tmp_path / "counts.txt"
    _write_featurecounts(path, counts, length)
    matrix = read_expression(path)
    assert matrix.samples == list(example.columns)
    assert matrix.units == "counts"
    assert matrix.units_note == (
        "the 4 count columns of featureCounts counts.txt (counts); samples named after their "
        "alignment files (/data/bam/SYN-MEL-001.sorted.bam → SYN-MEL-001, "
        "/data/bam/SYN-CRC-001.sorted.bam → SYN-CRC-001, … (2 more)); TPM from counts and the "
        "file's Length column"
    )
    np.testing.assert_allclose(
        matrix.tpm(["GZMA", "PRF1", "CXCL9"]).to_numpy(),
        example.loc[["GZMA", "PRF1", "CXCL9"]].to_numpy(),
        rtol=0.02,
    )
    with pytest.raises(ExpressionError, match=r"featureCounts output holds read counts only"):
        read_expression(path, units="tpm")
    with pytest.raises(
        ExpressionError, match=r"holds linear values \(read counts\).*declare units='counts'"
    ):
        read_expression(path, units="log2tpm")
    # the same table as a DataFrame (identifiers as the index) reads the same way
    frame = pd.read_csv(path, sep="\t", comment="#", index_col=0)
    from_frame = read_expression(frame)
    assert from_frame.samples == matrix.samples
    np.testing.assert_allclose(from_frame.tpm().to_numpy(), matrix.tpm().to_numpy())


@pytest.mark.parametrize(
    ("bams", "samples"),
    [
        (
            ["/data/run1/aligned/S01.sorted.bam", "/data/run1/aligned/S02.sorted.bam"],
            ["S01", "S02"],
        ),
        # a suffix that not every sample has is part of the name
        (["/data/S01.sorted.bam", "/data/S02.bam"], ["S01.sorted", "S02"]),
        # STAR: the prefix's separator goes with its suffix
        (
            ["star/S01_Aligned.sortedByCoord.out.bam", "star/S02_Aligned.sortedByCoord.out.bam"],
            ["S01", "S02"],
        ),
        # STAR run with a folder per sample: the file names only the aligner
        (
            ["/a/S01/Aligned.sortedByCoord.out.bam", "/a/S02/Aligned.sortedByCoord.out.bam"],
            ["S01", "S02"],
        ),
        # one base name in two runs: as many folders as tell them apart
        (
            [
                "/data/run1/aligned/S01.bam",
                "/data/run2/aligned/S01.bam",
                "/data/run2/aligned/S02.bam",
            ],
            ["run1/aligned/S01", "run2/aligned/S01", "S02"],
        ),
        # columns already renamed are kept
        (["S01", "S02"], ["S01", "S02"]),
    ],
)
def test_featurecounts_samples_get_the_shortest_names_that_tell_them_apart(
    tmp_path: Path, bams: list[str], samples: list[str]
) -> None:
    example = _example()
    length, _ = _lengths(len(example), 5)
    counts = (example.iloc[:, : len(bams)].mul(length, axis=0) / 1e3 * 2.3).round()
    counts.columns = bams
    path = tmp_path / "counts.txt"
    _write_featurecounts(path, counts, length)
    matrix = read_expression(path)
    assert matrix.samples == samples
    renamed = [f"{b} → {s}" for b, s in zip(bams, samples, strict=True) if b != s]
    if renamed:
        assert f"samples named after their alignment files ({', '.join(renamed[:2])}" in (
            matrix.units_note
        )
    else:
        assert "samples named" not in matrix.units_note
    scores = score_expression(path, deconvolution=False)
    assert list(scores.index) == samples
    assert scores.attrs["units"] == matrix.units_note


def test_featurecounts_files_of_two_runs_keep_the_run_in_clashing_names(tmp_path: Path) -> None:
    example = _example()
    length, _ = _lengths(len(example), 5)
    paths = []
    for run in ("run1", "run2"):
        counts = (example.iloc[:, :2].mul(length, axis=0) / 1e3 * 2.3).round()
        counts.columns = [f"/data/{run}/S01.bam", f"/data/{run}/{run}_S02.bam"]
        path = tmp_path / f"{run}.counts.txt"
        _write_featurecounts(path, counts, length)
        paths.append(path)
    matrix = read_expression(paths)
    assert matrix.samples == ["run1/S01", "run1_S02", "run2/S01", "run2_S02"]


def test_a_dataframe_of_one_salmon_file_says_how_to_name_its_sample(tmp_path: Path) -> None:
    path = _write_salmon(tmp_path / "S1", _example()["SYN-MEL-001"])
    frame = pd.read_csv(path, sep="\t", index_col=0)
    with pytest.raises(
        ExpressionError,
        match=r"DataFrame: the columns are those of one sample's Salmon quant\.sf / "
        r"quant\.genes\.sf file .*give the file's path.*frame\[\['TPM'\]\]",
    ):
        read_expression(frame)
    with pytest.raises(ExpressionError, match=r"one sample's Salmon"):
        score_expression(frame.reset_index())


def test_files_of_different_tools_combine_only_in_one_unit(tmp_path: Path) -> None:
    example = _example()
    salmon = _write_salmon(tmp_path / "P1", example["SYN-MEL-001"])
    length, _ = _lengths(len(example), 5)
    counts = (example[["SYN-CRC-001"]].mul(length, axis=0) / 1e3 * 2.3).round()
    featurecounts = tmp_path / "counts.txt"
    _write_featurecounts(featurecounts, counts.set_axis(["P2.bam"], axis=1), length)
    with pytest.raises(
        ExpressionError,
        match=r"would be read in different units \(P1/quant\.genes\.sf: tpm; counts\.txt: "
        r"counts; featureCounts holds counts only\): declare units='counts'",
    ):
        read_expression([salmon, featurecounts])
    both = read_expression([salmon, featurecounts], units="counts")
    assert both.samples == ["P1", "P2"]
    assert both.units_note.startswith("declared counts; the count columns of each file")
    matrix = tmp_path / "matrix.tsv"
    example[["SYN-NSCLC-001"]].to_csv(matrix, sep="\t")
    with pytest.raises(
        ExpressionError,
        match=r"mix quantifier output and genes × samples matrices \(P1/quant\.genes\.sf: Salmon "
        r"output; matrix\.tsv: matrix\)",
    ):
        read_expression([salmon, matrix])
    # genes × samples matrices combine too
    other = tmp_path / "other.tsv"
    example[["SYN-INTERMEDIATE"]].to_csv(other, sep="\t")
    assert read_expression([matrix, other]).samples == ["SYN-NSCLC-001", "SYN-INTERMEDIATE"]


def _write_gdc_star_counts(path: Path, tpm: pd.Series, counts: pd.Series) -> None:
    """A GDC ``*.rna_seq.augmented_star_gene_counts.tsv`` as the GDC portal serves it."""
    ensembl = {}
    for identifier, symbol in sorted(GeneTable.shipped().by_ensembl.items(), reverse=True):
        ensembl[symbol] = identifier
    lines = [
        "# gene-model: GENCODE v36",
        "gene_id\tgene_name\tgene_type\tunstranded\tstranded_first\tstranded_second\t"
        "tpm_unstranded\tfpkm_unstranded\tfpkm_uq_unstranded",
        "N_unmapped\t\t\t2160741\t2160741\t2160741\t\t\t",
        "N_multimapping\t\t\t4254338\t4254338\t4254338\t\t\t",
        "N_noFeature\t\t\t1823345\t32465131\t32611962\t\t\t",
        "N_ambiguous\t\t\t4431603\t1148929\t1154424\t\t\t",
    ]
    for gene in tpm.index:
        n = int(counts[gene])
        lines.append(
            f"{ensembl[gene]}.12\t{gene}\tprotein_coding\t{n}\t{n // 2}\t{n - n // 2}\t"
            f"{tpm[gene]:.4f}\t1.0\t1.0"
        )
    path.write_text("\n".join(lines) + "\n")


def test_gdc_star_counts_files_are_read_without_their_summary_rows(tmp_path: Path) -> None:
    example = _example()
    mapped = set(GeneTable.shipped().by_ensembl.values())
    genes = [g for g in example.index if g in mapped]
    paths = []
    for sample in ("SYN-MEL-001", "SYN-CRC-001"):
        tpm = example.loc[genes, sample]
        path = tmp_path / f"6f1b8a4e-{sample}.rna_seq.augmented_star_gene_counts.tsv"
        _write_gdc_star_counts(path, tpm, (tpm * 20).round())
        paths.append(path)
    matrix = read_expression(paths[0])
    assert matrix.samples == ["6f1b8a4e-SYN-MEL-001"]
    assert matrix.units == "tpm"
    assert matrix.units_note == (
        "the tpm_unstranded column (4 alignment summary rows left out: N_unmapped, "
        "N_multimapping …) of GDC STAR 6f1b8a4e-SYN-MEL-001.rna_seq.augmented_star_gene_counts"
        ".tsv (tpm)"
    )
    assert matrix.genes.kinds["unmapped"] == 0
    scores = score_expression(paths, deconvolution=False)
    direct = score_expression(example.loc[genes, ["SYN-MEL-001", "SYN-CRC-001"]])
    assert list(scores.index) == ["6f1b8a4e-SYN-MEL-001", "6f1b8a4e-SYN-CRC-001"]
    for column in ("CYT", "IFNG6", "GEP18", "IMPRES", "IPS"):
        np.testing.assert_allclose(
            scores[column].to_numpy(), direct[column].to_numpy(), rtol=1e-4, err_msg=column
        )
    # counts: the unstranded column, without the summary rows in the per-million scaling
    counts = read_expression(paths[0], units="counts")
    assert "the unstranded column" in counts.units_note
    assert "converted to counts per million" in counts.units_note
    cpm = counts.tpm(["GZMA"]).iloc[0, 0]
    total = (example.loc[genes, "SYN-MEL-001"] * 20).round().sum()
    assert cpm == pytest.approx(round(example.loc["GZMA", "SYN-MEL-001"] * 20) / total * 1e6)
