"""A per-patient scipy ``solve_ivp`` reference, independent of the batched integrator.

Tests compare every model against it (Radau, rtol 1e-10) and ``benchmarks/dynamics.py`` uses it
as the per-patient baseline (LSODA).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from immunoprecise.dynamics.models import get_model
from immunoprecise.dynamics.regimen import Regimen
from immunoprecise.dynamics.simulate import dosing_segments
from immunoprecise.errors import ModelError

__all__ = ["scipy_reference"]


def scipy_reference(
    model_id: str,
    t_end: float,
    t_eval: npt.NDArray[np.float64],
    *,
    regimen: str | None = None,
    params: dict[str, Any] | None = None,
    initial: dict[str, Any] | None = None,
    parameter_set: str | None = None,
    method: str = "Radau",
    rtol: float = 1e-10,
    atol: float = 1e-10,
) -> npt.NDArray[np.float64]:
    """States ``[n_patients, n_times, n_states]`` from ``scipy.integrate.solve_ivp``, one patient
    at a time: the independent reference the batched integrator is checked against.

    Doses split the time axis into the same piecewise-constant segments; the tumor falling below
    one cell is a terminal event after which it is set to zero; a clock switch splits a segment.

    Parameters
    ----------
    model_id
        Model id (modifications allowed).
    t_end, t_eval
        Simulated days and output times.
    regimen, params, initial, parameter_set
        As for :func:`~immunoprecise.dynamics.simulate.simulate` (dicts of lists for several
        patients).
    method, rtol, atol
        The ``solve_ivp`` method and tolerances (``Radau``, 1e-10 for a reference; ``LSODA`` for
        the benchmark's per-patient baseline).

    Returns
    -------
    numpy.ndarray
        States at ``t_eval``.

    Examples
    --------
    >>> import numpy as np
    >>> y = scipy_reference("kuznetsov1994", 10.0, np.array([0.0, 10.0]))
    >>> y.shape
    (1, 2, 2)
    """
    model = get_model(model_id)
    reg = Regimen.parse(regimen) if regimen else None
    segments = dosing_segments(model, reg, t_end)
    n = max([len(np.atleast_1d(v)) for v in {**(params or {}), **(initial or {})}.values()] or [1])
    p_all = model.parameter_arrays(n, params, parameter_set=parameter_set)
    y0_all = np.array(
        [
            [
                np.broadcast_to(np.asarray((initial or {}).get(s, model.initial[s])), (n,))[i]
                for s in model.state_names
            ]
            for i in range(n)
        ],
        dtype=float,
    )
    tumor = model.state_index(model.tumor_state) if model.tumor_state else None
    clocks = [(model.state_index(c.state), c.parameter) for c in model.clocks]
    out = np.full((n, t_eval.size, len(model.states)), np.nan)
    for i in range(n):
        p = {k: v[i : i + 1] for k, v in p_all.items()}
        y = y0_all[i].copy()
        for seg in segments:
            for col, amount in seg.boluses:
                y[col] += amount
            for col in seg.resets:
                y[col] = 0.0
            at_start = np.isclose(t_eval, seg.start, rtol=0, atol=1e-9)
            out[i, at_start] = y
            # split the segment where a clock switches the dynamics
            cuts = [seg.start, seg.end]
            for col, name in clocks:
                switch = seg.start + (p[name][0] - y[col])
                if seg.start < switch < seg.end:
                    cuts.insert(1, switch)
            for a, b in itertools.pairwise(cuts):
                t0 = a
                while t0 < b:
                    rates = seg.rates[None, :]

                    def f(t: float, yy: Any, p: Any = p, rates: Any = rates) -> Any:
                        return model.rhs(np.array([t]), yy[None, :], p, rates)[0]

                    events = []
                    if tumor is not None and y[tumor] >= 1.0:

                        def below_one(t: float, yy: Any) -> float:
                            return float(yy[tumor] - 1.0)

                        below_one.terminal = True  # type: ignore[attr-defined]
                        below_one.direction = -1  # type: ignore[attr-defined]
                        events.append(below_one)
                    sol = solve_ivp(
                        f,
                        (t0, b),
                        y,
                        method=method,
                        rtol=rtol,
                        atol=atol,
                        dense_output=True,
                        events=events or None,
                    )
                    if not sol.success:
                        raise ModelError(f"scipy {method} failed: {sol.message}")
                    t_stop = sol.t[-1]
                    take = (t_eval >= t0 - 1e-9) & (t_eval <= t_stop + 1e-9)
                    if take.any() and sol.t.size > 1:
                        out[i, take] = sol.sol(t_eval[take]).T
                    y = sol.y[:, -1].copy()
                    if sol.status == 1:  # eradication
                        y[tumor] = 0.0
                    for col, name in clocks:
                        if abs(y[col] - p[name][0]) < 1e-8:
                            y[col] = p[name][0]
                    t0 = t_stop
        out[i, np.isclose(t_eval, t_end)] = y
    return out
