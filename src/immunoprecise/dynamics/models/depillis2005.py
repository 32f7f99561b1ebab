"""de Pillis, Radunskaya & Wiseman 2005: tumor, NK cells and tumor-specific CD8⁺ T cells.

    D     = d·(L/T)^λ / (s + (L/T)^λ)                       (CD8⁺ lysis, fitted to ⁵¹Cr assays)
    dT/dt = a·T·(1 − b·T) − c·N·T − D·T
    dN/dt = σ − f·N + g·T²/(h + T²)·N − p·N·T
    dL/dt = −m·L + j·D²T²/(k + D²T²)·L − q·L·T + r·N·T

Reference: de Pillis LG, Radunskaya AE, Wiseman CL. A validated mathematical model of
cell-mediated immune response to tumor growth. Cancer Res 2005;65(17):7950–7958.
doi:10.1158/0008-5472.CAN-05-0564.

Parameter values are the paper's Table 1 as transcribed in two independent re-implementations
(GitHub S-Ng/Immune-Response-to-Tumor-Growth ``getParameters.m`` and an-do/MeFAST
``Parameter_settings.m``, which agree on the mouse sets and on patient 9); the patient-10 lysis
parameters come from one of them only and should be checked against the paper before use.
"""

from __future__ import annotations

import numpy as np

from immunoprecise.dynamics.model import (
    HALF_SATURATION,
    NONNEGATIVE,
    Array,
    Limits,
    Model,
    Parameter,
    ParameterSet,
    Params,
    State,
)

__all__ = ["LYSIS_EXPONENT_LIMITS", "MODEL", "lysis", "lysis_ratio"]

_SRC = "de Pillis et al. 2005, Cancer Res 65:7950, doi:10.1158/0008-5472.CAN-05-0564, Table 1"


LYSIS_EXPONENT_LIMITS = Limits(
    low_open=True,
    why="the lysis exponent: lysis rises with the E:T ratio only for an exponent > 0",
)
"""Limits of the CD8⁺ lysis exponent (λ here, l in de Pillis 2006)."""


def lysis_ratio(lam: Array, ell: Array, tum: Array) -> Array:
    """``x = (L/T)^λ`` of the lysis rate (``L`` clipped at 0; ``T = 0`` read as 1: the caller
    masks it)."""
    return np.asarray(
        np.power(np.maximum(ell, 0.0) / np.where(tum > 0, tum, 1.0), lam), dtype=np.float64
    )


def lysis(
    d: Array, s: Array, lam: Array, ell: Array, tum: Array, ratio: Array | None = None
) -> Array:
    """CD8⁺ lysis rate ``D = d (L/T)^λ / (s + (L/T)^λ)`` per day; ``D → d`` as ``T → 0``.

    ``ratio`` is :func:`lysis_ratio` when the caller already has it (the Jacobian does).
    """
    alive = tum > 0
    x = ratio if ratio is not None else lysis_ratio(lam, ell, tum)
    if alive.all():  # the usual case, without the masks
        return np.asarray(d * x / (s + x), dtype=np.float64)
    frac = np.where(alive, x / (s + x), np.where(ell > 0, 1.0, 0.0))
    return np.asarray(d * frac, dtype=np.float64)


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    tum, nk, cd8 = y[:, 0], y[:, 1], y[:, 2]
    dl = lysis(p["d"], p["s"], p["lambda"], cd8, tum)
    dtum = dl * tum
    dt = p["a"] * tum * (1 - p["b"] * tum) - p["c"] * nk * tum - dtum
    dn = p["sigma"] - p["f"] * nk + p["g"] * tum**2 / (p["h"] + tum**2) * nk - p["p"] * nk * tum
    dlv = (
        -p["m"] * cd8
        + p["j"] * dtum**2 / (p["k"] + dtum**2) * cd8
        - p["q"] * cd8 * tum
        + p["r"] * nk * tum
    )
    return np.stack((dt, dn, dlv), axis=1)


def _par(
    name: str,
    value: float,
    unit: str,
    what: str,
    bounds: tuple[float, float],
    limits: Limits = NONNEGATIVE,
) -> Parameter:
    return Parameter(name, value, unit, what, _SRC, bounds, limits)


