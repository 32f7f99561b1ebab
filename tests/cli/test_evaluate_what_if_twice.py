"""`--what-if KEY=…` given twice with different values is refused: the last would silently win."""

from __future__ import annotations

from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.data import example_path

runner = CliRunner()


def test_a_what_if_key_given_twice_is_refused() -> None:
    path = str(example_path("crc_msih.json"))
    args = ["evaluate", path, "--what-if", "msi_status=MSS", "--what-if", "msi_status=MSI-H"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "msi_status" in result.stderr
    assert "'MSS'" in result.stderr
    assert "'MSI-H'" in result.stderr
    assert "Traceback" not in result.output


def test_the_same_value_twice_is_taken() -> None:
    path = str(example_path("crc_msih.json"))
    args = ["evaluate", path, "--format", "table", "--what-if", "tmb=5", "--what-if", "tmb=5"]
    result = runner.invoke(app, args, env={"COLUMNS": "3000"})
    assert result.exit_code == 0, result.output
    assert "score 7 → 4 (still indicated)" in " ".join(result.stdout.split())
