"""Documented modifications of the published models: checkpoint blockade and added effectors.

Neither is in the original papers; each is a stated assumption with its reference, and each adds
to a model rather than changing its published terms.

``checkpoint``
    Anti-PD-1/PD-L1 antibody as a new state ``A`` (antibody in the body, mg) with first-order
    elimination, ``dA/dt = −ln2/t_half_A · A + dosing``. Blockade lowers the model's effector
    inactivation by tumor cells (``m`` in Kuznetsov 1994, ``q`` in de Pillis 2005/2006, ``alpha``
    in CARTmath) by the fraction ``epsilon_A · A/(A + K_A)``. The form — checkpoint inhibition as
    reduced tumor-induced effector inactivation — follows Nikolopoulou E, Johnson LR, Harris D,
    Nagy JD, Stites EC, Kuang Y. Tumour-immune dynamics with an immune checkpoint inhibitor.
    Lett Biomath 2018;5(sup1):S137–S159. doi:10.1080/23737867.2018.1440978.
    ``t_half_A`` = 22 days: pembrolizumab's terminal half-life (KEYTRUDA prescribing information,
    Merck 2014–2024, §12.3). ``K_A`` = 7 mg: PD-1 receptor occupancy is saturated from 1 mg/kg
    (≈70 mg) on (Patnaik A et al. Clin Cancer Res 2015;21(19):4286–4293.
    doi:10.1158/1078-0432.CCR-14-2607), so 70 mg is set to give 91% of the maximal effect.
    ``epsilon_A`` = 0.5 (half of the tumor-induced inactivation is PD-1-mediated) is an
    assumption for illustration: calibrate it to a patient's data before reading numbers from it.
``cells``
    Adoptively transferred or in-vivo activated effector cells (γδ T cells after zoledronate +
    IL-2, NK cells, CIK, TIL) as an added source into the model's first effector state: a bolus
    adds cells, an infusion adds cells per day. This is the external source term ``s1`` of
    Kirschner D, Panetta JC. Modeling immunotherapy of the tumor-immune interaction. J Math Biol
    1998;37(3):235–252. doi:10.1007/s002850050127. Assumption: the added cells kill and die like
    the model's own effectors.

Examples
--------
>>> from immunoprecise.dynamics.models import get_model
>>> m = get_model("kuznetsov1994+checkpoint+cells")
>>> [i.name for i in m.inputs]
['anti-PD-1', 'effector cells']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from immunoprecise.dynamics.model import (
    FRACTION,
    HALF_SATURATION,
    Array,
    DosingInput,
    Limits,
    Model,
    Parameter,
    Params,
    State,
)
from immunoprecise.errors import ModelError

__all__ = ["MODIFICATIONS", "add_checkpoint_blockade", "add_effector_source", "modify"]

_NIKOLOPOULOU = "Nikolopoulou et al. 2018, Lett Biomath 5:S137, doi:10.1080/23737867.2018.1440978"
_KEYTRUDA = "KEYTRUDA (pembrolizumab) prescribing information, §12.3: terminal half-life 22 days"
_PATNAIK = "Patnaik et al. 2015, Clin Cancer Res 21:4286, doi:10.1158/1078-0432.CCR-14-2607"
_KIRSCHNER = "Kirschner & Panetta 1998, J Math Biol 37:235, doi:10.1007/s002850050127"


def add_checkpoint_blockade(model: Model) -> Model:
    """The model with an anti-PD-1/PD-L1 antibody state that lowers effector inactivation.

    Parameters
    ----------
    model
        A model that declares ``inactivation_parameter``.

    Returns
    -------
    Model
        Id ``<id>+checkpoint``; new state ``A`` (mg), input ``anti-PD-1`` (mg), parameters
        ``t_half_A``, ``K_A``, ``epsilon_A``.
    """
    target = model.inactivation_parameter
    if target is None:
        raise ModelError(f"model {model.id} has no effector-inactivation term to block")
    base_rhs = model.rhs
    n_states, n_inputs = len(model.states), len(model.inputs)
    log2 = float(np.log(2.0))

    def rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
        a = y[:, n_states]
        blocked = dict(p)
        blocked[target] = p[target] * (1.0 - p["epsilon_A"] * a / (a + p["K_A"]))
        dy = base_rhs(t, y[:, :n_states], blocked, u[:, :n_inputs])
        da = -log2 / p["t_half_A"] * a + u[:, n_inputs]
        return np.concatenate((dy, da[:, None]), axis=1)

    return replace(
        model,
        id=f"{model.id}+checkpoint",
        jacobian=None,  # the blocked parameter couples the new state in: finite differences
        title=f"{model.title}, with checkpoint blockade",
        states=(*model.states, State("A", "mg", "anti-PD-1/PD-L1 antibody in the body")),
        parameters=(
            *model.parameters,
            Parameter(
                "t_half_A",
                22.0,
                "d",
                "antibody elimination half-life",
                _KEYTRUDA,
                (5.0, 40.0),
                Limits(low_open=True, why="the elimination rate is ln2/t_half_A: it divides"),
            ),
            Parameter(
                "K_A",
                7.0,
                "mg",
                "antibody amount giving half the maximal blockade",
                _PATNAIK,
                (0.1, 100.0),
                HALF_SATURATION,
            ),
            Parameter(
                "epsilon_A",
                0.5,
                "1",
                "maximal fraction of inactivation blocked (assumption)",
                _NIKOLOPOULOU,
                (0.0, 1.0),
                FRACTION,
            ),
        ),
        inputs=(
            *model.inputs,
            DosingInput(
                "anti-PD-1",
                "A",
                "mg",
                "checkpoint antibody dose",
                aliases=(
                    "anti-PD-L1",
                    "pembrolizumab",
                    "nivolumab",
                    "atezolizumab",
                    "durvalumab",
                    "cemiplimab",
                    "dostarlimab",
                    "checkpoint",
                    "ICI",
                ),
            ),
        ),
        rhs=rhs,
        initial={**model.initial, "A": 0.0},
        assumptions=(
            *model.assumptions,
            f"Checkpoint blockade lowers {target} by epsilon_A·A/(A+K_A) ({_NIKOLOPOULOU}); "
            "epsilon_A = 0.5 is an assumption.",
        ),
    )


def add_effector_source(model: Model) -> Model:
    """The model with an input of effector cells into its first effector state.

    Returns
    -------
    Model
        Id ``<id>+cells``; new input ``effector cells`` (cells; cells/d as an infusion).
    """
    if not model.effector_states:
        raise ModelError(f"model {model.id} declares no effector state to add cells to")
    target = model.effector_states[0]
    col = model.state_index(target)
    base_rhs = model.rhs
    n_inputs = len(model.inputs)

    def rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
        dy = base_rhs(t, y, p, u[:, :n_inputs])
        dy[:, col] += u[:, n_inputs]
        return dy

    base_jacobian = model.jacobian

    def jacobian(t: Array, y: Array, p: Params, u: Array) -> Array:
        assert base_jacobian is not None
        return base_jacobian(t, y, p, u[:, :n_inputs])  # the added rate does not depend on y

    unit = next(s.unit for s in model.states if s.name == target)
    return replace(
        model,
        id=f"{model.id}+cells",
        jacobian=jacobian if base_jacobian is not None else None,
        title=f"{model.title}, with added effector cells",
        inputs=(
            *model.inputs,
            DosingInput(
                "effector cells",
                target,
                unit,
                f"adoptive or in-vivo activated effector cells into {target} ({_KIRSCHNER})",
                aliases=(
                    "cells",
                    "gdT",
                    "gamma-delta",
                    "gammadelta T",
                    "NK",
                    "CAR-NK",
                    "CIK",
                    "NKT",
                    "LAK",
                    "activated effectors",
                ),
            ),
        ),
        rhs=rhs,
        assumptions=(
            *model.assumptions,
            f"Added effector cells behave like the model's {target} cells ({_KIRSCHNER}).",
        ),
    )


MODIFICATIONS = {"checkpoint": add_checkpoint_blockade, "cells": add_effector_source}


def modify(model: Model, names: Sequence[str]) -> Model:
    """Apply modifications by name, in order; :class:`ModelError` for an unknown name."""
    out = model
    for name in names:
        if name not in MODIFICATIONS:
            raise ModelError(
                f"unknown model modification {name!r}; known: {', '.join(MODIFICATIONS)}"
            )
        out = MODIFICATIONS[name](out)
    return out
