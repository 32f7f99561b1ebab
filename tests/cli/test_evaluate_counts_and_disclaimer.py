"""``evaluate``'s summary lines count in words that agree with the number, and every output a
reader can see alone (the table) says it is research decision support, not a medical device."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

import immunoprecise as ip
from immunoprecise.cli import app
from immunoprecise.evaluation import DISCLAIMER

runner = CliRunner()
EXAMPLES = Path(ip.data.example_path("crc_msih.json")).parent


def test_one_file_written_is_one_file(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["evaluate", str(EXAMPLES / "fl_relapsed.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote 1 file to {out}/:" in result.stderr
    assert "(s)" not in result.stderr


def test_several_files_written_are_counted_in_the_plural(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = [str(EXAMPLES / "fl_relapsed.json"), "-f", "json", "-f", "html", "-o", str(out)]
    result = runner.invoke(app, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    assert f"Wrote 2 files to {out}/:" in result.stderr


def test_failures_count_files_and_patients_apart(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{bad", encoding="utf-8")
    # the copy's expression matrix is not beside it: the patient is read but not evaluated
    copy = tmp_path / "crc_copy.json"
    shutil.copy(EXAMPLES / "crc_msih.json", copy)
    out = tmp_path / "o"
    args = [str(broken), str(copy), str(EXAMPLES / "fl_relapsed.json"), "-o", str(out)]
    result = runner.invoke(app, ["evaluate", *args])
    assert result.exit_code == 2
    assert "1 input file and 1 patient could not be evaluated (see above)." in result.stderr
    assert "(s)" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["SYN-FL-001.json"]


def test_two_failed_files_are_files(tmp_path: Path) -> None:
    paths = []
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text("{bad", encoding="utf-8")
        paths.append(str(tmp_path / name))
    result = runner.invoke(app, ["evaluate", *paths])
    assert result.exit_code == 2
    assert "2 input files could not be evaluated (see above)." in result.stderr


def test_table_output_carries_the_disclaimer() -> None:
    args = [str(EXAMPLES / "fl_relapsed.json"), str(EXAMPLES / "nsclc_cold.json"), "-f", "table"]
    result = runner.invoke(app, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert shown.count(DISCLAIMER) == 2  # once per patient, each table readable alone
