"""A measured value of 1000 or more is shown in the report and the table as the number it is
(IL-6 12345 pg/mL in cytokine release), not rounded to four digits in scientific notation
(``1.234e+04``, i.e. 12340)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.report import render_html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (12345.0, "12345"),
        (12345.6, "12346"),
        (1500.0, "1500"),
        (999.94, "999.9"),
        (45.0, "45"),
        (2.1, "2.1"),
        (0.04, "0.04"),
        (0.333333, "0.3333"),
        (-2500.0, "-2500"),
        (0.0, "0"),
        (2e11, "2e+11"),  # cell numbers of an infusion: beyond 10⁹ in powers of ten
    ],
)
def test_display_number(value: float, shown: str) -> None:
    from immunoprecise.report.rendering import display_number

    assert display_number(value) == shown


def _cytokine_storm(minimal: dict[str, Any]) -> dict[str, Any]:
    minimal["host"]["il6"] = {"value": 12345, "unit": "pg/mL"}
    minimal["microenvironment"] = {
        "densities": [{"marker": "CD8", "region": "tumor_core", "density": 2345.0}]
    }
    return minimal


def test_html_report_shows_the_recorded_numbers(minimal: dict[str, Any]) -> None:
    record = ip.PatientRecord.model_validate(_cytokine_storm(minimal))
    html = render_html(ip.evaluate(record), record)
    il6_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Interleukin-6(?:(?!</tr>).)*</tr>", html, re.S)
    assert il6_row is not None
    assert ">12345<" in il6_row.group(0)
    assert "e+04" not in html


def test_table_shows_the_recorded_numbers(minimal: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_cytokine_storm(minimal)), encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(path), "-f", "table"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    il6 = next(line for line in result.stdout.splitlines() if "Interleukin-6" in line)
    assert "12345" in il6
    assert "e+0" not in result.stdout
