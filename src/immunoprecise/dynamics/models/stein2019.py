"""Stein et al. 2019: multiphasic cellular kinetics of tisagenlecleucel (CAR-T) in blood.

    expansion   (τ < Tmax):  dE/dt = ρ·E,  ρ = ln(foldx)/Tmax;  dM/dt = 0
    contraction (τ ≥ Tmax):  dE/dt = −α·E;  dM/dt = FB·(α − β)·E − β·M
    dτ/dt = 1 (days since the last infusion)

The transgene level in blood is ``E + M`` (copies/µg genomic DNA). After Tmax it follows the
published closed form ``C(t) = (1 − FB)·Cmax·e^{−α(t−Tmax)} + FB·Cmax·e^{−β(t−Tmax)}``: a fast
contraction (half-life ln2/α ≈ 4.3 d) and a persistent memory phase (ln2/β ≈ 220 d). There is no
tumor state: this model describes how much of the product is in the body over time.

Reference: Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular kinetic
analysis of chimeric antigen receptor-T cells. CPT Pharmacometrics Syst Pharmacol
2019;8(5):285–295. doi:10.1002/psp4.12388 (Table 1: typical values in pediatric and young adult
B-ALL, ELIANA and ENSIGN, n = 90).
"""

from __future__ import annotations

import numpy as np

from immunoprecise.dynamics.model import (
    FRACTION,
    Array,
    Clock,
    DosingInput,
    Limits,
    Model,
    Parameter,
    Params,
    State,
)

__all__ = ["MEDIAN_ADULT_DOSE_CELLS", "MODEL", "R0_COPIES_PER_UG"]

_SRC = "Stein et al. 2019, CPT Pharmacometrics Syst Pharmacol 8:285, doi:10.1002/psp4.12388"

MEDIAN_ADULT_DOSE_CELLS = 1.0e8
"""Median tisagenlecleucel dose of patients over 50 kg in the fitted trials (CAR⁺ viable T cells;
Stein et al. 2019, Table 2)."""

R0_COPIES_PER_UG = 24000.0 / 3900.0
"""Typical transgene level at infusion, Cmax/foldx = 24000/3900 ≈ 6.15 copies/µg (Table 1)."""


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    e, mem, tau = y[:, 0], y[:, 1], y[:, 2]
    expanding = tau < p["Tmax"]
    rho = np.log(p["foldx"]) / p["Tmax"]
    de = np.where(expanding, rho * e, -p["alpha"] * e)
    dm = np.where(expanding, 0.0, p["FB"] * (p["alpha"] - p["beta"]) * e - p["beta"] * mem)
    return np.stack((de, dm, np.ones_like(tau)), axis=1)


MODEL = Model(
    id="stein2019",
    title="Stein et al. 2019: multiphasic tisagenlecleucel cellular kinetics",
    reference=_SRC,
    states=(
        State("E", "copies/µg", "expanding/effector CAR transgene level in blood"),
        State("M", "copies/µg", "persisting (memory) CAR transgene level in blood"),
        State("tau", "d", "days since the last infusion"),
    ),
    parameters=(
        Parameter(
            "foldx",
            3900.0,
            "1",
            "fold expansion from infusion to Cmax",
            _SRC,
            (1.0, 1e7),
            Limits(low_open=True, why="the expansion rate is ln(foldx)/Tmax: a logarithm"),
        ),
        Parameter(
            "Tmax",
            9.3,
            "d",
            "time of maximal expansion",
            _SRC,
            (1.0, 60.0),
            Limits(low_open=True, why="the expansion rate is ln(foldx)/Tmax: it divides"),
        ),
        Parameter("alpha", 0.16, "1/d", "fast contraction rate", _SRC, (1e-3, 5.0)),
        Parameter("beta", 0.0032, "1/d", "slow (memory) decline rate", _SRC, (0.0, 1.0)),
        Parameter(
            "FB",
            0.0079,
            "1",
            "fraction of Cmax entering the slow phase",
            _SRC,
            (0.0, 1.0),
            FRACTION,
        ),
    ),
    rhs=_rhs,
    initial={"E": 0.0, "M": 0.0, "tau": 0.0},
    inputs=(
        DosingInput(
            "CAR-T",
            "E",
            "cells",
            "CAR-T infusion: starts an expansion phase from the infused level",
            aliases=("tisagenlecleucel", "CTL019", "Kymriah", "CART", "CAR T"),
            scale=R0_COPIES_PER_UG / MEDIAN_ADULT_DOSE_CELLS,
            resets="tau",
        ),
    ),
    effector_states=("E", "M"),
    clocks=(Clock("tau", "Tmax"),),
    assumptions=(
        "An infusion adds a transgene level proportional to the dose, scaled so that the "
        "median adult dose (1e8 cells) gives the typical level Cmax/foldx = 6.15 copies/µg; "
        "Stein et al. found no significant dose effect within the dose range studied, so "
        "doses far from it extrapolate.",
        "An infusion restarts the expansion clock (τ = 0); a second infusion during "
        "contraction re-expands the effector compartment only.",
    ),
)
