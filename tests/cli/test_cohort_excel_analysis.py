"""An analysis table saved as an Excel workbook is read as the same table saved as CSV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import kaplan_meier

runner = CliRunner()


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 40
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(n)],
            "os_days": rng.exponential(300, n).round(1),
            "os_event": rng.integers(0, 2, n),
            "arm": rng.choice(["control", "combination"], n),
            "tmb": rng.lognormal(1.5, 0.6, n).round(2),
        }
    )


def test_survival_of_an_analysis_workbook_equals_the_csv(tmp_path: Path) -> None:
    table = _table()
    workbook, csv = tmp_path / "analysis.xlsx", tmp_path / "analysis.csv"
    table.to_excel(workbook, index=False)
    table.to_csv(csv, index=False)
    outputs = {}
    for path in (workbook, csv):
        out = tmp_path / f"{path.suffix[1:]}.json"
        result = runner.invoke(
            app, ["cohort", "survival", str(path), "--by", "arm", "--json", str(out)]
        )
        assert result.exit_code == 0, result.output
        outputs[path.suffix] = json.loads(out.read_text(encoding="utf-8"))
    assert outputs[".xlsx"] == outputs[".csv"]
    direct = kaplan_meier(table, group="arm")
    assert direct.log_rank is not None
    saved = outputs[".xlsx"]["kaplan_meier"]["log_rank"]["estimate"]
    assert saved == direct.log_rank.estimate


def test_the_sheet_of_an_analysis_workbook_is_read(tmp_path: Path) -> None:
    table = _table()
    workbook = tmp_path / "analysis.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        pd.DataFrame({"note": ["exported from the trial database"]}).to_excel(
            writer, sheet_name="About", index=False
        )
        table.to_excel(writer, sheet_name="Analysis", index=False)
    result = runner.invoke(
        app, ["cohort", "cutpoint", str(workbook), "tmb", "--n-boot", "0", "--sheet", "Analysis"]
    )
    assert result.exit_code == 0, result.output
    assert "cut-point" in result.stdout
    unnamed = runner.invoke(app, ["cohort", "cutpoint", str(workbook), "tmb", "--n-boot", "0"])
    assert unnamed.exit_code == 2
    assert "2 sheets with data: 'About', 'Analysis'" in unnamed.stderr
