"""de Pillis, Gu & Radunskaya 2006: tumor, NK, CD8⁺ T cells, circulating lymphocytes, chemotherapy
and IL-2, with TIL infusion.

    D     = d·(L/T)^l / (s + (L/T)^l)
    dT/dt = a·T·(1 − b·T) − c·N·T − D·T − K_T·(1 − e^{−M})·T
    dN/dt = e·C − f·N + g·T²/(h + T²)·N − p·N·T − K_N·(1 − e^{−M})·N
    dL/dt = −m·L + j·D²T²/(k + D²T²)·L − q·L·T + (r1·N + r2·C)·T − u·N·L²
            − K_L·(1 − e^{−M})·L + p_I·L·I/(g_I + I) + v_L(t)
    dC/dt = α − β·C − K_C·(1 − e^{−M})·C
    dM/dt = −γ·M + v_M(t)
    dI/dt = −μ_I·I + v_I(t)

Reference: de Pillis LG, Gu W, Radunskaya AE. Mixed immunotherapy and chemotherapy of tumors:
modeling, applications and biological interpretations. J Theor Biol 2006;238(4):841–862.
doi:10.1016/j.jtbi.2005.06.037.

Parameter values (patients 9 and 10) are the paper's table as transcribed in two independent
re-implementations (GitHub mazenalamir/mixedTherapy ``mixed_therapy.py`` and a MATLAB
``model_de_Pillis.m``), which agree on patient 9; patient 10 comes from the second only (its
m = 9.12/d in particular should be checked against the paper). ``M`` is the drug concentration in
blood (mg/L) and ``I`` the IL-2 concentration (IU/L), as in the paper.
"""

from __future__ import annotations

import numpy as np

from immunoprecise.dynamics.model import (
    HALF_SATURATION,
    NONNEGATIVE,
    Array,
    DosingInput,
    Limits,
    Model,
    Parameter,
    ParameterSet,
    Params,
    State,
)
from immunoprecise.dynamics.models.depillis2005 import LYSIS_EXPONENT_LIMITS, lysis, lysis_ratio

__all__ = ["BLOOD_VOLUME_L", "MODEL"]

_SRC = "de Pillis et al. 2006, J Theor Biol 238:841, doi:10.1016/j.jtbi.2005.06.037"
_NADLER = "Nadler SB et al. 1962, Surgery 51:224 (blood volume of a 70 kg adult ≈ 5 L)"

BLOOD_VOLUME_L = 5.0
"""Adult blood volume (L) turning a dose amount into a blood concentration.

Nadler SB, Hidalgo JU, Bloch T. Prediction of blood volume in normal human adults. Surgery
1962;51(2):224–232 (≈ 5 L for a 70 kg, 175 cm adult).
"""


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    # one contiguous row per state: column slices of [n, 6] are strided and cache-unfriendly
    tum, nk, cd8, circ, drug, il2 = np.ascontiguousarray(y.T)
    dl = lysis(p["d"], p["s"], p["l"], cd8, tum)
    dtum = dl * tum
    kill = 1.0 - np.exp(-drug)
    tum2 = tum * tum
    dtum2 = dtum * dtum
    out = np.empty((6, y.shape[0]))
    # grouped by the state each term is proportional to (fewer array operations)
    out[0] = tum * (p["a"] * (1 - p["b"] * tum) - p["c"] * nk - dl - p["K_T"] * kill)
    out[1] = p["e"] * circ + nk * (
        p["g"] * tum2 / (p["h"] + tum2) - p["f"] - p["p"] * tum - p["K_N"] * kill
    )
    out[2] = (
        cd8
        * (
            p["j"] * dtum2 / (p["k"] + dtum2)
            - p["m"]
            - p["q"] * tum
            - p["u"] * nk * cd8
            - p["K_L"] * kill
            + p["p_I"] * il2 / (p["g_I"] + il2)
        )
        + (p["r1"] * nk + p["r2"] * circ) * tum
        + u[:, 2]
    )
    out[3] = p["alpha"] - circ * (p["beta"] + p["K_C"] * kill)
    out[4] = -p["gamma"] * drug + u[:, 0]
    out[5] = -p["mu_I"] * il2 + u[:, 1]
    return np.ascontiguousarray(out.T)


