"""Patient ids that differ only in case (``SYN-01`` and ``syn-01``) in one table or one cohort are
refused, naming both ids and their rows: ids are case-sensitive, so they would silently become
two patients, while in practice they are one patient's id typed two ways."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.records import Cohort, ids_differing_in_case, read_table
from immunoprecise.records.columns import table_columns


def _table(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "cohort.csv"
    pd.DataFrame(
        {"patient_id": ids, "diagnosis": "melanoma", "crp_mg_per_L": range(1, len(ids) + 1)}
    ).to_csv(path, index=False)
    return path


def test_groups_only_ids_that_differ_in_case() -> None:
    assert ids_differing_in_case(["A-1", "a-1", "B-2", "b-3", "A-1", "c.4", "C.4", "c.4"]) == [
        ["A-1", "a-1"],
        ["C.4", "c.4"],
    ]
    assert ids_differing_in_case(["A-1", "A-1", "A-2"]) == []


@pytest.mark.parametrize("read", [read_table, table_columns], ids=["read_table", "table_columns"])
def test_a_table_with_one_id_in_two_cases_is_refused_naming_rows(tmp_path: Path, read) -> None:
    path = _table(tmp_path, ["SYN-01", "SYN-02", "syn-01", "SYN-03"])
    with pytest.raises(ValidationError) as caught:
        read(path)
    text = str(caught.value)
    assert "'SYN-01' in row 2; 'syn-01' in row 4" in text, text
    assert "differ only in case" in text
    assert "SYN-02" not in text


def test_distinct_ids_are_still_read(tmp_path: Path) -> None:
    cohort = read_table(_table(tmp_path, ["SYN-01", "SYN-02", "SYN-010"]))
    assert [r.patient_id for r in cohort.records] == ["SYN-01", "SYN-02", "SYN-010"]


def test_a_cohort_built_in_python_is_refused() -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    other = record.model_copy(
        update={"patient": record.patient.model_copy(update={"id": record.patient_id.lower()})}
    )
    with pytest.raises(ValueError, match="differ only in case"):
        Cohort(records=(record, other))


def test_the_evaluate_command_names_both_ids(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from immunoprecise.cli import app

    path = _table(tmp_path, ["SYN-01", "syn-01"])
    result = CliRunner().invoke(app, ["evaluate", str(path)])
    assert result.exit_code != 0
    assert "'SYN-01' in row 2; 'syn-01' in row 3" in result.output
    assert "Traceback" not in result.output


def test_outcomes_whose_ids_differ_only_in_case_name_the_record_they_match() -> None:
    from immunoprecise.records import Outcome

    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    outcome = Outcome(patient_id=record.patient_id.lower(), best_response="PR")
    with pytest.raises(ValueError, match="outcomes for patients without a record") as caught:
        Cohort(records=(record,), outcomes=(outcome,))
    text = str(caught.value)
    assert f"{record.patient_id.lower()!r} matches the record {record.patient_id!r}" in text, text
    assert "except for case" in text
