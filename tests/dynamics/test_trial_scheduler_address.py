"""A scheduler that is not a Dask address is refused before anything runs, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.dynamics.trials import run_trial
from immunoprecise.errors import ValidationError

DESIGN = {
    "name": "x",
    "model": "kuznetsov1994",
    "seed": 1,
    "n_per_arm": 5,
    "follow_up_days": 112,
    "population": {"initial": {"T": 1e6}},
    "arms": [{"id": "ctl", "regimen": ""}],
}


@pytest.mark.parametrize(
    ("scheduler", "hint"),
    [("sync", "did you mean 'synchronous'"), ("localhost", "tcp://host:8786"), ("tcp://h:x", "")],
)
def test_a_scheduler_without_a_port_is_refused_before_a_folder_is_made(
    tmp_path: Path, scheduler: str, hint: str
) -> None:
    out = tmp_path / "trial"
    with pytest.raises(ValidationError) as err:
        run_trial(DESIGN, out=out, scheduler=scheduler)
    assert err.value.problems[0].field == "scheduler"
    assert err.value.problems[0].value == scheduler
    assert hint in str(err.value)
    assert not out.exists()


def test_the_trial_command_exits_2_on_a_scheduler_typo(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(
        "name: x\nmodel: kuznetsov1994\nseed: 1\nn_per_arm: 5\nfollow_up_days: 112\n"
        "population: {initial: {T: 1.0e6}}\narms: [{id: ctl, regimen: ''}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    args = ["trial", str(design), "--scheduler", "sync", "--no-progress", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "scheduler = 'sync'" in result.stderr
    assert "Traceback" not in result.output
