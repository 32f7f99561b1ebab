"""Kuznetsov, Makalkin, Taylor & Perelson 1994: cytotoxic effector cells against a growing tumor.

    dE/dt = s + p·E·T/(g + T) − m·E·T − d·E
    dT/dt = a·T·(1 − b·T) − n·E·T

``E`` effector cells, ``T`` tumor cells. With the published parameters the system has a tumor-free
equilibrium (a saddle: the tumor grows when introduced), a dormant equilibrium (stable), a saddle
whose stable manifold separates dormancy from escape, and an escape equilibrium near the carrying
capacity 1/b (see :mod:`immunoprecise.dynamics.equilibria`).

Reference: Kuznetsov VA, Makalkin IA, Taylor MA, Perelson AS. Nonlinear dynamics of
immunogenic tumors: parameter estimation and global bifurcation analysis. Bull Math Biol
1994;56(2):295–321. doi:10.1007/BF02460644 (parameters fitted to BCL1 lymphoma in mice).
"""

from __future__ import annotations

import numpy as np

from immunoprecise.dynamics.model import HALF_SATURATION, Array, Model, Parameter, Params, State

__all__ = ["MODEL"]

_SRC = "Kuznetsov et al. 1994, Bull Math Biol 56:295, doi:10.1007/BF02460644"


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    e, tum = y[:, 0], y[:, 1]
    de = p["s"] + p["p"] * e * tum / (p["g"] + tum) - p["m"] * e * tum - p["d"] * e
    dt = p["a"] * tum * (1.0 - p["b"] * tum) - p["n"] * e * tum
    return np.stack((de, dt), axis=1)


MODEL = Model(
    id="kuznetsov1994",
    title="Kuznetsov, Makalkin, Taylor & Perelson 1994: effector–tumor model",
    reference=_SRC,
    states=(
        State("E", "cells", "cytotoxic effector cells at the tumor site"),
        State("T", "cells", "tumor cells"),
    ),
    parameters=(
        Parameter(
            "s", 1.3e4, "cells/d", "normal (non-tumor-induced) effector influx", _SRC, (0.0, 1e7)
        ),
        Parameter(
            "p", 0.1245, "1/d", "maximal tumor-driven effector proliferation", _SRC, (0.0, 2.0)
        ),
        Parameter(
            "g",
            2.019e7,
            "cells",
            "tumor size giving half-maximal proliferation",
            _SRC,
            (1e3, 1e11),
            HALF_SATURATION,  # p·E·T/(g + T): 0/0 without tumor at g = 0
        ),
        Parameter(
            "m", 3.422e-10, "1/(cell·d)", "effector inactivation by tumor cells", _SRC, (0.0, 1e-6)
        ),
        Parameter("n", 1.101e-7, "1/(cell·d)", "tumor-cell kill by effectors", _SRC, (0.0, 1e-4)),
        Parameter("d", 0.0412, "1/d", "effector death", _SRC, (1e-4, 2.0)),
        Parameter("a", 0.18, "1/d", "maximal tumor growth rate", _SRC, (1e-3, 2.0)),
        Parameter(
            "b", 2.0e-9, "1/cell", "inverse of the tumor carrying capacity", _SRC, (1e-13, 1e-5)
        ),
    ),
    rhs=_rhs,
    initial={"E": 3.155e5, "T": 1.0e6},
    tumor_state="T",
    effector_states=("E",),
    inactivation_parameter="m",
    assumptions=("Initial effectors default to the tumor-free equilibrium s/d (3.155e5 cells).",),
)
