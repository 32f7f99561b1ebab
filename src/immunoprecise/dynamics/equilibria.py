"""Equilibria of a model and their stability from the eigenvalues of the Jacobian.

For Kuznetsov et al. 1994 the equilibria are exact: with ``E = a(1 − bT)/n`` from ``dT/dt = 0``,
``dE/dt = 0`` becomes a cubic in ``T`` whose real roots in ``(0, 1/b)`` are the tumor-bearing
equilibria; with ``T = 0`` the tumor-free one is ``E = s/d``.

Examples
--------
>>> [e.label for e in kuznetsov_equilibria()]
['tumor-free', 'dormant', 'saddle', 'escape']
>>> kuznetsov_equilibria()[1].kind
'stable focus'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from immunoprecise.dynamics.model import Array, Model
from immunoprecise.dynamics.models import get_model

__all__ = ["Equilibrium", "classify", "jacobian", "kuznetsov_equilibria"]


@dataclass(frozen=True)
class Equilibrium:
    """A steady state: values, Jacobian eigenvalues, stability kind and a domain label."""

    state: dict[str, float]
    eigenvalues: tuple[complex, ...]
    kind: str
    label: str

    @property
    def stable(self) -> bool:
        """All eigenvalues have negative real part."""
        return all(ev.real < 0 for ev in self.eigenvalues)


def classify(eigenvalues: npt.ArrayLike) -> str:
    """Name the stability of an equilibrium from its eigenvalues.

    Returns one of ``stable node``, ``stable focus``, ``unstable node``, ``unstable focus``,
    ``saddle``, ``center`` or ``non-hyperbolic``.

    Examples
    --------
    >>> classify(np.array([-1.0, 2.0]))
    'saddle'
    """
    ev = np.asarray(eigenvalues, dtype=complex)
    re, im = ev.real, ev.imag
    scale = max(1.0, float(np.max(np.abs(ev))))
    if np.any(np.abs(re) < 1e-12 * scale):
        return "center" if np.all(np.abs(re) < 1e-12 * scale) else "non-hyperbolic"
    if np.any(re > 0) and np.any(re < 0):
        return "saddle"
    oscillating = bool(np.any(np.abs(im) > 1e-12 * scale))
    side = "stable" if np.all(re < 0) else "unstable"
    return f"{side} {'focus' if oscillating else 'node'}"


def jacobian(model: Model, y: Array, params: Mapping[str, float]) -> Array:
    """Jacobian of the right-hand side at state ``y`` (central differences, untreated).

    Parameters
    ----------
    model
        The model.
    y
        State, shape ``[n_states]`` (state units).
    params
        Parameter values (model defaults for those not given).
    """
    y = np.asarray(y, dtype=np.float64)
    s = y.size
    p = model.parameter_arrays(2 * s, dict(params))
    h = 1e-6 * np.maximum(np.abs(y), 1.0)
    yy = np.repeat(y[None, :], 2 * s, axis=0)
    for j in range(s):
        yy[2 * j, j] += h[j]
        yy[2 * j + 1, j] -= h[j]
    f = model.rhs(np.zeros(2 * s), yy, p, np.zeros((2 * s, len(model.inputs))))
    jac = np.empty((s, s))
    for j in range(s):
        jac[:, j] = (f[2 * j] - f[2 * j + 1]) / (2 * h[j])
    return jac


def kuznetsov_equilibria(params: Mapping[str, float] | None = None) -> list[Equilibrium]:
    """All equilibria of Kuznetsov et al. 1994 with non-negative cells, classified.

    Parameters
    ----------
    params
        Parameter values; the published ones by default.

    Returns
    -------
    list of Equilibrium
        Ordered by tumor size. Labels: ``tumor-free``; among tumor-bearing ones, a stable one
        below a saddle is ``dormant``, the saddle is ``saddle``, a stable one above it ``escape``.
    """
    model = get_model("kuznetsov1994")
    v = model.defaults()
    v.update(params or {})
    s, p, g, m, n, d, a, b = (v[k] for k in ("s", "p", "g", "m", "n", "d", "a", "b"))
    c = a / n
    r = p - m * g - d
    coeffs = [c * b * m, -c * m - c * b * r, c * r + c * b * d * g + s, s * g - c * d * g]
    roots = np.roots(coeffs)
    tumors = sorted(
        float(t.real) for t in roots if abs(t.imag) < 1e-9 * abs(t) and 0 < t.real < 1 / b
    )
    points = [(s / d, 0.0)] + [(c * (1 - b * t), t) for t in tumors]
    out: list[Equilibrium] = []
    for e, t in points:
        y = np.array([e, t])
        ev = np.linalg.eigvals(jacobian(model, y, v))
        out.append(Equilibrium({"E": e, "T": t}, tuple(complex(x) for x in ev), classify(ev), ""))
    labelled = [_label(eq, i, out) for i, eq in enumerate(out)]
    return labelled


def _label(eq: Equilibrium, i: int, all_eq: list[Equilibrium]) -> Equilibrium:
    if i == 0:
        label = "tumor-free"
    elif eq.kind == "saddle":
        label = "saddle"
    else:
        saddles = [x.state["T"] for x in all_eq[1:] if x.kind == "saddle"]
        below = eq.stable and saddles and eq.state["T"] < min(saddles)
        label = "dormant" if below else ("escape" if eq.stable else "unstable")
    return Equilibrium(eq.state, eq.eigenvalues, eq.kind, label)