MODEL = Model(
    id="depillis2005",
    title="de Pillis, Radunskaya & Wiseman 2005: tumor–NK–CD8⁺ T-cell model",
    reference=_SRC,
    states=(
        State("T", "cells", "tumor cells"),
        State("N", "cells", "natural killer cells"),
        State("L", "cells", "tumor-specific CD8⁺ T cells"),
    ),
    parameters=(
        _par("a", 5.14e-1, "1/d", "tumor growth rate", (1e-3, 2.0)),
        _par("b", 1.02e-9, "1/cell", "inverse tumor carrying capacity", (1e-13, 1e-6)),
        _par("c", 3.23e-7, "1/(cell·d)", "NK kill rate", (0.0, 1e-4)),
        _par("d", 5.80, "1/d", "maximal CD8⁺ lysis rate", (0.0, 20.0)),
        _par("lambda", 1.36, "1", "CD8⁺ lysis exponent", (0.1, 3.0), LYSIS_EXPONENT_LIMITS),
        _par(
            "s",
            2.5e-1,
            "1",
            "E:T ratio for half-maximal lysis (steepness)",
            (1e-3, 10.0),
            HALF_SATURATION,  # (L/T)^λ/(s + (L/T)^λ): 0/0 without CD8⁺ cells at s = 0
        ),
        _par("sigma", 1.3e4, "cells/d", "constant NK source", (0.0, 1e7)),
        _par("f", 4.12e-2, "1/d", "NK death rate", (1e-4, 1.0)),
        _par("g", 2.5e-2, "1/d", "maximal NK recruitment by tumor", (0.0, 1.0)),
        _par("h", 2.02e7, "cells²", "NK recruitment steepness", (1.0, 1e12), HALF_SATURATION),
        _par("j", 3.75e-2, "1/d", "maximal CD8⁺ recruitment", (0.0, 1.0)),
        _par("k", 2.0e7, "cells²", "CD8⁺ recruitment steepness", (1.0, 1e12), HALF_SATURATION),
        _par("m", 2.0e-2, "1/d", "CD8⁺ death rate", (1e-4, 20.0)),
        _par("p", 1.0e-7, "1/(cell·d)", "NK inactivation by tumor", (0.0, 1e-4)),
        _par("q", 3.42e-10, "1/(cell·d)", "CD8⁺ inactivation by tumor", (0.0, 1e-4)),
        _par("r", 1.1e-7, "1/(cell·d)", "CD8⁺ activation by NK–tumor encounters", (0.0, 1e-4)),
    ),
    rhs=_rhs,
    initial={"T": 1.0e6, "N": 1.3e4 / 4.12e-2, "L": 0.0},
    tumor_state="T",
    effector_states=("N", "L"),
    inactivation_parameter="q",
    method="rodas4",
    parameter_sets=(
        ParameterSet(
            "patient9",
            {"d": 5.80, "lambda": 1.36, "s": 2.5e-1},
            _SRC,
            "human patient 9 (the defaults)",
        ),
        ParameterSet(
            "patient10",
            {"d": 4.23, "lambda": 1.43, "s": 3.6e-1},
            _SRC,
            "human patient 10 (single transcription; check against the paper)",
        ),
        ParameterSet(
            "mouse_ligand",
            {
                "a": 5.14e-1,
                "c": 3.5e-6,
                "g": 2.0e-1,
                "d": 7.17,
                "lambda": 0.75,
                "s": 0.40,
                "j": 3.0e-1,
                "k": 2.02e7,
            },
            _SRC,
            "mouse, ligand-transduced tumor (NK and CD8⁺ sides)",
        ),
        ParameterSet(
            "mouse_nonligand",
            {
                "a": 5.14e-1,
                "c": 3.23e-7,
                "g": 2.5e-2,
                "d": 1.43,
                "lambda": 0.58,
                "s": 2.73,
                "j": 3.75e-2,
                "k": 2.02e7,
            },
            _SRC,
            "mouse, non-transduced tumor",
        ),
    ),
    assumptions=(
        "Initial NK cells default to the tumor-free equilibrium sigma/f (3.16e5 cells); "
        "initial tumor-specific CD8⁺ T cells to 0 (recruited by the r·N·T term).",
    ),
)
