"""The column name an unknown column is told to take keeps the kind and the unit of its values.

Following the advice must never read the values in another unit (CRP in mg/dL as mg/L) or into
a field of another kind (a tissue density in cells/mm² as a blood count in cells/µL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import read_table
from immunoprecise.records.columns import table_columns
from immunoprecise.records.table import parse_table_header


def _refused(path: Path) -> list[str]:
    messages = []
    for reader in (read_table, table_columns):
        with pytest.raises(ValidationError) as info:
            reader(path)
        messages.append(str(info.value))
    return messages


@pytest.mark.parametrize(
    ("column", "advice"),
    [
        ("Crp_mg_per_dl", "write it 'crp_mg_per_dl'"),  # not 'crp_mg_per_L': 10 times off
        ("Albumin_g_per_dL", "write it 'albumin_g_per_dL'"),
        ("CRP_mg_per_L", "write it 'crp_mg_per_L'"),
        ("ihc_CD8_tumor_core_cells_per_mm2", "write it 'ihc_cd8_tumor_core_cells_per_mm2'"),
        ("cpr_mg_per_L", "did you mean 'crp_mg_per_L'?"),
        ("lymphocyte_cells_per_uL", "did you mean 'lymphocytes_cells_per_uL'?"),
    ],
)
def test_a_misspelt_column_is_told_the_name_in_the_unit_it_was_written_in(
    tmp_path: Path, column: str, advice: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"patient_id,diagnosis,{column}\nP1,FL,3\n", encoding="utf-8")
    for message in _refused(path):
        assert f"unknown column '{column}'; {advice}" in message


@pytest.mark.parametrize(
    "column",
    ["cd8_cells_per_mm2", "ihc_cd8_cells_per_mm2", "ihc_cd8_im_cells_per_mm2", "CD8 (cells/mm2)"],
)
def test_a_tissue_density_is_told_the_ihc_column_not_a_blood_count(
    tmp_path: Path, column: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f'patient_id,diagnosis,"{column}"\nP1,FL,230\n', encoding="utf-8")
    for message in _refused(path):
        assert "flow_cd8" not in message
        assert "cells_per_uL" not in message
        assert "a density in tissue is named ihc_<marker>_<region>_<unit>" in message
        assert "tumor_core, invasive_margin, stroma" in message
        assert "e.g. 'ihc_cd8_tumor_core_cells_per_mm2'" in message


@pytest.mark.parametrize(
    ("column", "advice"),
    [
        ("crp_cells_per_uL", "'cells_per_uL' is not a unit of host.crp, which is in mg/L"),
        ("lymphocytes_g_per_L", "'g_per_L' is not a unit of host.blood.lymphocytes"),
    ],
)
def test_a_known_field_in_a_unit_of_another_kind_is_told_its_unit(column: str, advice: str) -> None:
    message = parse_table_header(column)
    assert isinstance(message, str)
    assert advice in message
