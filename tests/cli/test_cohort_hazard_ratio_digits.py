"""Hazard ratios per unit of a biomarker in large units are written with the digits that show
how they differ from 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli.app import app
from immunoprecise.cohort import cox_model


def _cd8_table(path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 300
    cd8 = rng.uniform(50, 900, n)  # cells/mm²
    t = rng.exponential(1 / (0.002 * np.exp(-0.0015 * cd8)))
    c = rng.uniform(200, 2000, n)
    pd.DataFrame(
        {
            "patient_id": [f"P{i:03d}" for i in range(n)],
            "os_days": np.minimum(t, c).round(1),
            "os_event": (t <= c).astype(int),
            "cd8_density": cd8.round(1),
        }
    ).to_csv(path, index=False)
    return path


def test_cox_table_shows_a_per_cell_hazard_ratio_apart_from_1(tmp_path: Path) -> None:
    table = _cd8_table(tmp_path / "cd8.csv")
    result = CliRunner().invoke(
        app, ["cohort", "survival", str(table), "--cox", "cd8_density"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    hr = cox_model(pd.read_csv(table), ["cd8_density"]).hazard_ratios["cd8_density"]
    assert hr.ci_high is not None
    assert hr.ci_high < 1  # the CI excludes 1 ...
    # ... and the table says so, with the numbers as computed
    shown = f"{hr.estimate:.4f} ({hr.ci_low:.4f}–{hr.ci_high:.4f})"
    assert shown in result.output
    assert "1.00 (1.00–1.00)" not in result.output
