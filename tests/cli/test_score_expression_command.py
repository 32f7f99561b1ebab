"""`immunoprecise score-expression`, and expression scores flowing into `ip.profile`."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()
MATRIX = example_path("expression_examples.tsv")


def test_scores_the_example_matrix_and_writes_every_score(tmp_path: Path) -> None:
    out = tmp_path / "scores.tsv"
    result = runner.invoke(app, ["score-expression", str(MATRIX), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "detected TPM" in result.stderr
    assert "IPS: 160/160 genes" in result.stderr
    table = pd.read_csv(out, sep="\t", index_col=0)
    assert list(table.index) == ["SYN-MEL-001", "SYN-CRC-001", "SYN-NSCLC-001", "SYN-INTERMEDIATE"]
    direct = ip.score_expression(MATRIX)
    for column in ("icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS", "TIL10_T.cells.CD8"):
        np.testing.assert_allclose(table[column], direct[column], rtol=1e-5)
    assert table["icb_response_explanation"].str.startswith("icb_response").all()
    assert "SYN-NSCLC-001" in result.stdout


def test_declared_units_and_a_matrix_missing_most_genes(tmp_path: Path) -> None:
    small = tmp_path / "few.csv"
    pd.DataFrame({"a": [10.0, 20.0], "b": [1.0, 2.0]}, index=["GZMA", "PRF1"]).to_csv(small)
    result = runner.invoke(
        app, ["score-expression", str(small), "--units", "tpm", "--no-deconvolution"]
    )
    assert result.exit_code == 0, result.output
    assert "declared tpm" in result.stderr
    assert "IFNG6: 0/6 genes: not scored" in result.stderr


def test_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    for args, message in (
        (["score-expression", str(tmp_path / "none.tsv")], "not found"),
        (["score-expression", str(MATRIX), "--units", "fpkm"], "--units must be"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_a_record_referencing_a_matrix_gets_expression_values() -> None:
    record = ip.read_patient(example_path("melanoma_braf.json"))
    assert record.expression is not None
    profile = ip.profile(record, base_dir=MATRIX.parent)
    scores = ip.score_expression(MATRIX).loc["SYN-MEL-001"]
    value = profile.values["expression.icb_response"]
    assert value.status == "assessed"
    assert value.value == round(float(scores["icb_response"]), 4)
    assert {c.doi for c in value.references} >= {
        "10.1038/s41591-018-0157-9",
        "10.1016/j.celrep.2016.12.019",
    }
    assert value.interpretation is not None
    assert value.interpretation.startswith("icb_response")
    assert "expression_examples.tsv" in value.method
    assert profile.values["expression.CYT"].unit == "TPM"
    assert profile.values["expression.TIL10_T.cells.CD8"].unit == "fraction"


def test_a_wrong_sample_id_is_named(tmp_path: Path, minimal: dict) -> None:
    minimal["expression"] = {"path": str(MATRIX), "sample_id": "NOPE"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(minimal))
    result = runner.invoke(app, ["evaluate", str(path), "--format", "json", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "expression.sample_id: 'NOPE' is not a sample of expression_examples.tsv" in (
        result.stderr
    )


def test_a_sample_missing_values_gets_not_assessable_scores_with_the_reason(
    tmp_path: Path,
) -> None:
    from immunoprecise.profile.expression import signatures as sig

    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    housekeeping = sig.signature_data()["signatures"]["GEP18"]["housekeeping"]
    pairs = sig.signature_data()["signatures"]["IMPRES"]["pairs"]
    blank = set(housekeeping) | {a for a, _b in pairs}
    frame.loc[sorted(blank & set(frame.index)), "SYN-MEL-001"] = np.nan
    path = tmp_path / "with_gaps.tsv"
    frame.to_csv(path, sep="\t")
    record = ip.read_patient(example_path("melanoma_braf.json"))
    assert record.expression is not None
    moved = record.model_copy(
        update={"expression": record.expression.model_copy(update={"path": str(path)})}
    )
    profile = ip.profile(moved)
    for key in ("expression.GEP18", "expression.IMPRES", "expression.icb_response"):
        value = profile.values[key]
        assert value.status == "not_assessable", key
        assert value.value is None
    assert "not scored for sample SYN-MEL-001" in (profile.values["expression.GEP18"].note or "")
    assert "IMPRES" in (profile.values["expression.icb_response"].note or "")
    assert profile.values["expression.CYT"].status == "assessed"


def test_log2_values_declared_tpm_exit_2_with_the_evidence(tmp_path: Path) -> None:
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    logged = tmp_path / "log2tpm.tsv"
    np.log2(frame + 1.0).to_csv(logged, sep="\t")
    result = runner.invoke(app, ["score-expression", str(logged), "--units", "tpm"])
    assert result.exit_code == 2, result.output
    assert "declared tpm, but in 5,441 genes no sample has a value above 30" in result.stderr
    assert "Declare --units log2tpm" in result.stderr
    assert "Traceback" not in result.output
    declared = runner.invoke(app, ["score-expression", str(logged), "--units", "log2tpm"])
    assert declared.exit_code == 0, declared.output


def test_an_h5ad_without_gene_names_and_a_reference_that_is_not_text_exit_2(
    tmp_path: Path,
) -> None:
    anndata = pytest.importorskip("anndata")
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    adata = anndata.AnnData(frame.T.to_numpy())
    adata.obs_names = list(frame.columns)
    adata.var["gene_symbols"] = list(frame.index)
    h5ad = tmp_path / "numbered.h5ad"
    adata.write_h5ad(h5ad)
    result = runner.invoke(app, ["score-expression", str(h5ad)])
    assert result.exit_code == 2, result.output
    assert "set adata.var_names = adata.var['gene_symbols']" in result.stderr
    packed = tmp_path / "ref.tsv"
    packed.write_bytes(gzip.compress(b"gene\tT\tB\nCD3E\t120\t1\n"))
    result = runner.invoke(app, ["score-expression", str(MATRIX), "--reference", str(packed)])
    assert result.exit_code == 2, result.output
    assert f"{packed}: not a text file" in result.stderr


def _salmon_gene_file(folder: Path, tpm: pd.Series) -> Path:
    folder.mkdir(parents=True)
    path = folder / "quant.genes.sf"
    rows = [
        f"{gene}\t1500\t1320.5\t{value:.6f}\t{value * 1.3205 * 2:.3f}"
        for gene, value in tpm.items()
    ]
    path.write_text("Name\tLength\tEffectiveLength\tTPM\tNumReads\n" + "\n".join(rows) + "\n")
    return path


def test_several_salmon_files_are_scored_as_one_matrix(tmp_path: Path) -> None:
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    files = [_salmon_gene_file(tmp_path / sample, frame[sample]) for sample in frame.columns]
    out = tmp_path / "scores.tsv"
    result = runner.invoke(app, ["score-expression", *map(str, files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 files (SYN-MEL-001/quant.genes.sf" in result.stderr
    assert "units: the TPM column of each Salmon file (tpm)" in result.stderr
    table = pd.read_csv(out, sep="\t", index_col=0)
    assert list(table.index) == list(frame.columns)
    direct = ip.score_expression(MATRIX)
    np.testing.assert_allclose(table["icb_response"], direct["icb_response"], rtol=1e-5)
    # one file alone, its counts column, any case of --units
    single = runner.invoke(
        app, ["score-expression", str(files[0]), "--units", "COUNTS", "--no-deconvolution"]
    )
    assert single.exit_code == 0, single.output
    assert "declared counts; the NumReads column of Salmon quant.genes.sf" in single.stderr


def test_a_reference_of_too_few_genes_exits_2(tmp_path: Path) -> None:
    small = tmp_path / "small.tsv"
    small.write_text("gene\tT\tB\nCD3E\t120\t1\nMS4A1\t0.5\t300\n")
    result = runner.invoke(app, ["score-expression", str(MATRIX), "--reference", str(small)])
    assert result.exit_code == 2, result.output
    assert "reference 'small': 2 genes, fewer than the 50" in result.stderr
    assert "or leave --reference out to use TIL10" in result.stderr
    assert "Traceback" not in result.output


def test_a_folder_given_as_the_matrix_is_named_as_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "P7"
    folder.mkdir()
    result = runner.invoke(app, ["score-expression", str(folder)])
    assert result.exit_code == 2, result.output
    assert f"error: {folder} is a folder, not an expression matrix: give the file" in (
        result.stderr
    )
    assert "not found" not in result.stderr


def test_matrices_of_one_file_name_in_two_folders_are_told_apart(tmp_path: Path) -> None:
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    first, second = tmp_path / "cohort_a", tmp_path / "cohort_b"
    for folder in (first, second):
        folder.mkdir()
    frame.to_csv(first / "expression.tsv", sep="\t")
    frame.iloc[:, :2].to_csv(second / "expression.tsv", sep="\t")
    result = runner.invoke(
        app, ["score-expression", str(first / "expression.tsv"), str(second / "expression.tsv")]
    )
    assert result.exit_code == 2, result.output
    assert "' in cohort_a/expression.tsv, cohort_b/expression.tsv;" in result.stderr
    assert "quant.sf" not in result.stderr  # the hint for quantifier files does not apply
    frame.iloc[:100].set_axis(["X1", "X2", "X3", "X4"], axis=1).to_csv(
        second / "expression.tsv", sep="\t"
    )
    result = runner.invoke(
        app, ["score-expression", str(first / "expression.tsv"), str(second / "expression.tsv")]
    )
    assert result.exit_code == 2, result.output
    assert "cohort_b/expression.tsv and cohort_a/expression.tsv do not hold the same genes" in (
        result.stderr
    )
    # matrices of distinct samples on the same genes are scored together, each sample once
    frame.set_axis(["X1", "X2", "X3", "X4"], axis=1).to_csv(second / "expression.tsv", sep="\t")
    out = tmp_path / "scores.tsv"
    result = runner.invoke(
        app,
        [
            "score-expression",
            str(first / "expression.tsv"),
            str(second / "expression.tsv"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 files (cohort_a/expression.tsv, cohort_b/expression.tsv): 8 samples" in (
        result.stderr
    )
    assert len(pd.read_csv(out, sep="\t", index_col=0)) == 8


def _python_wording(text: str) -> list[str]:
    """Keyword-argument spellings (units='tpm', log2_offset) that a shell user cannot type."""
    return re.findall(r"\bunits=|\blog2_offset\b|leave units out|leave reference out", text)


def test_messages_name_the_options_as_typed_on_the_command_line(tmp_path: Path) -> None:
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    linear = tmp_path / "tpm.tsv"
    frame.to_csv(linear, sep="\t")
    logged = tmp_path / "log2tpm.tsv"
    np.log2(frame + 0.001).to_csv(logged, sep="\t")
    counts = tmp_path / "counts.txt"
    counts.write_text(
        "# Program:featureCounts v2.0.6\n"
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/S01.bam\n"
        + "".join(
            f"{gene}\tchr1\t1\t1000\t+\t1000\t{i * 7}\n" for i, gene in enumerate(frame.index)
        )
    )
    cases = (
        # log2 values declared TPM: the fix is another --units
        (["--units", "tpm", str(logged)], "Declare --units log2tpm (or leave --units out"),
        # an offset with linear values
        (
            ["--log2-offset", "1", str(linear)],
            "--log2-offset 1 was given, but the values are read as tpm",
        ),
        # an offset the minimum contradicts
        (
            ["--log2-offset", "1", str(logged)],
            "the minimum suggests --log2-offset 0.1; declare that, or leave --log2-offset out",
        ),
        # featureCounts holds counts only
        (
            ["--units", "tpm", str(counts)],
            "holds read counts only, no TPM: declare --units counts or leave --units out",
        ),
        (
            ["--units", "log2tpm", str(counts)],
            "not log2 values: leave --units out or declare --units counts",
        ),
    )
    for args, expected in cases:
        result = runner.invoke(app, ["score-expression", *args, "--no-deconvolution"])
        assert result.exit_code == 2, result.output
        assert expected in result.stderr, result.stderr
        assert _python_wording(result.stderr) == [], result.stderr
    # the note of a declared offset, printed with the scores
    result = runner.invoke(
        app, ["score-expression", str(logged), "--log2-offset", "0.001", "--no-deconvolution"]
    )
    assert result.exit_code == 0, result.output
    assert "declared --log2-offset 0.001 → log2(TPM + 0.001)" in result.stderr
    # the Python API keeps keyword-argument wording
    with pytest.raises(ip.ExpressionError, match=r"Declare units='log2tpm' \(or leave units out"):
        ip.score_expression(logged, units="tpm")


def test_an_unknown_units_lists_the_units_the_library_reads() -> None:
    from immunoprecise.profile.expression.matrix import UNITS

    result = runner.invoke(app, ["score-expression", str(MATRIX), "--units", "fpkm"])
    assert result.exit_code == 2, result.output
    assert f"--units must be {', '.join(UNITS[:-1])} or {UNITS[-1]}, not 'fpkm'" in (result.stderr)


def test_an_h5ad_layer_is_chosen_with_layer(tmp_path: Path) -> None:
    anndata = pytest.importorskip("anndata")
    frame = pd.read_csv(MATRIX, sep="\t", index_col=0)
    adata = anndata.AnnData(
        X=None, obs=pd.DataFrame(index=list(frame.columns)), var=pd.DataFrame(index=frame.index)
    )
    adata.layers["counts"] = (frame * 20).round().T.to_numpy()
    path = tmp_path / "tumours.h5ad"
    adata.write_h5ad(path)
    result = runner.invoke(app, ["score-expression", str(path), "--no-deconvolution"])
    assert result.exit_code == 2, result.output
    assert "unless a layer is named: give the layer to score, e.g. --layer counts" in (
        result.stderr
    )
    result = runner.invoke(
        app, ["score-expression", str(path), "--layer", "counts", "--no-deconvolution"]
    )
    assert result.exit_code == 0, result.output
    assert "tumours.h5ad layer 'counts': 4 samples" in result.stderr
    result = runner.invoke(app, ["score-expression", str(MATRIX), "--layer", "counts"])
    assert result.exit_code == 2, result.output
    assert "--layer counts was given, but layers belong to AnnData" in result.stderr
    assert "leave --layer out" in result.stderr
