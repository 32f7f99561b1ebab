"""Simulations that cannot be carried on stop with a diagnosis instead of reporting NaN or
negative populations, and results of an unidentified calibration carry a warning.

Three small models go wrong on purpose: one blows up in finite time (dT/dt = k·T²), one drives
a population through zero (dT/dt = −k), one evaluates a logarithm outside its domain. Then every
shipped model is run on parameters drawn across their whole declared ranges: each virtual
patient either finishes with finite, non-negative states or is stopped with a reason.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.calibration import calibrate
from immunoprecise.dynamics.model import Array, Model, Parameter, Params, State
from immunoprecise.dynamics.models import MODEL_IDS, get_model

METHODS = ("dopri5", "rodas4", "rosenbrock23", "auto")


def _one_state(rhs_name: str, start: float, *, nonnegative: bool = True) -> Model:
    def blow_up(t: Array, y: Array, p: Params, u: Array) -> Array:
        return (p["k"] * y[:, 0] ** 2)[:, None]

    def through_zero(t: Array, y: Array, p: Params, u: Array) -> Array:
        return -p["k"][:, None] * np.ones_like(y)

    def log_domain(t: Array, y: Array, p: Params, u: Array) -> Array:
        return (np.log(y[:, 0] - 0.5) * 0.0 - y[:, 0])[:, None]

    rhs = {"blow_up": blow_up, "through_zero": through_zero, "log_domain": log_domain}[rhs_name]
    return Model(
        id=rhs_name,
        title=rhs_name,
        reference="a test of the integrator",
        states=(State("X", "cells", "a population", nonnegative=nonnegative),),
        parameters=(Parameter("k", 1.0, "1/d", "rate", "test", (0.0, 10.0)),),
        rhs=rhs,
        initial={"X": start},
    )


def _stop_day(message: str) -> float:
    found = re.match(r"stopped at day ([0-9.e+-]+):", message)
    assert found is not None, message
    return float(found.group(1))


def _check_stopped(tr: ip.Trajectories, day: float, words: str) -> None:
    assert tr.status.tolist() == [1]
    message = tr.messages[0]
    assert words in message, message
    assert _stop_day(message) == pytest.approx(day, abs=0.05)
    values = tr.y[0, :, 0]
    before = tr.t < day - 0.05
    assert np.all(np.isfinite(values[before]))  # what was computed is kept
    assert np.all(np.isnan(values[tr.t > day + 0.05]))  # nothing is made up after the stop
    assert tr.summary()["message"].iloc[0] == message


@pytest.mark.parametrize("method", METHODS)
def test_a_blow_up_stops_with_the_state_named(method: str) -> None:
    # dX/dt = X², X(0) = 1: X = 1/(1 − t), infinite at day 1
    tr = ip.simulate(_one_state("blow_up", 1.0), t_end=5, method=method)  # type: ignore[arg-type]
    _check_stopped(tr, 1.0, "X grew from 1 to")
    assert "blows up" in tr.messages[0]


@pytest.mark.parametrize("method", METHODS)
def test_a_population_driven_below_zero_stops_where_it_reaches_zero(method: str) -> None:
    # dX/dt = −1, X(0) = 10: zero at day 10; no negative cell count is reported
    tr = ip.simulate(
        _one_state("through_zero", 10.0),
        t_end=20,
        method=method,  # type: ignore[arg-type]
    )
    _check_stopped(tr, 10.0, "X reaches zero and would become negative (rate -1 per day)")
    assert np.nanmin(tr.y) >= -1e-3


def test_a_signed_state_may_go_negative() -> None:
    tr = ip.simulate(_one_state("through_zero", 10.0, nonnegative=False), t_end=20)
    assert tr.status.tolist() == [0]
    assert tr.y[0, -1, 0] == pytest.approx(-10.0, abs=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_a_right_hand_side_outside_its_domain_is_named(method: str) -> None:
    # log(X − 0.5) is NaN once X < 0.5; X = 10·e^(−t) gets there at day ln 20 ≈ 3.0
    with np.errstate(all="raise"):  # no floating-point warning escapes the integrator
        tr = ip.simulate(
            _one_state("log_domain", 10.0),
            t_end=10,
            method=method,  # type: ignore[arg-type]
        )
    _check_stopped(tr, float(np.log(20.0)), "right-hand side gave NaN or infinite values")


def _across_bounds(model: Model, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` parameter vectors drawn log-uniformly across each bounded parameter's range."""
    columns = {}
    for par in model.parameters:
        if par.bounds is None:
            continue
        low, high = par.bounds
        low = max(low, high * 1e-8, 1e-300) if low <= 0 else low
        columns[par.name] = 10 ** rng.uniform(np.log10(low), np.log10(high), n)
    return pd.DataFrame(columns)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_model_finishes_clean_or_says_why_across_its_parameter_ranges(
    model_id: str,
) -> None:
    model = get_model(model_id)
    rng = np.random.default_rng(20261121)
    params = _across_bounds(model, 60, rng)
    tr = ip.simulate(model, t_end=120, params=params, t_eval=np.linspace(0.0, 120.0, 25))
    nonnegative = np.array([s.nonnegative for s in model.states])
    for i in range(len(params)):
        values = tr.y[i]
        if tr.status[i] == 0:
            assert np.all(np.isfinite(values)), (model_id, i, tr.messages[i])
            assert np.all(values[:, nonnegative] >= -1e-3), (model_id, i)
        else:
            assert tr.messages[i], (model_id, i)
            assert "stopped at day" in tr.messages[i] or "stiff" in tr.messages[i]


def test_results_of_an_unidentified_calibration_carry_the_warning() -> None:
    days = np.arange(0.0, 31.0, 3.0)
    truth = ip.simulate("kuznetsov1994", t_end=30, initial={"T": 1e5}, t_eval=days)
    noise = 10 ** np.random.default_rng(3).normal(0.0, 0.1, days.size)  # 0.1 decade, as measured
    data = pd.DataFrame({"day": days, "cells": truth.tumor[0] * noise})
    # a 1e5-cell tumor over 30 days says nothing about the carrying capacity 1/b
    weak = calibrate("kuznetsov1994", data, fit=["a", "b"], priors=False)
    strong = calibrate("kuznetsov1994", data, fit=["a"], uncertainty="none")
    assert weak.unidentifiable == ("b",)
    assert weak.warning is not None
    assert "do not determine b" in weak.warning
    flagged = weak.simulate(60)
    assert flagged.settings["calibration_warning"] == weak.warning
    assert flagged.settings["unidentifiable"] == ["b"]
    assert strong.unidentifiable == ()
    assert strong.warning is None
    assert "calibration_warning" not in strong.simulate(60).settings
