"""`immunoprecise simulate`: empty regimen files, untreated runs and the output-size cap."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app

runner = CliRunner()
PER_KG = ["simulate", "depillis2006", "-r", "chemo 1 mg/kg d0", "--t-end", "10"]


@pytest.mark.parametrize("content", ["", "\n  \n", "# regimen to be decided\n"])
def test_an_empty_regimen_file_is_refused_saying_how_to_ask_for_no_treatment(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(
        app, ["simulate", "depillis2006", "--regimen-file", str(path), "--t-end", "10"]
    )
    assert result.exit_code == 2, result.output
    assert "the file is empty" in result.stderr
    assert "leave out --regimen-file" in result.stderr
    assert "Traceback" not in result.output


def test_an_empty_regimen_text_is_titled_no_treatment() -> None:
    result = runner.invoke(app, ["simulate", "depillis2006", "-r", "", "--t-end", "10"])
    assert result.exit_code == 0, result.output
    assert "depillis2006 · no treatment · 10 days" in result.output


def test_many_patients_over_years_of_daily_output_are_refused_up_front(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    pd.DataFrame({"patient": [f"p{i}" for i in range(6000)], "T": 1e6}).to_csv(path, index=False)
    result = runner.invoke(
        app, ["simulate", "kuznetsov1994", "--patients", str(path), "--t-end", "3650"]
    )
    assert result.exit_code == 2, result.output
    assert "6,000 patients × 3,651 daily output times = 21,906,000" in result.stderr
    assert "--t-end" in result.stderr


def test_a_per_kg_dose_without_body_weight_says_which_weight_it_was_given_for() -> None:
    result = runner.invoke(app, PER_KG)
    assert result.exit_code == 0, result.output
    assert "per-kg doses (chemo) were given for a body weight of 70 kg" in result.stderr
    assert "--body-weight" in result.stderr
    weighed = runner.invoke(
        app,
        [*PER_KG, "--body-weight", "60"],
    )
    assert weighed.exit_code == 0, weighed.output
    assert "per-kg" not in weighed.stderr


def test_a_body_surface_no_dose_uses_is_named_as_unused() -> None:
    result = runner.invoke(
        app,
        [*PER_KG, "--body-weight", "60", "--body-surface", "1.7"],
    )
    assert result.exit_code == 0, result.output
    assert "--body-surface 1.7 is not used" in result.stderr
