"""``run_trial(out=...)`` naming a file, or a folder that cannot be made, is refused by name.

Before, ``ip.virtual_trial(design, out="results.csv")`` (an existing file) ended in a raw
``NotADirectoryError`` about ``results.csv/chunks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from immunoprecise.dynamics.trials import run_trial
from immunoprecise.errors import ValidationError

DESIGN: dict[str, Any] = {
    "name": "out folder",
    "model": "depillis2006",
    "seed": 1,
    "n_per_arm": 5,
    "follow_up_days": 56,
    "population": {"vary": []},
    "arms": [{"id": "A", "regimen": "chemo 1 mg/kg q21d x3"}],
}


def test_an_existing_file_as_the_output_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("kept\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="is a file, not a folder") as info:
        run_trial(DESIGN, out=path, scheduler="synchronous")
    assert info.value.problems[0].field == "out"
    assert path.read_text(encoding="utf-8") == "kept\n"


def test_a_folder_below_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("kept\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"out = .*results.csv.sub.*cannot be created"):
        run_trial(DESIGN, out=path / "sub", scheduler="synchronous")


def test_a_new_folder_is_made_and_used(tmp_path: Path) -> None:
    result = run_trial(DESIGN, out=tmp_path / "a" / "b", scheduler="synchronous")
    assert result.arms[0].n == 5
    assert (tmp_path / "a" / "b" / "trial.json").is_file()