def _jacobian(t: Array, y: Array, p: Params, u: Array) -> Array:
    """``∂(dy/dt)/∂y`` of :func:`_rhs`, shape ``[n, 6, 6]`` (differentiated by hand; a test
    compares it with finite differences). With ``P = D·T``, ``x = (L/T)^l``:
    ``∂P/∂T = D − d·s·l·x/(s + x)²`` and ``∂P/∂L = d·s·l·x·T/((s + x)²·L)``; at ``T = 0``
    ``∂P/∂T = D`` and ``∂P/∂L = 0``."""
    tum, nk, cd8, circ, drug, il2 = np.ascontiguousarray(y.T)
    d, s, ell = p["d"], p["s"], p["l"]
    alive = tum > 0
    x = lysis_ratio(ell, cd8, tum)
    dl = lysis(d, s, ell, cd8, tum, ratio=x)
    core = d * s * ell * x / (s + x) ** 2
    dp_dt = np.where(alive, dl - core, dl)
    dp_dl = np.where(alive & (cd8 > 0), core * tum / np.where(cd8 > 0, cd8, 1.0), 0.0)
    dtum = dl * tum
    q2 = dtum * dtum
    kill = 1.0 - np.exp(-drug)
    dkill = np.exp(-drug)
    recruit = p["j"] * cd8 * p["k"] / (p["k"] + q2) ** 2 * 2.0 * dtum
    tum2 = tum * tum
    jac = np.zeros((6, 6, y.shape[0]))  # built row-major per entry, returned as a [n, 6, 6] view
    jac[0, 0] = p["a"] - 2 * p["a"] * p["b"] * tum - p["c"] * nk - dp_dt - p["K_T"] * kill
    jac[0, 1] = -p["c"] * tum
    jac[0, 2] = -dp_dl
    jac[0, 4] = -p["K_T"] * dkill * tum
    jac[1, 0] = p["g"] * nk * 2 * p["h"] * tum / (p["h"] + tum2) ** 2 - p["p"] * nk
    jac[1, 1] = -p["f"] + p["g"] * tum2 / (p["h"] + tum2) - p["p"] * tum - p["K_N"] * kill
    jac[1, 3] = p["e"]
    jac[1, 4] = -p["K_N"] * dkill * nk
    jac[2, 0] = recruit * dp_dt - p["q"] * cd8 + p["r1"] * nk + p["r2"] * circ
    jac[2, 1] = p["r1"] * tum - p["u"] * cd8 * cd8
    jac[2, 2] = (
        -p["m"]
        + p["j"] * q2 / (p["k"] + q2)
        + recruit * dp_dl
        - p["q"] * tum
        - 2 * p["u"] * nk * cd8
        - p["K_L"] * kill
        + p["p_I"] * il2 / (p["g_I"] + il2)
    )
    jac[2, 3] = p["r2"] * tum
    jac[2, 4] = -p["K_L"] * dkill * cd8
    jac[2, 5] = p["p_I"] * cd8 * p["g_I"] / (p["g_I"] + il2) ** 2
    jac[3, 3] = -p["beta"] - p["K_C"] * kill
    jac[3, 4] = -p["K_C"] * dkill * circ
    jac[4, 4] = -p["gamma"]
    jac[5, 5] = -p["mu_I"]
    return np.moveaxis(jac, 2, 0)


def _par(
    name: str,
    value: float,
    unit: str,
    what: str,
    bounds: tuple[float, float],
    limits: Limits = NONNEGATIVE,
) -> Parameter:
    return Parameter(name, value, unit, what, _SRC, bounds, limits)


_P9 = {
    "d": 2.34,
    "k": 3.66e7,
    "l": 2.09,
    "m": 2.04e-1,
    "p": 3.42e-6,
    "q": 1.42e-6,
    "s": 8.39e-2,
    "alpha": 7.5e8,
    "beta": 1.2e-2,
}
_P10 = {
    "d": 1.88,
    "k": 5.66e7,
    "l": 1.81,
    "m": 9.12,
    "p": 3.59e-6,
    "q": 1.59e-6,
    "s": 5.12e-1,
    "alpha": 5.0e8,
    "beta": 8.0e-3,
}

