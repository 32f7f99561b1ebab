"""`immunoprecise cohort survival|response|cutpoint|predictors` on the example cohort."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cohort import kaplan_meier, log_rank, response_table
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = example_path("fl_cohort.csv")


def test_survival_prints_curves_tests_and_cox_and_saves_the_figure(tmp_path: Path) -> None:
    plot, out = tmp_path / "km.svg", tmp_path / "km.json"
    result = runner.invoke(
        app,
        [
            "cohort", "survival", str(COHORT), "--endpoint", "pfs", "--by", "risk.flipi:category",
            "--trend", "--order", "low,intermediate,high", "--cox", "crp",
            "--plot", str(plot), "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    direct = kaplan_meier(COHORT, endpoint="pfs", group="risk.flipi:category")
    assert direct.log_rank is not None
    assert f"log-rank χ² {direct.log_rank.estimate:.3f}" in result.stdout
    trend = log_rank(
        COHORT, group="risk.flipi:category", endpoint="pfs", trend=True,
        order=["low", "intermediate", "high"],
    )  # fmt: skip
    assert f"log-rank trend χ² {trend.estimate:.3f}" in result.stdout
    assert "Cox model of PFS" in result.stdout
    assert plot.read_text().lstrip().startswith("<?xml")
    saved = json.loads(out.read_text())
    assert [c["n"] for c in saved["kaplan_meier"]["curves"]] == [c.n for c in direct.curves]
    assert saved["cox"]["hazard_ratios"]["crp"]["ci_level"] == 0.95


def test_response_with_merged_strata_matches_the_library() -> None:
    result = runner.invoke(
        app,
        [
            "cohort", "response", str(COHORT), "--by", "risk.flipi:category",
            "--group", "low=low", "--group", "intermediate/poor=intermediate,high",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = response_table(
        COHORT, by="risk.flipi:category",
        groups={"low": ["low"], "intermediate/poor": ["intermediate", "high"]},
    )  # fmt: skip
    low = table.rows[0]
    assert f"{100 * low.orr.estimate:.1f}" in result.stdout
    assert "Fisher's exact test" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["survival", str(COHORT), "--by", "no_such_column"], "no column 'no_such_column'"),
        (["survival", str(COHORT), "--endpoint", "dfs"], "endpoint 'dfs'"),
        (["response", str(COHORT), "--by", "risk.flipi:category", "--group", "low"], "LABEL="),
        (["response", "missing.csv"], "missing.csv"),
    ],
)
def test_bad_requests_exit_2_with_the_reason(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["cohort", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_analysis_table_with_a_column_written_twice_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "scores.tsv"
    table.write_text("patient_id\tcrp\tresponse\tcrp\np1\t3\t1\t40\np2\t9\t0\t2\n")
    result = runner.invoke(app, ["cohort", "predictors", str(table), "--predictor", "crp"])
    assert result.exit_code == 2
    assert "scores.tsv: column name(s) written more than once: crp" in result.stderr
    assert "Traceback" not in result.output


def test_predictors_on_one_table_and_pooled_across_two(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from immunoprecise.cohort import compare_predictors

    rng = np.random.default_rng(7)
    paths = []
    for k in range(2):
        response = rng.integers(0, 2, 60)
        frame = pd.DataFrame(
            {
                "patient_id": [f"C{k}-{i}" for i in range(60)],
                "response": response,
                "good": response + rng.normal(0, 0.8, 60),
                "noise": rng.normal(0, 1, 60),
            }
        )
        path = tmp_path / f"cohort{k}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    one = runner.invoke(app, ["cohort", "predictors", str(paths[0]), "-p", "good", "-p", "noise"])
    assert one.exit_code == 0, one.output
    direct = compare_predictors(pd.read_csv(paths[0]), ["good", "noise"])
    assert f"{direct.aucs[0].estimate:.3f}" in one.stdout
    assert "good − noise" in one.stdout
    plot = tmp_path / "forest.png"
    both = runner.invoke(
        app,
        ["cohort", "predictors", str(paths[0]), str(paths[1]), "-p", "good", "--plot", str(plot)],
    )
    assert both.exit_code == 0, both.output
    assert "pooled (random" in both.stdout
    assert plot.stat().st_size > 0


def test_cutpoint_prints_the_summary_of_the_library_result(tmp_path: Path) -> None:
    from immunoprecise.cohort.cutpoint import optimal_cutpoint

    plot, out = tmp_path / "scan.png", tmp_path / "cut.json"
    result = runner.invoke(
        app,
        [
            "cohort", "cutpoint", str(COHORT), "density.FOXP3.interfollicular",
            "--n-boot", "60", "--seed", "3", "--plot", str(plot), "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    direct = optimal_cutpoint(COHORT, "density.FOXP3.interfollicular", n_boot=60, seed=3)
    assert " ".join(direct.summary().split()) in " ".join(result.stdout.split())
    assert json.loads(out.read_text())["cutpoint"]["estimate"] == direct.cutpoint.estimate
    assert plot.stat().st_size > 0
    missing = runner.invoke(app, ["cohort", "cutpoint", str(COHORT), "no_such_marker"])
    assert missing.exit_code == 2
    assert "no_such_marker" in missing.stderr


def test_survival_of_groups_without_an_event_prints_curves_and_the_note(tmp_path: Path) -> None:
    table = tmp_path / "censored.csv"
    table.write_text(
        "patient_id,os_days,os_event,arm\nP1,30,0,a\nP2,60,0,a\nP3,45,0,b\nP4,90,0,b\n"
    )
    result = runner.invoke(app, ["cohort", "survival", str(table), "--by", "arm"])
    assert result.exit_code == 0, result.output
    assert "Note: no os event was observed: every patient is censored" in result.stdout
    assert "log-rank χ²" not in result.stdout
