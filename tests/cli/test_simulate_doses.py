"""`immunoprecise simulate`: body size for per-kg and per-m² doses, and regimens refused early.

Each test here failed before its fix: the command had no body weight or surface option (a
per-kg dose always used 70 kg, a per-m² dose could not be simulated), ``MG`` was refused only
after parsing with a message about megagauss, and ``--t-end 1e12`` ended in a MemoryError.
"""

from __future__ import annotations

import json

import pytest

from cli.test_simulate_command import _fails, _simulate


def _summary(*args: str) -> dict[str, object]:
    result = _simulate("fl_adcc", "--t-end", "1", "-f", "json", *args)
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_body_surface_and_weight_are_options_recorded_in_the_summary() -> None:
    default = _summary("-r", "rituximab 375 mg/m2 d0")
    settings = default["settings"]
    assert isinstance(settings, dict)
    assert (settings["body_weight_kg"], settings["body_surface_m2"]) == (70.0, 1.8)
    given = _summary("-r", "rituximab 375 mg/m2 d0", "--body-surface", "2.1", "--body-weight", "82")
    settings = given["settings"]
    assert isinstance(settings, dict)
    assert (settings["body_weight_kg"], settings["body_surface_m2"]) == (82.0, 2.1)


def test_body_surface_changes_a_per_m2_dose_and_body_weight_a_per_kg_dose() -> None:
    def rituximab_end(*args: str) -> float:
        result = _simulate("fl_adcc", "--t-end", "1", "-f", "csv", *args)
        assert result.exit_code == 0, result.output
        last = result.stdout.strip().splitlines()[-1].split(",")
        header = result.stdout.splitlines()[0].split(",")
        return float(last[header.index("R")])

    small = rituximab_end("-r", "rituximab 375 mg/m2 d0", "--body-surface", "1.5")
    large = rituximab_end("-r", "rituximab 375 mg/m2 d0", "--body-surface", "2.0")
    assert large / small == pytest.approx(2.0 / 1.5, rel=1e-6)
    light = rituximab_end("-r", "rituximab 10 mg/kg d0", "--body-weight", "50")
    heavy = rituximab_end("-r", "rituximab 10 mg/kg d0", "--body-weight", "100")
    assert heavy / light == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--body-surface", "0"], "body_surface_m2 must be a positive body surface area"),
        (["--body-surface", "nan"], "body_surface_m2 must be a positive body surface area"),
        (["--body-weight", "-70"], "body_weight_kg must be a positive number of kilograms"),
    ],
)
def test_a_body_size_that_is_no_size_exits_2(args: list[str], message: str) -> None:
    stderr = _fails(_simulate("fl_adcc", "-r", "rituximab 375 mg/m2 d0", *args), message)
    assert stderr.count("error") == 1, stderr  # the one bad option, nothing simulated


@pytest.mark.parametrize(
    ("regimen", "message"),
    [
        ("rituximab 650 MG d0", "unit 'MG' reads as megagauss: unit symbols are case-sensitive"),
        ("rituximab 650 mL d0", "unit 'mL' measures a volume"),
        ("rituximab 650 mg q7d x100000000", "at most 10,000 administrations per item"),
        ("rituximab 650 mg d0-100000000", "gives 100,000,001 boluses"),
    ],
)
def test_a_regimen_that_is_no_regimen_exits_2_naming_the_item(regimen: str, message: str) -> None:
    stderr = _fails(_simulate("fl_adcc", "-r", regimen), message, "item 1, column")
    assert "^" in stderr


def test_a_t_end_of_centuries_exits_2() -> None:
    stderr = _fails(_simulate("kuznetsov1994", "--t-end", "1e12"), "--t-end must be at most")
    assert "36,525 days (100 years)" in stderr


def test_a_body_surface_in_cm2_exits_2_naming_the_likely_mistake() -> None:
    stderr = _fails(
        _simulate("fl_adcc", "-r", "rituximab 375 mg/m2 d0", "--body-surface", "18000"),
        "--body-surface 18000 m² is not a human body surface area (0.03 to 6 m²)",
        "looks like cm²; give the area in m² (1.8)",
    )
    assert stderr.count("error") == 1, stderr
