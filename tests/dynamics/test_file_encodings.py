"""Regimen and trial design files that are not UTF-8 text get a message, not a traceback.

Excel's 'Unicode Text' and Notepad's 'Unicode' save UTF-16; a regimen file saved so ended
``immunoprecise simulate`` with a Python traceback (``UnicodeDecodeError``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from immunoprecise.cli import app
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.trials import load_trial_design
from immunoprecise.errors import ValidationError

runner = CliRunner()
DESIGN = """name: encodings
model: depillis2006
seed: 1
n_per_arm: 5
follow_up_days: 56
population: {vary: []}
arms:
  - {id: A, regimen: "chemo 1 mg/kg q21d x3"}
"""


def test_a_utf16_regimen_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("chemo 1 mg/kg q21d x3\n", encoding="utf-16")
    with pytest.raises(ValidationError, match="is UTF-16 text") as info:
        Regimen.from_yaml(path)
    assert info.value.problems[0].field == "(file)"


def test_a_utf16_regimen_file_on_the_command_line_exits_2_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("chemo 1 mg/kg q21d x3\n", encoding="utf-16")
    result = runner.invoke(
        app, ["simulate", "depillis2006", "--regimen-file", str(path), "--t-end", "60"]
    )
    assert result.exit_code == 2, result.output
    assert "is UTF-16 text" in result.stderr
    assert "save it as UTF-8 text" in result.stderr
    assert "Traceback" not in result.output


def test_a_regimen_file_in_another_8_bit_encoding_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_bytes("IL2 5e6 IU/d d8-12 # Überwachung\n".encode("latin-1"))
    with pytest.raises(ValidationError, match=r"is not UTF-8 text \(byte 21: b'\\xdc'\)"):
        Regimen.from_yaml(path)


def test_a_utf8_regimen_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("chemo 1 mg/kg q21d x3\r\n", encoding="utf-8-sig")
    assert str(Regimen.from_yaml(path)) == "chemo 1 mg/kg d0 q21d x3"


def test_a_utf16_trial_design_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(DESIGN, encoding="utf-16")
    with pytest.raises(ValidationError, match="is UTF-16 text") as info:
        load_trial_design(path)
    assert "codec" not in str(info.value)
    path.write_text(DESIGN, encoding="utf-8")
    assert load_trial_design(path).name == "encodings"
