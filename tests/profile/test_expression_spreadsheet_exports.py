"""Expression matrices saved by a spreadsheet: Excel's ``sep=`` first line, and gene names the
spreadsheet turned into dates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from immunoprecise.profile.expression import read_expression


def _matrix() -> pd.DataFrame:
    """Four genes × two samples of TPM with fractional values."""
    return pd.DataFrame(
        {"P1": [120.5, 80.25, 3.5, 10.0], "P2": [60.75, 40.5, 7.25, 20.0]},
        index=pd.Index(["GZMA", "PRF1", "CD274", "CD8A"], name="gene"),
    )


def test_a_sep_line_names_the_separator_and_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "tpm.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("sep=;\r\n")
        _matrix().to_csv(handle, sep=";", decimal=",", lineterminator="\r\n")
    m = read_expression(path, units="tpm")
    assert m.samples == ["P1", "P2"]
    assert m.symbols == ["CD274", "CD8A", "GZMA", "PRF1"]
    np.testing.assert_allclose(m.tpm(["GZMA", "CD274"]).to_numpy(), [[120.5, 60.75], [3.5, 7.25]])
    assert "read as semicolon-separated, as its first line (sep=;) says" in m.units_note
    assert "decimal commas" in m.units_note


def test_a_sep_line_with_tabs_keeps_the_samples_as_written(tmp_path: Path) -> None:
    path = tmp_path / "tpm.txt"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("sep=\t\n")
        _matrix().to_csv(handle, sep="\t")
    m = read_expression(path, units="tpm")
    assert m.samples == ["P1", "P2"]
    assert m.tpm(["PRF1"]).loc["PRF1", "P2"] == 40.5


def test_gene_names_turned_into_dates_are_named_with_the_fix() -> None:
    frame = _matrix()
    frame.index = pd.Index(["GZMA", "PRF1", "1-Mar", "2-Sep"])
    m = read_expression(frame, units="tpm")
    assert m.symbols == ["GZMA", "PRF1"]
    note = m.genes_note
    assert note.startswith("4 identifiers: 2 symbol, 2 unmapped; 2 unmapped identifiers are dates")
    assert "(1-Mar, 2-Sep;" in note
    assert "import the gene column as text" in note
    # other unmapped identifiers are not called dates
    frame.index = pd.Index(["GZMA", "PRF1", "NOT_A_GENE", "Mar-2019x"])
    assert read_expression(frame, units="tpm").genes_note == "4 identifiers: 2 symbol, 2 unmapped"


def test_comment_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "tpm.tsv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("# exported by the lab pipeline\n# values: TPM\n")
        _matrix().to_csv(handle, sep="\t")
    m = read_expression(path, units="tpm")
    assert m.samples == ["P1", "P2"]
    assert m.tpm(["CD8A"]).loc["CD8A", "P2"] == 20.0
    assert "2 comment lines (#) before the header skipped" in m.units_note
    # a header that itself begins with # is still the header
    headed = tmp_path / "headed.tsv"
    headed.write_text("#gene\tP1\tP2\nGZMA\t1.5\t2.5\nPRF1\t3.5\t4.5\n", encoding="utf-8")
    assert read_expression(headed, units="tpm").samples == ["P1", "P2"]