MODEL = Model(
    id="depillis2006",
    title="de Pillis, Gu & Radunskaya 2006: mixed immunotherapy and chemotherapy",
    reference=_SRC,
    states=(
        State("T", "cells", "tumor cells"),
        State("N", "cells", "natural killer cells"),
        State("L", "cells", "tumor-specific CD8⁺ T cells"),
        State("C", "cells", "circulating lymphocytes"),
        State("M", "mg/L", "chemotherapy drug concentration in blood"),
        State("I", "IU/L", "IL-2 concentration in blood"),
    ),
    parameters=(
        _par("a", 4.31e-1, "1/d", "tumor growth rate", (1e-3, 2.0)),
        _par("b", 1.02e-9, "1/cell", "inverse tumor carrying capacity", (1e-13, 1e-6)),
        _par("c", 6.41e-11, "1/(cell·d)", "NK kill rate", (0.0, 1e-6)),
        _par("d", _P9["d"], "1/d", "maximal CD8⁺ lysis rate", (0.0, 20.0)),
        _par("e", 2.08e-7, "1/d", "NK production from circulating lymphocytes", (0.0, 1e-4)),
        _par("f", 4.12e-2, "1/d", "NK death rate", (1e-4, 1.0)),
        _par("g", 1.25e-2, "1/d", "maximal NK recruitment by tumor", (0.0, 1.0)),
        _par("h", 2.02e7, "cells²", "NK recruitment steepness", (1.0, 1e12), HALF_SATURATION),
        _par("j", 2.49e-2, "1/d", "maximal CD8⁺ recruitment", (0.0, 1.0)),
        _par("k", _P9["k"], "cells²", "CD8⁺ recruitment steepness", (1.0, 1e12), HALF_SATURATION),
        _par("l", _P9["l"], "1", "CD8⁺ lysis exponent", (0.1, 3.0), LYSIS_EXPONENT_LIMITS),
        _par("m", _P9["m"], "1/d", "CD8⁺ death rate", (1e-4, 20.0)),
        _par("p", _P9["p"], "1/(cell·d)", "NK inactivation by tumor", (0.0, 1e-4)),
        _par("q", _P9["q"], "1/(cell·d)", "CD8⁺ inactivation by tumor", (0.0, 1e-4)),
        _par("r1", 1.1e-7, "1/(cell·d)", "CD8⁺ stimulation by NK–tumor encounters", (0.0, 1e-4)),
        _par(
            "r2",
            6.5e-11,
            "1/(cell·d)",
            "CD8⁺ stimulation by lymphocyte–tumor encounters",
            (0.0, 1e-6),
        ),
        _par("s", _P9["s"], "1", "CD8⁺ lysis steepness", (1e-3, 10.0), HALF_SATURATION),
        _par("u", 3.0e-10, "1/(cell²·d)", "NK regulation of CD8⁺ cells", (0.0, 1e-6)),
        _par("alpha", _P9["alpha"], "cells/d", "circulating lymphocyte production", (0.0, 1e11)),
        _par("beta", _P9["beta"], "1/d", "circulating lymphocyte death", (1e-4, 1.0)),
        _par("gamma", 9.0e-1, "1/d", "chemotherapy elimination", (1e-2, 20.0)),
        _par("K_T", 9.0e-1, "1/d", "chemotherapy kill of tumor cells", (0.0, 5.0)),
        _par("K_N", 6.0e-1, "1/d", "chemotherapy kill of NK cells", (0.0, 5.0)),
        _par("K_L", 6.0e-1, "1/d", "chemotherapy kill of CD8⁺ cells", (0.0, 5.0)),
        _par("K_C", 6.0e-1, "1/d", "chemotherapy kill of circulating lymphocytes", (0.0, 5.0)),
        _par("p_I", 1.25e-1, "1/d", "maximal IL-2-driven CD8⁺ proliferation", (0.0, 2.0)),
        _par(
            "g_I",
            2.0e7,
            "IU/L",
            "IL-2 concentration for half-maximal proliferation",
            (1.0, 1e10),
            HALF_SATURATION,
        ),
        _par("mu_I", 1.0e1, "1/d", "IL-2 elimination", (0.1, 50.0)),
    ),
    rhs=_rhs,
    jacobian=_jacobian,
    initial={
        "T": 1.0e6,
        "N": 2.08e-7 * 7.5e8 / 1.2e-2 / 4.12e-2,
        "L": 0.0,
        "C": 7.5e8 / 1.2e-2,
        "M": 0.0,
        "I": 0.0,
    },
    inputs=(
        DosingInput(
            "chemo",
            "M",
            "mg/L",
            "chemotherapy (v_M)",
            aliases=("chemotherapy", "cyclophosphamide", "CTX", "debulking"),
            volume_L=BLOOD_VOLUME_L,
        ),
        DosingInput(
            "IL-2",
            "I",
            "IU/L",
            "interleukin-2 (v_I)",
            aliases=("IL2", "aldesleukin", "interleukin-2"),
            volume_L=BLOOD_VOLUME_L,
        ),
        DosingInput(
            "TIL",
            "L",
            "cells",
            "tumor-infiltrating lymphocyte infusion (v_L)",
            aliases=("TILs", "CD8", "T cells", "ACT"),
        ),
    ),
    tumor_state="T",
    effector_states=("N", "L"),
    inactivation_parameter="q",
    method="rodas4",
    parameter_sets=(
        ParameterSet("patient9", _P9, _SRC, "patient 9 (the defaults)"),
        ParameterSet(
            "patient10", _P10, _SRC, "patient 10 (single transcription; check against the paper)"
        ),
    ),
    assumptions=(
        "Initial C and N default to the tumor-free equilibria alpha/beta and e·C/f; initial "
        "tumor-specific CD8⁺ T cells to 0 (recruited by the (r1·N + r2·C)·T term).",
        f"Doses in mg or IU are turned into blood concentrations with a 5 L blood volume "
        f"({_NADLER}); per-kg doses with the body weight given to simulate (default 70 kg).",
    ),
)
