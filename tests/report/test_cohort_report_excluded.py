"""The cohort report says, section by section, how many patients each analysis left out
(review of 2026-11: only the Kaplan–Meier section did)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    frame = pd.DataFrame(
        {
            "os_days": rng.exponential(400, n).round() + 1,
            "os_event": rng.integers(0, 2, n).astype(float),
            "best_response": rng.choice(["CR", "PR", "SD", "PD"], n).astype(object),
            "arm": rng.choice(["a", "b"], n).astype(object),
            "crp": rng.uniform(1, 50, n),
            "score": rng.normal(size=n),
        },
        index=pd.Index([f"P{i:02d}" for i in range(n)], name="patient_id"),
    )
    frame.loc["P00", "best_response"] = None  # response: 1 left out
    frame.loc[["P01", "P02"], "crp"] = np.nan  # cut-point and Cox of crp: 2 left out
    frame.loc[["P03", "P04", "P05"], "score"] = np.nan  # predictor: 3 + P00 left out
    return frame


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, flags=re.S)
    assert found is not None, section_id
    return found.group(0)


def test_every_section_counts_its_patients_left_out() -> None:
    options = CohortReportOptions(
        by="arm", cox=("crp",), biomarkers=("crp",), predictors=("score",), n_boot=0
    )
    html = render_cohort_html(_frame(), options)
    assert "1 patient left out (no best response or no arm)" in _section(html, "response")
    assert "2 patients left out (no crp or no time/event)" in _section(html, "cutpoint-1")
    assert "2 patients left out (no time/event or no crp)" in _section(html, "cox")
    assert "4 patients left out (no evaluable response or a predictor missing)" in _section(
        html, "predictors"
    )
    # nothing is said where nobody was left out
    assert "left out" not in _section(html, "survival")


def test_report_of_a_cutpoint_without_bootstrap_renders(tmp_path: Path) -> None:
    # --n-boot 0 (no CI of the cut) ended in a TypeError traceback from the template
    out = tmp_path / "cohort.html"
    result = CliRunner().invoke(
        app,
        ["cohort", "report", str(example_path("fl_cohort.csv")), "--out", str(out), "-b", "crp",
         "--n-boot", "0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no bootstrap interval (0 resamples)" in _section(
        out.read_text(encoding="utf-8"), "cutpoint-1"
    )


def test_report_with_an_order_but_no_group_column_is_refused(tmp_path: Path) -> None:
    # --order without --by wrote a report without the trend test it asked for, and no word why
    out = tmp_path / "cohort.html"
    result = CliRunner().invoke(
        app,
        ["cohort", "report", str(example_path("fl_cohort.csv")), "--out", str(out),
         "--order", "low,intermediate,high"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "give the column as by (--by)" in " ".join(result.stderr.split())
    assert not out.exists()
