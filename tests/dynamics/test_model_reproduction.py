"""Every model against an independent scipy reference (Radau, rtol 1e-10); published behaviour."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.equilibria import jacobian, kuznetsov_equilibria
from immunoprecise.dynamics.models import get_model
from immunoprecise.dynamics.reference import scipy_reference

MAX_RELATIVE_ERROR = 1e-5


ABSOLUTE_FLOOR = 1e-4
"""Values below 1e-4 of a state's unit (cells, copies/µg, mg/L, IU/L) are compared absolutely:
a relative error of a quantity that is zero in exact arithmetic (memory cells at the instant the
expansion ends) is not defined."""


def relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest |ours − ref| / max(|ref|, 1e-4) over patients, times and states."""
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), ABSOLUTE_FLOOR)))


CASES: list[dict[str, Any]] = [
    {
        "id": "kuznetsov1994",
        "t_end": 200.0,
        "initial": {"T": [1e5, 1e7, 3e8], "E": [3.2e5, 1e6, 5e5]},
    },
    {
        "id": "kuznetsov1994+checkpoint",
        "t_end": 150.0,
        "initial": {"T": [2e8, 3e8]},
        "regimen": "pembrolizumab 200 mg q21d x4",
    },
    {
        "id": "kuznetsov1994+cells",
        "t_end": 100.0,
        "initial": {"T": [1e7]},
        "regimen": "gdT 1e6 cells/d d10-14",
    },
    {"id": "depillis2005", "t_end": 60.0, "initial": {"T": [1e4, 1e6, 1e7]}},
    {
        "id": "depillis2005",
        "t_end": 40.0,
        "initial": {"T": [1e5], "L": [1e3]},
        "parameter_set": "mouse_ligand",
    },
    {
        "id": "depillis2006",
        "t_end": 60.0,
        "initial": {"T": [2e7, 1e6]},
        "regimen": "chemo 1 mg/kg q21d x3; IL2 5e6 IU/d d8-12; TIL 1e9 cells d7",
    },
    {
        "id": "depillis2006",
        "t_end": 40.0,
        "initial": {"T": [1e6]},
        "parameter_set": "patient10",
        "regimen": "chemo 1 mg/L/d d0-2",
    },
    {
        "id": "cartmath2021",
        "t_end": 120.0,
        "initial": {"T": [2e6, 5e6]},
        "regimen": "CAR-T 1e6 cells d42",
    },
    {
        "id": "cartmath2021",
        "t_end": 15.0,
        "initial": {"T": [3e6]},
        "regimen": "CAR-T 1e7 cells d7",
        "parameter_set": "RAJI",
    },
    {
        "id": "stein2019",
        "t_end": 60.0,
        "params": {"Tmax": [9.3, 12.0]},
        "regimen": "CAR-T 1e8 cells d0",
    },
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['id']}-{c.get('parameter_set', 'default')}" for c in CASES]
)
def test_batched_integrator_matches_radau(case: dict[str, Any]) -> None:
    t_eval = np.linspace(0.0, case["t_end"], 41)
    kwargs = {k: case.get(k) for k in ("regimen", "params", "initial", "parameter_set")}
    ours = ip.simulate(
        case["id"], t_end=case["t_end"], t_eval=t_eval, rtol=1e-10, atol=1e-10, **kwargs
    )
    assert ours.ok.all(), ours.messages
    ref = scipy_reference(case["id"], case["t_end"], t_eval, **kwargs)
    assert relative_error(ours.y, ref) <= MAX_RELATIVE_ERROR


def test_kuznetsov_equilibria_are_steady_states_classified_by_eigenvalues() -> None:
    model = get_model("kuznetsov1994")
    p = model.parameter_arrays(1)
    eqs = kuznetsov_equilibria()
    assert [e.label for e in eqs] == ["tumor-free", "dormant", "saddle", "escape"]
    assert [e.kind for e in eqs] == ["saddle", "stable focus", "saddle", "stable node"]
    for e in eqs:
        y = np.array([e.state["E"], e.state["T"]])
        rates = model.derivative(y, p)
        scale = np.abs(model.derivative(y * 1.01, p)) + 1.0
        assert np.all(np.abs(rates) / scale < 1e-6)
        ev = np.linalg.eigvals(jacobian(model, y, model.defaults()))
        assert np.allclose(sorted(ev.real), sorted(c.real for c in e.eigenvalues))
    # the tumor-free state is unstable in the tumor direction: eigenvalue a − n·s/d
    d = model.defaults()
    assert max(c.real for c in eqs[0].eigenvalues) == pytest.approx(
        d["a"] - d["n"] * d["s"] / d["d"], rel=1e-6
    )
    # published dimensionless coordinates (E0 = T0 = 1e6): dormant focus near (1.61, 8.19)
    assert eqs[1].state["E"] / 1e6 == pytest.approx(1.608, abs=2e-3)
    assert eqs[1].state["T"] / 1e6 == pytest.approx(8.186, abs=2e-3)


