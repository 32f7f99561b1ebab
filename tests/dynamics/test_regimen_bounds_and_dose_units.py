"""Regimens that cannot exhaust memory, dose units that are doses, and doses per m² or per kg.

Each test here failed before its fix: a cycle count or day range expanded without bound, ``MG``
(megagauss) passed the parser, ``mg/m2`` could not be simulated by any model, a ``t_end`` of
10¹² days allocated terabytes, and ``search_timing`` picked the wrong day for repeated days.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.dosing import REFERENCE_BODY_SURFACE_M2, to_model_units
from immunoprecise.dynamics.models import get_model
from immunoprecise.dynamics.regimen import (
    MAX_ADMINISTRATIONS,
    Regimen,
    RegimenItem,
    RegimenSyntaxError,
)
from immunoprecise.dynamics.schedule import compare_regimens, search_timing
from immunoprecise.dynamics.simulate import MAX_T_END_DAYS, dosing_segments
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ModelError, ValidationError
from immunoprecise.records.units import parse_unit

# -- how many administrations one item may give ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "words"),
    [
        ("chemo 1 mg/kg q21d x100000000", "x100000000", "x100000000 cycles give 100,000,000"),
        ("chemo 1 mg d1-100000000", "d1-100000000", "gives 100,000,000 boluses, one a day"),
        ("IL2 1 IU/d d1-10 q21d x100000000", "x100000000", "give 100,000,000 administrations"),
        ("chemo 1 mg d0-6 q7d x2000", "x2000", "x2000 cycles of 7 administrations give 14,000"),
    ],
)
def test_absurd_cycle_counts_and_day_ranges_are_refused_quickly(
    text: str, token: str, words: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(f"TIL 1e9 cells d7; {text}")
    assert time.perf_counter() - started < 1.0  # refused before anything is expanded
    err = info.value
    assert err.item == 2
    assert err.position == err.text.index(token)
    message = str(err)
    assert words in message
    assert f"at most {MAX_ADMINISTRATIONS:,} administrations per item" in message


def test_the_administration_limit_keeps_long_maintenance_schedules() -> None:
    assert MAX_ADMINISTRATIONS == 10_000
    weekly_five_years = Regimen.parse("anti-PD-1 200 mg q1w x261")
    assert len(weekly_five_years.doses()) == 261
    daily = Regimen.parse("drug 1 mg q1d x10000")
    assert len(daily.doses()) == MAX_ADMINISTRATIONS
    assert len(Regimen.parse("drug 1 mg d0-9999").doses()) == MAX_ADMINISTRATIONS
    # a continuous infusion over a long range is one administration
    assert len(Regimen.parse("IL2 1 IU/d d0-99999").doses()) == 1
    with pytest.raises(RegimenSyntaxError, match="10,001 administrations"):
        Regimen.parse("drug 1 mg q1d x10001")


def test_the_administration_limit_holds_for_yaml_and_item_objects() -> None:
    with pytest.raises(ValidationError) as info:
        Regimen.from_yaml("[{agent: chemo, dose: 1 mg, every_days: 1, cycles: 100000000}]")
    (problem,) = info.value.problems
    assert problem.field == "items[0].cycles"
    assert problem.value == 100_000_000
    assert "at most 10,000 administrations per item" in problem.message
    with pytest.raises(ValidationError) as info:
        Regimen.from_yaml('[{agent: chemo, dose: 1 mg, days: "1-100000000"}]')
    assert info.value.problems[0].field == "items[0].days"
    with pytest.raises(ValidationError, match="cycles"):
        RegimenItem("chemo", 1.0, "mg", every_days=1.0, cycles=10**9)


def test_segments_of_a_long_daily_schedule_are_built_in_linear_time() -> None:
    model = get_model("depillis2006")
    regimen = Regimen.parse("chemo 1 mg/kg q1d x10000; IL2 5e6 IU/d d0-9999")
    started = time.perf_counter()
    segments = dosing_segments(model, regimen, 10_000)
    assert time.perf_counter() - started < 5.0  # was 20 s, testing every dose on every segment
    assert len(segments) == 10_000
    chemo, il2 = model.input_index("chemo"), model.input_index("IL2")
    assert all(len(s.boluses) == 1 for s in segments)
    assert all(s.rates[il2] == 5e6 / 5.0 for s in segments)
    assert all(s.rates[chemo] == 0 for s in segments)


# -- dose units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "suggestion", "meaning"),
    [
        ("MG", "mg", "megagauss"),
        ("Mg", "mg", "megagram"),
        ("MG/KG", "mg/kg", None),
        ("mg/M2", "mg/m2", "molar"),
        ("mg/ML", "mg/mL", "megaliter"),
        ("IU/D", "IU/d", "debye"),
        ("CELLS", "cells", None),
        ("u", "U", "atomic_mass_unit"),
    ],
)
def test_a_unit_in_the_wrong_case_is_refused_at_parse_time_with_the_intended_unit(
    unit: str, suggestion: str, meaning: str | None
) -> None:
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(f"chemo 1 {unit} d0")
    err = info.value
    assert err.position == len("chemo 1 ")
    assert "unit symbols are case-sensitive" in err.reason
    assert f"write {suggestion!r}" in err.reason
    if meaning is not None:
        assert meaning in err.reason
    Regimen.parse(f"chemo 1 {suggestion} d0")  # the suggestion is a valid dose unit


@pytest.mark.parametrize(
    ("unit", "words"),
    [
        ("mL", "measures a volume"),
        ("L", "measures a volume"),
        ("mL/h", "measures a volume"),
        ("%", "measures a pure number"),
        ("1/d", "measures a pure number"),
        ("m", "measures a length"),
        ("degC", "measures a temperature"),
        ("Gy", "not an amount a dose can be"),
        ("mg/kg/m2", "per body weight and per body surface area"),
    ],
)
def test_a_unit_that_is_no_dose_is_refused_at_parse_time(unit: str, words: str) -> None:
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(f"chemo 1 {unit} d0")
    assert words in info.value.reason
    with pytest.raises(ValidationError, match="dose"):
        Regimen.from_yaml(f"[{{agent: chemo, dose: '1 {unit}'}}]")


@pytest.mark.parametrize(
    ("unit", "infusion"),
    [
        ("MU", False),  # million units, as clinicians write it (mU is a milliunit)
        ("mU", False),
        ("mmol/m2", False),
        ("mg/L", False),  # a concentration, given straight to a concentration state
        ("MBq", False),  # becquerels are decays per second: an amount, not a rate
        ("mCi", False),
        ("GBq/d", True),
        ("x10^6cells/kg", False),
        ("mg/l", False),  # l and L are both the liter
    ],
)
def test_dose_units_that_are_doses_are_kept(unit: str, infusion: bool) -> None:
    (item,) = Regimen.parse(f"drug 1 {unit} d0").items
    assert item.unit == unit
    assert item.is_infusion is infusion


def test_million_international_units_are_million_units() -> None:
    miu = Regimen.parse("IL2 18 MIU/m2 d1-5")
    mu = Regimen.parse("IL2 18 MU/m2 d1-5")
    assert miu.items[0].unit == "MIU/m2"
    assert parse_unit(miu.items[0].unit) == parse_unit(mu.items[0].unit)
    assert (1 * parse_unit("MIU")).to(parse_unit("IU")).magnitude == pytest.approx(1e6)


# -- doses per body surface area and per body weight -------------------------------------------


def test_a_dose_per_m2_is_multiplied_by_the_body_surface_area() -> None:
    assert REFERENCE_BODY_SURFACE_M2 == 1.8
    kwargs = {"infusion": False, "volume_liters": None, "body_weight_kg": 70.0}
    assert to_model_units(375.0, "mg/m2", "mg", **kwargs) == pytest.approx(675.0)
    assert to_model_units(375.0, "mg/m2", "mg", **kwargs, body_surface_m2=2.0) == 750.0
    assert to_model_units(1e6, "cells/m2", "cells", **kwargs, body_surface_m2=2.0) == 2e6
    rate = to_model_units(
        1.0, "mg/m2/d", "mg/L", infusion=True, volume_liters=3.0, body_weight_kg=70.0
    )
    assert rate == pytest.approx(1.8 / 3.0)


def test_simulate_gives_a_per_m2_dose_for_the_body_surface_given() -> None:
    # rituximab into a 3 L distribution volume: 375 mg/m² is 675 mg at 1.8 m², 750 mg at 2 m²
    reference = ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/m2 d0", t_eval=[0.0, 1.0])
    flat = ip.simulate("fl_adcc", t_end=1, regimen="rituximab 675 mg d0", t_eval=[0.0, 1.0])
    large = ip.simulate(
        "fl_adcc",
        t_end=1,
        regimen="rituximab 375 mg/m2 d0",
        t_eval=[0.0, 1.0],
        body_surface_m2=2.0,
    )
    assert reference.ok.all()
    assert large.ok.all()
    np.testing.assert_allclose(reference.y, flat.y, rtol=1e-12)
    column = reference.model.state_index("R")
    assert large.y[0, 0, column] == pytest.approx(750.0 / 3.0)
    assert reference.settings["body_surface_m2"] == 1.8
    assert large.settings["body_surface_m2"] == 2.0
    assert large.settings["body_weight_kg"] == 70.0


@pytest.mark.parametrize("value", [0.0, -1.8, float("nan"), "1.8", True])
def test_simulate_refuses_a_body_surface_that_is_no_area(value: object) -> None:
    with pytest.raises(ModelError, match="body_surface_m2 must be a positive body surface area"):
        ip.simulate("fl_adcc", t_end=1, regimen="rituximab 375 mg/m2 d0", body_surface_m2=value)  # type: ignore[arg-type]


def test_a_t_end_of_centuries_is_refused_before_anything_is_allocated() -> None:
    assert MAX_T_END_DAYS == 36_525
    with pytest.raises(ModelError, match=r"t_end must be at most 36,525 days \(100 years\)"):
        ip.simulate("kuznetsov1994", t_end=1e12)
    tr = ip.simulate("kuznetsov1994", t_end=MAX_T_END_DAYS, t_eval=[0.0, MAX_T_END_DAYS])
    assert tr.t.tolist() == [0.0, MAX_T_END_DAYS]


# -- compare_regimens and search_timing --------------------------------------------------------


def test_search_timing_with_a_repeated_day_is_refused_not_answered_wrong() -> None:
    # before: labels collided, and the best day was read off the wrong position
    with pytest.raises(ModelError, match="day 60 is given twice"):
        search_timing(
            "cartmath2021",
            "CAR-T 1e6 cells d{day}",
            [60, 60, 0],
            t_end=100,
            n_virtual=4,
            seed=1,
            objective="eradicated_fraction",
        )


@pytest.mark.parametrize(
    ("days", "words"),
    [([], "non-empty"), ([float("nan")], "not nan"), ([-3], "not -3"), (["a"], "not 'a'")],
)
def test_search_timing_refuses_days_that_are_not_days(days: list[object], words: str) -> None:
    with pytest.raises(ModelError, match=words):
        search_timing("cartmath2021", "CAR-T 1e6 cells d{day}", days, t_end=100, n_virtual=2)  # type: ignore[arg-type]


def test_search_timing_writes_every_digit_of_a_day() -> None:
    timing = search_timing(
        "cartmath2021", "CAR-T 1e6 cells d{day}", [0.125, 10.0625], t_end=50, n_virtual=2
    )
    assert timing.comparison.table["text"].tolist() == [
        "CAR-T 1e6 cells d0.125",
        "CAR-T 1e6 cells d10.0625",
    ]
    assert timing.comparison.table["regimen"].tolist() == ["day 0.125", "day 10.0625"]
    with pytest.raises(ModelError, match="d1000000'"):  # not d1e+06, which cannot be read
        search_timing("cartmath2021", "CAR-T 1e6 cells d{day}", [1e6], t_end=50, n_virtual=2)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"n_virtual": 0}, "n_virtual must be a whole number ≥ 1, not 0"),
        ({"n_virtual": -1}, "n_virtual must be a whole number ≥ 1, not -1"),
        ({"n_virtual": 2.5}, "n_virtual must be a whole number ≥ 1, not 2.5"),
        ({"n_virtual": True}, "n_virtual must be a whole number ≥ 1, not True"),
        ({"seed": -1}, "seed must be a whole number ≥ 0, not -1"),
    ],
)
def test_compare_regimens_refuses_a_cloud_it_cannot_draw(
    kwargs: dict[str, object], words: str
) -> None:
    with pytest.raises(ModelError, match=words):
        compare_regimens("cartmath2021", {"a": "CAR-T 1e6 cells d0"}, t_end=50, **kwargs)  # type: ignore[arg-type]


def test_an_item_object_with_a_unit_that_is_no_dose_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        RegimenItem("chemo", 1.0, "mL")
    (problem,) = info.value.problems
    assert (problem.field, problem.value) == ("unit", "mL")
    assert "measures a volume" in problem.message


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a 1 mg d100000", "a 1 mg d100000"),  # was d1e5, which the grammar cannot read
        ("a 1 mg d0.00005", "a 1 mg d0.00005"),  # was d5e-5
        ("a 1 mg q100000d x2", "a 1 mg d0 q100000d x2"),  # was q1e5d
        ("a 1 IU/d d1-100000", "a 1 IU/d d1-100000"),
    ],
)
def test_the_canonical_text_of_a_large_or_tiny_day_reads_back(text: str, canonical: str) -> None:
    regimen = Regimen.parse(text)
    assert regimen.to_text() == canonical
    assert Regimen.parse(regimen.to_text()) == regimen
    assert Regimen.from_yaml(regimen.to_yaml()) == regimen


# -- a trial design whose regimen the model cannot take ----------------------------------------


@pytest.mark.parametrize(
    ("regimen", "words"),
    [
        ("CAR-T 1e6 mg d0", "dose of CAR-T (1e+06 mg) cannot be given to model cartmath2021"),
        ("CART-X 1e6 cells d0", "cannot take agent 'CART-X'"),
    ],
)
def test_a_trial_arm_the_model_cannot_dose_is_refused_with_the_design(
    regimen: str, words: str
) -> None:
    # before: the design was accepted and the trial failed once its chunks ran
    design = {
        "name": "t",
        "model": "cartmath2021",
        "seed": 1,
        "n_per_arm": 4,
        "follow_up_days": 60,
        "arms": [{"id": "ok", "regimen": "CAR-T 1e6 cells d0"}, {"id": "bad", "regimen": regimen}],
        "population": {"cv": 0.1},
    }
    with pytest.raises(ValidationError) as info:
        load_trial_design(design)
    message = str(info.value)
    assert "arm 'bad'" in message
    assert words in message


def test_a_dose_too_large_for_a_float_is_refused_not_blamed_on_the_model() -> None:
    # before: every patient failed with "the model's right-hand side gave NaN or infinite values"
    with pytest.raises(ModelError, match=r"dose of chemo \(1e\+307 mg/kg\) is too large"):
        ip.simulate("depillis2006", t_end=5, regimen="chemo 1e307 mg/kg d0")
