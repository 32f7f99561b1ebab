"""``immunoprecise trial --out DIR`` refusing a folder names the option, before any progress bar.

Before, a folder holding another design's chunks was refused as ``out = '…'`` (the library's
keyword), after a progress bar ("chunks 0/1") had been drawn.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from immunoprecise.cli import app

DESIGN = """name: out option
model: depillis2006
seed: {seed}
n_per_arm: 5
follow_up_days: 56
population: {{vary: []}}
arms:
  - {{id: A, regimen: "chemo 1 mg/kg q21d x3"}}
"""

runner = CliRunner()


def _trial(design: Path, out: Path, *options: str) -> Result:
    return runner.invoke(
        app, ["trial", str(design), "--out", str(out), "--scheduler", "synchronous", *options]
    )


def test_a_folder_of_another_design_is_refused_naming_the_out_option(tmp_path: Path) -> None:
    for seed in (1, 2):
        (tmp_path / f"d{seed}.yaml").write_text(DESIGN.format(seed=seed), encoding="utf-8")
    out = tmp_path / "results"
    first = _trial(tmp_path / "d1.yaml", out, "--no-report", "--no-progress")
    assert first.exit_code == 0, first.output

    second = _trial(tmp_path / "d2.yaml", out, "--progress")

    assert second.exit_code == 2
    problem = second.stderr.split("error: 1 invalid field\n")[1]
    assert problem.startswith(f"  - --out = '{out}': holds chunks of design ")
    assert "choose another output folder or delete that one" in problem
    assert "chunks " not in second.stderr.split("error:")[0]  # no progress bar was drawn
    assert "0/1" not in second.stderr
