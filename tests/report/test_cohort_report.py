"""The cohort HTML report: every section, its numbers from the library, its provenance."""

from __future__ import annotations

import hashlib
from html import escape as html_escape
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import cohort_frame, kaplan_meier, response_table
from immunoprecise.cohort.cutpoint import optimal_cutpoint
from immunoprecise.data import example_path
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html

COHORT = example_path("fl_cohort.csv")


def test_report_has_every_section_with_library_numbers() -> None:
    frame = cohort_frame(COHORT)
    options = CohortReportOptions(
        endpoint="pfs",
        by="risk.flipi:category",
        order=("low", "intermediate", "high"),
        cox=("crp",),
        biomarkers=("cd8_foxp3_ratio.interfollicular",),
        n_boot=40,
        seed=5,
    )
    html = render_cohort_html(frame, options, source=COHORT)
    for section in ('id="survival"', 'id="cox"', 'id="response"', 'id="cutpoint-1"'):
        assert section in html
    km = kaplan_meier(frame, endpoint="pfs", group="risk.flipi:category")
    assert km.log_rank is not None
    assert f"log-rank χ² {km.log_rank.estimate:.3f}" in html
    assert "log-rank trend χ²" in html
    rows = response_table(frame, by="risk.flipi:category").rows
    assert f"{rows[0].responders}/{rows[0].n}" in html
    cut = optimal_cutpoint(
        frame, "cd8_foxp3_ratio.interfollicular", endpoint="pfs", n_boot=40, seed=5
    )
    assert html_escape(cut.summary(), quote=False) in html
    assert hashlib.sha256(COHORT.read_bytes()).hexdigest() in html
    assert "bootstrap seed 5, 40 resamples" in html
    assert "lifelines 0." in html
    assert "not a medical device" in html
    assert "<script" not in html


def test_report_command_writes_the_file_and_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cohort.html"
    result = runner.invoke(
        app, ["cohort", "report", str(COHORT), "--out", str(out), "--by", "risk.flipi:category"]
    )
    assert result.exit_code == 0, result.output
    assert 'id="response"' in out.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["cohort", "report", str(COHORT), "--out", str(out), "--n-boot", "-3"])
    assert bad.exit_code == 2
    assert "--n_boot = -3" in bad.stderr


def test_predictor_section_on_an_analysis_table() -> None:
    frame = pd.DataFrame(
        {
            "os_days": [100.0, 200, 300, 400, 500, 600, 700, 800],
            "os_event": [1, 1, 0, 1, 0, 1, 0, 0],
            "best_response": ["PD", "SD", "PR", "PD", "CR", "SD", "PR", "CR"],
            "score": [0.1, 0.3, 0.7, 0.2, 0.9, 0.4, 0.6, 0.8],
        },
        index=pd.Index([f"p{i}" for i in range(8)], name="patient_id"),
    )
    html = render_cohort_html(frame, CohortReportOptions(predictors=("score",), n_boot=0))
    assert 'id="predictors"' in html
    assert "1.000" in html  # the score separates responders perfectly here
    assert "analysis table" in html


def test_report_of_groups_without_an_event_shows_the_curves_and_says_why_no_test() -> None:
    frame = cohort_frame(
        pd.DataFrame(
            {
                "patient_id": ["P1", "P2", "P3", "P4"],
                "os_days": [30.0, 60, 45, 90],
                "os_event": [0, 0, 0, 0],
                "arm": ["a", "a", "b", "b"],
            }
        )
    )
    html = render_cohort_html(frame, CohortReportOptions(by="arm", n_boot=0), source=None)
    assert 'id="svg-km' in html
    assert "Note: no os event was observed: every patient is censored" in html
    assert "log-rank χ²" not in html
