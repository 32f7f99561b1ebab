"""CARTmath (Barros et al. 2021): CAR-T effector and memory cells against a hematological tumor.

    dC_T/dt = φ·C_T − ρ·C_T − μ_T·C_T + θ·T·C_M − α·T·C_T
    dC_M/dt = ε·ρ·C_T − θ·T·C_M − μ_M·C_M
    dT/dt   = r·T·(1 − b·T) − γ·T·C_T

Effector CAR-T cells expand, die, become memory cells and are inhibited by tumor cells; memory
cells turn back into effectors on meeting tumor cells. Default parameters: HDLM-2 Hodgkin
lymphoma xenografts treated with CAR-T123; the ``RAJI`` set is the B-cell lymphoma line treated
with CAR-T19 (with ``RAJI_IDO`` and ``RAJI_IDO_1MT`` variants of the inhibition α).

Reference: Barros LRC, Paixão EA, Valli AMP, Naozuka GT, Fassoni AC, Almeida RC. CARTmath—A
Mathematical Model of CAR-T Immunotherapy in Preclinical Studies of Hematological Cancers.
Cancers 2021;13(12):2941. doi:10.3390/cancers13122941. Values as in the authors' code
(github.com/tmglncc/CARTmath, ``server.R``; doi:10.5281/zenodo.4450376).
"""

from __future__ import annotations

import numpy as np

from immunoprecise.dynamics.model import (
    Array,
    DosingInput,
    Model,
    Parameter,
    ParameterSet,
    Params,
    State,
)

__all__ = ["MODEL"]

_SRC = "Barros et al. 2021, Cancers 13:2941, doi:10.3390/cancers13122941 (CARTmath code)"


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    ct, cm, tum = y[:, 0], y[:, 1], y[:, 2]
    dct = (p["phi"] - p["rho"] - p["mu_T"]) * ct + p["theta"] * tum * cm - p["alpha"] * tum * ct
    dcm = p["epsilon"] * p["rho"] * ct - p["theta"] * tum * cm - p["mu_M"] * cm
    dt = p["r"] * tum * (1 - p["b"] * tum) - p["gamma"] * tum * ct
    return np.stack((dct, dcm, dt), axis=1)


def _par(name: str, value: float, unit: str, what: str, bounds: tuple[float, float]) -> Parameter:
    return Parameter(name, value, unit, what, _SRC, bounds)


MODEL = Model(
    id="cartmath2021",
    title="Barros et al. 2021 (CARTmath): CAR-T effector, memory and tumor",
    reference=_SRC,
    states=(
        State("C_T", "cells", "effector CAR-T cells"),
        State("C_M", "cells", "memory CAR-T cells"),
        State("T", "cells", "tumor cells"),
    ),
    parameters=(
        _par("phi", 0.265, "1/d", "effector CAR-T proliferation", (0.0, 3.0)),
        _par("rho", 5.0e-2, "1/d", "effector → memory differentiation", (0.0, 2.0)),
        _par("mu_T", 0.3, "1/d", "effector CAR-T death", (0.0, 3.0)),
        _par("epsilon", 3.0, "1", "memory cells gained per differentiated effector", (0.0, 10.0)),
        _par(
            "theta",
            6.0e-6,
            "1/(cell·d)",
            "memory → effector conversion on tumor contact",
            (0.0, 1e-2),
        ),
        _par("alpha", 4.5e-8, "1/(cell·d)", "effector inhibition by tumor cells", (0.0, 1e-5)),
        _par("mu_M", 5.0e-3, "1/d", "memory CAR-T death", (0.0, 1.0)),
        _par("r", 5.650026e-2, "1/d", "tumor proliferation", (1e-3, 2.0)),
        _par("b", 1.404029e-12, "1/cell", "inverse tumor carrying capacity", (0.0, 1e-6)),
        _par("gamma", 3.715843e-6, "1/(cell·d)", "tumor kill by effector CAR-T", (0.0, 1e-3)),
    ),
    rhs=_rhs,
    initial={"C_T": 0.0, "C_M": 0.0, "T": 2.0e6},
    inputs=(
        DosingInput(
            "CAR-T",
            "C_T",
            "cells",
            "CAR-T cell infusion (into effectors)",
            aliases=(
                "CART",
                "CAR T",
                "CAR-T19",
                "CAR-T123",
                "tisagenlecleucel",
                "axicabtagene",
                "lisocabtagene",
                "idecabtagene",
                "ciltacabtagene",
                "brexucabtagene",
                "obecabtagene",
            ),
        ),
    ),
    tumor_state="T",
    effector_states=("C_T",),
    inactivation_parameter="alpha",
    parameter_sets=(
        ParameterSet("HDLM2", {}, _SRC, "HDLM-2 Hodgkin lymphoma, CAR-T123 (the defaults)"),
        ParameterSet(
            "RAJI",
            {
                "r": 5.071721e-1,
                "b": 0.0,
                "gamma": 3.365388e-8,
                "phi": 0.83,
                "mu_T": 0.3000536,
                "alpha": 1.248506e-8,
                "rho": 0.53,
                "epsilon": 3.015,
                "mu_M": 6.89e-7,
                "theta": 2.3e-4,
            },
            _SRC,
            "RAJI B-cell lymphoma, CAR-T19",
        ),
        ParameterSet(
            "RAJI_IDO",
            {
                "r": 5.071721e-1,
                "b": 0.0,
                "gamma": 3.365388e-8,
                "phi": 0.83,
                "mu_T": 0.3000536,
                "alpha": 1.461699e-8,
                "rho": 0.53,
                "epsilon": 3.015,
                "mu_M": 6.89e-7,
                "theta": 2.3e-4,
            },
            _SRC,
            "RAJI expressing IDO (stronger CAR-T inhibition)",
        ),
        ParameterSet(
            "RAJI_IDO_1MT",
            {
                "r": 5.071721e-1,
                "b": 0.0,
                "gamma": 3.365388e-8,
                "phi": 0.83,
                "mu_T": 0.3000536,
                "alpha": 1.261662e-8,
                "rho": 0.53,
                "epsilon": 3.015,
                "mu_M": 6.89e-7,
                "theta": 2.3e-4,
            },
            _SRC,
            "RAJI-IDO with the IDO inhibitor 1-methyl-tryptophan",
        ),
    ),
    assumptions=(
        "Initial tumor 2e6 cells and no CAR-T cells before the first infusion, as in the "
        "HDLM-2 experiments of the paper.",
    ),
)