def test_kuznetsov_small_tumors_become_dormant_large_ones_escape() -> None:
    dormant, saddle, escape = kuznetsov_equilibria()[1:]
    tr = ip.simulate(
        "kuznetsov1994",
        t_end=4000,
        t_eval=[0, 4000],
        initial={"E": [3.2e5, 3.2e5], "T": [1e6, 0.5 * (saddle.state["T"] + 4.4e8)]},
    )
    end = tr.tumor[:, -1]
    assert end[0] == pytest.approx(dormant.state["T"], rel=0.02)
    assert end[1] == pytest.approx(escape.state["T"], rel=0.02)


def test_stein_kinetics_follow_the_published_closed_form() -> None:
    t = np.linspace(0, 90, 181)
    tr = ip.simulate(
        "stein2019", t_end=90, t_eval=t, regimen="CAR-T 1e8 cells d0", rtol=1e-10, atol=1e-12
    )
    level = (tr.state("E") + tr.state("M"))[0]
    cmax, foldx, tmax, alpha, beta, fb = 24000.0, 3900.0, 9.3, 0.16, 0.0032, 0.0079
    s = np.maximum(t - tmax, 0.0)
    expected = np.where(
        t < tmax,
        cmax / foldx * np.exp(np.log(foldx) / tmax * t),
        (1 - fb) * cmax * np.exp(-alpha * s) + fb * cmax * np.exp(-beta * s),
    )
    assert np.max(np.abs(level - expected) / expected) < 1e-7
    assert t[np.argmax(level)] == pytest.approx(tmax, abs=0.5)


def test_cartmath_hdlm2_cleared_with_memory_raji_escapes_ido_worse() -> None:
    hd = ip.simulate("cartmath2021", t_end=200, regimen="CAR-T 1e6 cells d42")
    assert hd.eradicated[0]
    assert 42 < hd.eradication_day[0] < 60
    assert hd.state("C_M")[0, -1] > 1e5  # persisting memory CAR-T cells
    tumors = {}
    for ps in ("RAJI", "RAJI_IDO", "RAJI_IDO_1MT"):
        tr = ip.simulate(
            "cartmath2021",
            t_end=15,
            parameter_set=ps,
            initial={"T": 3e6},
            regimen="CAR-T 1e7 cells d7",
        )
        tumors[ps] = tr.tumor[0, -1]
    untreated = ip.simulate(
        "cartmath2021", t_end=15, parameter_set="RAJI", initial={"T": 3e6}
    ).tumor[0, -1]
    assert tumors["RAJI"] < untreated
    assert tumors["RAJI"] < tumors["RAJI_IDO_1MT"] < tumors["RAJI_IDO"]


def test_depillis2006_combination_clears_what_no_treatment_cannot() -> None:
    regimen = "chemo 1 mg/kg q21d x3; IL2 5e6 IU/d d8-12; TIL 1e9 cells d7"
    none = ip.simulate("depillis2006", t_end=60, initial={"T": 2e7})
    combo = ip.simulate("depillis2006", t_end=60, initial={"T": 2e7}, regimen=regimen)
    assert none.tumor[0, -1] > 5e8  # grows towards the carrying capacity 1/b
    assert combo.eradicated[0]


def test_checkpoint_blockade_turns_escape_into_control() -> None:
    kwargs: dict[str, Any] = {"t_end": 300, "initial": {"T": 3e8}}
    base = ip.simulate("kuznetsov1994+checkpoint", **kwargs)
    treated = ip.simulate(
        "kuznetsov1994+checkpoint", regimen="pembrolizumab 200 mg q21d x14", **kwargs
    )
    assert base.tumor[0, -1] > 4e8
    assert treated.tumor[0, -1] < 0.1 * base.tumor[0, -1]
