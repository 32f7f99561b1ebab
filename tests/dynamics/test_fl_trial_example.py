"""The shipped trial example: relapsed FL, rituximab vs rituximab + γδ T-cell activation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path
from immunoprecise.dynamics.trials import TrialDesign, TrialResult, load_trial_design, run_trial

BIN = Path(sys.executable).parent


def _small(n: int = 2000) -> dict[str, Any]:
    data = yaml.safe_load(example_path("fl_gammadelta_trial.yaml").read_text(encoding="utf-8"))
    return {**data, "n_per_arm": n, "chunk_size": 1000}


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialDesign.model_validate(_small()), scheduler="synchronous")


def test_the_example_design_is_valid() -> None:
    design = load_trial_design(example_path("fl_gammadelta_trial.yaml"))
    assert design.model == "fl_adcc"
    assert [a.id for a in design.arms] == ["R", "R+gd"]
    assert {s.name for s in design.population.strata} == {"low FLIPI", "intermediate/poor FLIPI"}
    assert sum(o.responders for o in design.observed if o.stratum and o.endpoint == "orr") == 17


def test_gamma_delta_activation_adds_to_rituximab(result: TrialResult) -> None:
    arms = {a.arm: a for a in result.arms if a.stratum is None}
    assert arms["R+gd"].orr.estimate > arms["R"].orr.estimate
    assert arms["R+gd"].cr_rate.estimate > arms["R"].cr_rate.estimate
    (hr,) = [h for h in result.hazard_ratios if h.endpoint == "pfs"]
    assert hr.hr.estimate < 1


def test_the_calibrated_example_reproduces_the_phase_ii_within_its_sampling_error(
    result: TrialResult,
) -> None:
    combination = [c for c in result.observed if c.arm == "R+gd"]
    assert len(combination) == 6
    for c in combination:
        assert c.p_value >= 0.05, (c.stratum, c.endpoint, c.gap_points)
    # the larger burden of intermediate/poor FLIPI lowers the response, as observed
    by = {(a.arm, a.stratum): a.orr.estimate for a in result.arms}
    assert by[("R+gd", "intermediate/poor FLIPI")] < by[("R+gd", "low FLIPI")]


def test_cli_writes_result_outcomes_and_report(tmp_path: Path) -> None:
    path = tmp_path / "fl.yaml"
    path.write_text(yaml.safe_dump(_small(300), allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(BIN / "immunoprecise"), "trial", str(path), "--out", str(out),
         "--scheduler", "synchronous", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert record["seed"] == 20261121
    assert set(record["versions"]) >= {"immunoprecise", "numpy", "dask", "lifelines"}
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 600
    html = (out / "report.html").read_text(encoding="utf-8")
    assert record["design_hash"] in html
    assert "not a medical device" in html
    assert "rituximab + zoledronate + IL-2" in done.stdout or "R+gd" in done.stdout


def test_cli_names_every_invalid_field(tmp_path: Path) -> None:
    bad = {**_small(300), "seed": -1, "n_per_arm": 0}
    bad["arms"] = [{"id": "R", "regimen": "rituximab lots d0"}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    # in this process (the entry point itself is run above); an uncaught exception fails the test
    done = CliRunner().invoke(
        app, ["trial", str(path), "--out", str(tmp_path / "o")], catch_exceptions=False
    )
    assert done.exit_code == 2
    for field in ("seed", "n_per_arm", "arms[0].regimen"):
        assert field in done.stderr
    assert "Traceback" not in done.stderr


def test_python_with_an_out_folder_writes_what_the_command_line_writes(tmp_path: Path) -> None:
    import immunoprecise as ip

    out = tmp_path / "out"
    result = ip.virtual_trial(_small(300), out=out, scheduler="synchronous")
    record = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert record["design_hash"] == result.design_hash
    assert len(pd.read_parquet(out / "outcomes.parquet")) == 600
    assert result.design_hash in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "trial.json").is_file()
    bare = tmp_path / "bare"
    ip.virtual_trial(_small(300), out=bare, scheduler="synchronous", report=False)
    assert (bare / "result.json").is_file()
    assert not (bare / "report.html").exists()
