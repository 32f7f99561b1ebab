"""``simulate --param`` and ``--patients`` refuse parameter values outside their limits."""

from __future__ import annotations

from pathlib import Path

from cli.test_simulate_command import _fails, _simulate


def test_a_negative_param_exits_2_naming_parameter_value_unit_and_range() -> None:
    stderr = _fails(
        _simulate("kuznetsov1994", "--param", "s=-1", "--t-end", "10"),
        "parameter s = -1 cells/d is outside its allowed range ≥ 0 cells/d",
    )
    assert stderr.count("error") == 1, stderr


def test_a_patients_file_with_a_zero_carrying_capacity_exits_2_naming_the_patient(
    tmp_path: Path,
) -> None:
    table = tmp_path / "patients.csv"
    table.write_text("patient,K\nFL-01,1e12\nFL-02,0\n", encoding="utf-8")
    stderr = _fails(
        _simulate("fl_adcc", "--patients", str(table), "--t-end", "10"),
        "(patient FL-02)",
        "parameter K = 0 cells is outside its allowed range > 0 cells",
    )
    assert "FL-01" not in stderr, stderr  # the valid patient is not named
