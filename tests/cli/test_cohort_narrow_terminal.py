"""Printed cohort tables keep every digit in an 80-column terminal: a cell too wide folds onto
the next line instead of ending in "…"."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.cli import cohort as cohort_cli
from immunoprecise.cohort import response_table
from immunoprecise.data import example_path

runner = CliRunner()
COHORT = example_path("fl_cohort.csv")
GROUPS = {"low": ["low"], "intermediate/poor": ["intermediate", "high"]}


def _cells(output: str) -> str:
    """The table's cells, each row's pieces joined, so that a folded cell reads whole again."""
    rows = [line for line in output.splitlines() if line.startswith("│")]
    return "\n".join(re.sub(r"\s*│\s*", "|", line) for line in rows)


def test_response_table_shows_whole_confidence_intervals_at_80_columns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cohort_cli._out, "width", 80)
    result = runner.invoke(
        app,
        [
            "cohort", "response", str(COHORT), "--by", "risk.flipi:category",
            "--group", "low=low", "--group", "intermediate/poor=intermediate,high",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = result.stdout.split("ORR:")[0]
    assert "…" not in table, table
    cells = _cells(table)
    shown = response_table(COHORT, by="risk.flipi:category", groups=GROUPS).table()
    for ci in [*shown["ORR CI"], *shown["CR CI"]]:
        assert f"|{ci}|" in cells, (ci, table)
    assert "responders" in table
