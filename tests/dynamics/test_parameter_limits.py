"""Parameter values no patient can have (a negative rate, a zero carrying capacity) are refused.

Before, ``params={"s": -1}``, a kill rate of -0.5 or a carrying capacity of 0 were simulated as
given: a negative effector influx, tumor cells healed by effectors, a division by zero. Each
parameter now declares its limits (:class:`~immunoprecise.dynamics.model.Limits`) next to its
definition, and every way in (``simulate`` ``params=``, per-patient tables, trial designs,
calibration's fixed values) refuses a value outside them, naming the parameter, the value, the
unit and the allowed range.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.calibration import calibrate
from immunoprecise.dynamics.model import HALF_SATURATION, Model, Parameter
from immunoprecise.dynamics.models import MODEL_IDS, get_model
from immunoprecise.dynamics.trials.design import load_trial_design
from immunoprecise.errors import ModelError, ValidationError

NONNEGATIVE_WHY = (
    "a rate, source or size: 0 switches its term off, below 0 it would reverse the process"
)


def test_a_negative_influx_is_refused_naming_parameter_value_unit_and_range() -> None:
    with pytest.raises(ModelError) as err:
        ip.simulate("kuznetsov1994", t_end=10, params={"s": -1})
    assert str(err.value) == (
        "model kuznetsov1994: parameter s = -1 cells/d is outside its allowed range "
        f"≥ 0 cells/d ({NONNEGATIVE_WHY})"
    )


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        ("kuznetsov1994", {"n": -0.5}, "parameter n = -0.5 1/(cell·d) is outside its allowed "
         "range ≥ 0 1/(cell·d)"),
        ("depillis2006", {"K_T": -0.9}, "parameter K_T = -0.9 1/d is outside"),
        ("fl_adcc", {"K": 0}, "parameter K = 0 cells is outside its allowed range > 0 cells "
         "(it divides: 0 is a division by zero)"),
        ("kuznetsov1994", {"g": 0}, "parameter g = 0 cells is outside its allowed range > 0"),
        ("fl_adcc", {"phi_G": 1.5}, "parameter phi_G = 1.5 is outside its allowed range 0 to 1 "
         "(a fraction of a population or of an effect)"),
        ("stein2019", {"Tmax": 0}, "parameter Tmax = 0 d is outside its allowed range > 0 d"),
        ("kuznetsov1994+checkpoint", {"epsilon_A": -0.1}, "parameter epsilon_A = -0.1 is "
         "outside its allowed range 0 to 1"),
    ],
)  # fmt: skip
def test_values_outside_the_limits_are_refused(
    model: str, params: dict[str, float], expected: str
) -> None:
    with pytest.raises(ModelError, match=re.escape(expected)):
        ip.simulate(model, t_end=5, params=params)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("cartmath2021", {"b": 0.0}),  # no carrying capacity, as the published RAJI set
        ("kuznetsov1994", {"n": 0.0, "s": 0.0}),  # no kill, no influx: terms switched off
        ("fl_adcc", {"phi_G": 1.0, "k_R": 0.0}),
    ],
)
def test_values_at_the_edge_of_the_limits_are_taken(model: str, params: dict[str, float]) -> None:
    assert ip.simulate(model, t_end=5, params=params).ok.all()


def test_a_patients_table_names_the_patient_with_the_bad_value() -> None:
    table = pd.DataFrame({"patient": ["P1", "P2", "P3"], "a": [0.18, -0.2, -0.3]})
    with pytest.raises(ModelError) as err:
        ip.simulate("kuznetsov1994", t_end=5, params=table)
    assert str(err.value).startswith(
        "model kuznetsov1994 (patient P2 and 1 more): parameter a = -0.2 1/d is outside"
    )


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_published_values_and_calibration_bounds_lie_within_the_limits(model_id: str) -> None:
    model = get_model(model_id)
    models = [model]
    if model.inactivation_parameter is not None:
        models.append(get_model(f"{model_id}+checkpoint"))
    for mdl in models:
        for par in mdl.parameters:
            assert par.problem(par.value) is None, par.name
            if par.bounds is not None:
                assert par.limits.allows(par.bounds[0]), par.name
                assert par.limits.allows(par.bounds[1]), par.name
        for ps in mdl.parameter_sets:
            mdl.check_parameters(ps.values)


def test_a_model_declaring_bounds_outside_its_limits_is_refused() -> None:
    model = get_model("kuznetsov1994")
    bad = Parameter("g", 2e7, "cells", "half-saturation", "test", (0.0, 1e11), HALF_SATURATION)
    expected = "calibration bounds (0, 1e+11) of g lie outside its allowed range > 0 cells"
    with pytest.raises(ModelError, match=re.escape(expected)):
        Model(**{**_fields(model), "parameters": (*model.parameters[:2], bad)})
    with pytest.raises(ModelError, match="defaults: parameter g = -1 cells is outside"):
        Model(**{**_fields(model), "parameters": (replace(bad, value=-1.0, bounds=None),)})


def _fields(model: Model) -> dict[str, Any]:
    return {
        k: getattr(model, k)
        for k in ("id", "title", "reference", "states", "rhs", "initial", "tumor_state")
    }


def test_calibration_refuses_a_fixed_value_outside_the_limits() -> None:
    data = pd.DataFrame({"day": [0, 14, 28], "cells": [1e7, 4e7, 1e8]})
    with pytest.raises(ValidationError) as err:
        calibrate("kuznetsov1994", data, fit=["a"], uncertainty="none", fixed={"n": -0.5})
    assert err.value.problems[0].field == "fixed['n']"
    assert "parameter n = -0.5 1/(cell·d) is outside its allowed range" in str(err.value)


def _design(distribution: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "name": "x",
        "model": "kuznetsov1994",
        "seed": 1,
        "n_per_arm": 50,
        "follow_up_days": 112,
        "population": {"spec": {"distributions": [distribution], **spec}},
        "arms": [{"id": "a", "regimen": ""}],
    }


NORMAL_N = {"name": "n", "kind": "normal", "mean": 1e-7, "sd": 5e-8, "unit": "1/(cell·d)",
            "source": "assumed"}  # fmt: skip


def test_a_trial_design_refuses_a_distribution_that_can_draw_a_negative_rate() -> None:
    with pytest.raises(ValidationError) as err:
        load_trial_design(_design(NORMAL_N))
    assert (
        "spec distribution 'n' (normal) can draw n from -inf to inf 1/(cell·d), outside its "
        "allowed range ≥ 0 1/(cell·d)"
    ) in str(err.value)
    assert "truncate it with lower/upper (e.g. lower: 0)" in str(err.value)


@pytest.mark.parametrize(
    "design",
    [
        _design({**NORMAL_N, "lower": 0}),
        _design(NORMAL_N, constraints=[{"parameter": "n", "min": 0}]),
        _design({**NORMAL_N, "kind": "lognormal", "median": 1e-7, "cv": 0.3, "mean": None,
                 "sd": None}),
    ],
)  # fmt: skip
def test_a_distribution_kept_within_the_limits_is_taken(design: dict[str, Any]) -> None:
    assert load_trial_design(design).population.spec is not None


def test_a_fixed_value_of_zero_for_a_half_saturation_constant_is_refused() -> None:
    fixed = {"name": "g", "kind": "fixed", "value": 0, "unit": "cells", "source": "assumed"}
    with pytest.raises(ValidationError, match="allowed range > 0 cells"):
        load_trial_design(_design(fixed))


def test_a_stratum_scale_taking_a_fraction_above_one_is_refused_before_the_run() -> None:
    design = {
        "name": "x",
        "model": "fl_adcc",
        "seed": 1,
        "n_per_arm": 40,
        "follow_up_days": 112,
        "population": {
            "vary": ["a"],
            "strata": [
                {"name": "hi", "proportion": 0.5, "scale": {"phi_G": 5}, "source": "assumed"},
                {"name": "lo", "proportion": 0.5},
            ],
        },
        "arms": [{"id": "r", "regimen": "rituximab 375 mg/m2 d0,7,14,21"}],
    }
    with pytest.raises(ValidationError) as err:
        load_trial_design(design)
    assert (
        "stratum 'hi': scale phi_G: 5 makes phi_G 1.5, outside its allowed range 0 to 1"
    ) in str(err.value)
    design["population"]["strata"][0]["scale"] = {"phi_G": 2}  # 0.6: a fraction still
    assert load_trial_design(design).population.strata
