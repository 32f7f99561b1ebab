"""fl_adcc: rituximab ADCC by NK and γδ T cells in relapsed follicular lymphoma.

Checked against scipy's Radau reference, closed forms (rituximab PK, untreated growth) and the
behaviour the model is built for (γδ expansion needs zoledronate and IL-2; no rituximab, no kill).
"""

from __future__ import annotations

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.models import MODEL_IDS, get_model
from immunoprecise.dynamics.models.fl_adcc import RITUXIMAB_VOLUME_L
from immunoprecise.dynamics.reference import scipy_reference

RIT = "rituximab 650 mg d0,7,14,21"
GD = "zoledronate 4 mg d8 q21d x3; IL2 1e6 IU/d d8-12 q21d x3"
COMBO = f"{RIT}; {GD}"


def test_registered() -> None:
    assert "fl_adcc" in MODEL_IDS
    model = get_model("fl_adcc")
    assert model.tumor_state == "T"
    assert model.effector_states == ("N", "G")
    assert all(p.bounds is not None for p in model.parameters)
    assert all(p.bounds[0] <= p.value <= p.bounds[1] for p in model.parameters if p.bounds)
    assert all(p.source for p in model.parameters)


def test_batched_integrator_matches_radau() -> None:
    t_end = 120.0
    t_eval = np.linspace(0.0, t_end, 41)
    kwargs = {
        "regimen": COMBO,
        "initial": {"T": [1e11, 3e10]},
        "params": {"h": [6e11, 2e11], "p_G": [0.9, 1.5]},
    }
    ours = ip.simulate("fl_adcc", t_end=t_end, t_eval=t_eval, rtol=1e-10, atol=1e-10, **kwargs)
    assert ours.ok.all(), ours.messages
    ref = scipy_reference("fl_adcc", t_end, t_eval, **kwargs)
    err = np.max(np.abs(ours.y - ref) / np.maximum(np.abs(ref), 1e-4))
    assert err <= 1e-5


def test_rituximab_bolus_follows_one_compartment_closed_form() -> None:
    model = get_model("fl_adcc")
    t = np.arange(0.0, 61.0, 1.0)
    tr = ip.simulate("fl_adcc", t_end=60, regimen="rituximab 650 mg d0", t_eval=t, rtol=1e-9)
    r = tr.state("R")[0]
    half_life = model.defaults()["t_half_R"]
    expected = 650.0 / RITUXIMAB_VOLUME_L * 0.5 ** (t / half_life)
    assert r[0] == pytest.approx(650.0 / RITUXIMAB_VOLUME_L, rel=1e-9)
    assert np.max(np.abs(r - expected) / expected) < 1e-6
    day = int(half_life)  # 22: R has halved
    assert r[day] == pytest.approx(r[0] / 2, rel=1e-6)


def test_untreated_tumor_grows_at_rate_a_while_small() -> None:
    a = get_model("fl_adcc").defaults()["a"]
    t = np.linspace(0.0, 365.0, 53)
    tr = ip.simulate("fl_adcc", t_end=365, initial={"T": 1e6}, t_eval=t, rtol=1e-9)
    # T ≪ K = 1e12: logistic braking below 1e-5, and no kill without rituximab
    assert np.max(np.abs(tr.tumor[0] / (1e6 * np.exp(a * t)) - 1.0)) < 1e-4
    doubling = np.log(2.0) / a
    assert 60.0 < doubling < 730.0  # indolent: months, not days


def _gd_peak(regimen: str | None) -> float:
    tr = ip.simulate("fl_adcc", t_end=40, regimen=regimen)
    g = tr.state("G")[0]
    return float(g.max() / g[0])


def test_gamma_delta_expansion_needs_zoledronate_and_il2() -> None:
    both = _gd_peak("zoledronate 4 mg d8; IL2 1e6 IU/d d8-12")
    zol = _gd_peak("zoledronate 4 mg d8")
    il2 = _gd_peak("IL2 1e6 IU/d d8-12")
    none = _gd_peak(None)
    assert none == pytest.approx(1.0, abs=1e-6)  # baseline is the steady state s_G/d_G
    assert zol == pytest.approx(1.0, abs=1e-6)
    assert il2 == pytest.approx(1.0, abs=1e-6)
    assert 2.0 < both < 10.0  # a few-fold per cycle


def test_gamma_delta_activation_deepens_rituximab_response() -> None:
    t = np.arange(0.0, 366.0, 1.0)
    rit = ip.simulate("fl_adcc", t_end=365, regimen=RIT, t_eval=t)
    combo = ip.simulate("fl_adcc", t_end=365, regimen=COMBO, t_eval=t)
    assert rit.tumor[0].min() < 0.6 * rit.tumor[0, 0]  # rituximab alone shrinks the tumor
    assert combo.tumor[0].min() < 0.95 * rit.tumor[0].min()
    assert combo.state("G")[0].max() > 2.0 * rit.state("G")[0].max()
    change = {
        name: float(tr.response("lugano").best_change_percent[0])
        for name, tr in (("rit", rit), ("combo", combo))
    }
    assert change["combo"] < change["rit"] < 0


def test_no_rituximab_no_kill_even_with_gamma_delta_activation() -> None:
    t = np.arange(0.0, 366.0, 1.0)
    none = ip.simulate("fl_adcc", t_end=365, t_eval=t)
    gd = ip.simulate("fl_adcc", t_end=365, regimen=GD, t_eval=t)
    assert gd.state("G")[0].max() > 2.0 * gd.state("G")[0, 0]
    assert np.all(np.diff(gd.tumor[0]) > 0)  # grows throughout
    assert np.allclose(gd.tumor[0], none.tumor[0], rtol=1e-6)  # ρ(0) = 0: no ADCC at all


def test_population_under_rituximab_responds_in_tens_of_percent() -> None:
    from immunoprecise.dynamics.schedule import virtual_patients

    pop = virtual_patients("fl_adcc", 200, seed=3, cv=0.3)
    t = np.arange(0.0, 366.0, 7.0)
    rates = {}
    for name, reg in (("rit", RIT), ("combo", COMBO)):
        best = ip.simulate("fl_adcc", t_end=365, regimen=reg, params=pop, t_eval=t)
        b = best.response("lugano").best_response
        rates[name] = float(np.mean((b == "PR") | (b == "CR")))
    assert 0.15 < rates["rit"] < 0.85
    assert rates["combo"] > rates["rit"]


@pytest.mark.parametrize(
    ("agent", "state"),
    [
        ("rituximab", "R"),
        ("anti-CD20", "R"),
        ("MabThera", "R"),
        ("Rituxan", "R"),
        ("RTX", "R"),
        ("zoledronate", "Z"),
        ("zoledronic acid", "Z"),
        ("Zometa", "Z"),
        ("aminobisphosphonate", "Z"),
        ("pamidronate", "Z"),
        ("phosphoantigen", "Z"),
        ("IPH1101", "Z"),
        ("BrHPP", "Z"),
        ("IL2", "I"),
        ("IL-2", "I"),
        ("aldesleukin", "I"),
    ],
)
def test_inputs_found_by_alias(agent: str, state: str) -> None:
    model = get_model("fl_adcc")
    assert model.inputs[model.input_index(agent)].state == state
