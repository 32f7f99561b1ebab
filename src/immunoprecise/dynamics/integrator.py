"""One batched adaptive integrator for every model: many virtual patients advance at once.

Each patient keeps its own time, step size and error control; the arithmetic of a step is done for
all active patients together as numpy array operations over ``[n_patients, n_states]``, so the
Python overhead of one step is paid once per batch rather than once per patient. Two methods:

``dopri5``
    Dormand & Prince 5(4) with the free 4th-order dense output of Hairer's DOPRI5 (the tableau and
    interpolant of :class:`scipy.integrate.RK45`; a test checks the coefficients against scipy).
    Dormand JR, Prince PJ. A family of embedded Runge-Kutta formulae. J Comput Appl Math
    1980;6(1):19–26. doi:10.1016/0771-050X(80)90013-3. Hairer E, Nørsett SP, Wanner G. Solving
    Ordinary Differential Equations I, 2nd ed. Springer 1993, §II.6.
``rodas4``
    Hairer & Wanner's RODAS: an L-stable, stiffly accurate Rosenbrock 4(3) method with 3rd-order
    dense output (6 right-hand-side evaluations, one Jacobian and one batched LU factorization per
    step), for stiff parameter sets — e.g. the de Pillis models, where NK inactivation p·T
    reaches thousands per day once the tumor is large. Hairer E, Wanner G. Solving Ordinary
    Differential Equations II: Stiff and Differential-Algebraic Problems, 2nd ed. Springer 1996,
    §VI.4. doi:10.1007/978-3-642-05221-7.
``rosenbrock23``
    The linearly implicit Rosenbrock 2(3) pair of MATLAB's ode23s, for stiff parameter sets, with a
    finite-difference Jacobian evaluated for the whole batch in one right-hand-side call.
    Shampine LF, Reichelt MW. The MATLAB ODE Suite. SIAM J Sci Comput 1997;18(1):1–22.
    doi:10.1137/S1064827594276424.

Doses split the time axis into segments: boluses are applied at a segment's start to all patients,
infusion rates are constant within it, so no step straddles a dose. Events are located inside a
step on the dense output by bisection: the tumor falling below one cell (eradication: the tumor is
set to zero from then on) and user thresholds (first crossing time per patient; a dose that makes
a state jump across a threshold crosses it at the dose time).

Why numpy and not a compiled per-patient loop: measured in ``benchmarks/dynamics.py``, the batched
numpy integrator meets the speed target against a per-patient ``solve_ivp`` loop without a
compiler in the dependency tree (see ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from immunoprecise.dynamics.linear_solve import BatchedLU
from immunoprecise.dynamics.model import Array, Jacobian, Params, RightHandSide
from immunoprecise.errors import ModelError

__all__ = [
    "DOPRI5_A",
    "DOPRI5_B",
    "DOPRI5_C",
    "DOPRI5_E",
    "DOPRI5_P",
    "Crossing",
    "Direction",
    "IntegrationResult",
    "Method",
    "Segment",
    "integrate",
]

Method = Literal["dopri5", "rodas4", "rosenbrock23"]
Direction = Literal["down", "up", "both"]
METHODS: tuple[str, ...] = ("dopri5", "rodas4", "rosenbrock23")

# Dormand–Prince 5(4): the coefficients of scipy.integrate.RK45 (tests compare them).
DOPRI5_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
DOPRI5_A = np.array(
    [
        [0, 0, 0, 0, 0],
        [1 / 5, 0, 0, 0, 0],
        [3 / 40, 9 / 40, 0, 0, 0],
        [44 / 45, -56 / 15, 32 / 9, 0, 0],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    ]
)
DOPRI5_B = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
DOPRI5_E = np.array([-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
DOPRI5_P = np.array(
    [
        [1, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
        [0, 0, 0, 0],
        [0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
        [0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
        [
            0,
            127303824393 / 49829197408,
            -318862633887 / 49829197408,
            701980252875 / 199316789632,
        ],
        [0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
        [0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
    ]
)

# Rodas4 (Hairer & Wanner 1996, §VI.4): L-stable, stiffly accurate Rosenbrock 4(3) with a
# 3rd-order dense output; coefficients of Hairer's RODAS code in the increment form.
_RODAS_GAMMA = 0.25
_RODAS_A = (
    (1.544,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
)
_RODAS_C = (
    (-5.6688,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (
        8.083246795921522,
        -7.981132988064893,
        -31.52159432874371,
        16.31930543123136,
        -6.058818238834054,
    ),
)
# the same coefficients as arrays, for the stage combinations
_RODAS_A_ARR = [np.array(row) for row in _RODAS_A]
_RODAS_C_ARR = [np.array(row) for row in _RODAS_C]
_RODAS_X = (0.386, 0.21, 0.63, 1.0, 1.0)  # abscissae of stages 2–6
_RODAS_H = (
    (
        10.12623508344586,
        -7.487995877610167,
        -34.80091861555747,
        -7.992771707568823,
        1.025137723295662,
    ),
    (
        -0.6762803392801253,
        6.087714651680015,
        16.43084320892478,
        24.76722511418386,
        -6.594389125716872,
    ),
)
_RODAS_H_ARR = [np.array(row) for row in _RODAS_H]

# Rosenbrock 2(3) of ode23s (Shampine & Reichelt 1997).
_RB_D = 1.0 / (2.0 + np.sqrt(2.0))
_RB_E32 = 6.0 + np.sqrt(2.0)

_ERROR_ORDER = {"dopri5": 5.0, "rodas4": 4.0, "rosenbrock23": 3.0}
_STIFF_STEPS = 15
_SAFETY = 0.9
_MIN_FACTOR = 0.2
_MAX_FACTOR = 10.0
_NEGATIVE_ATOL = 1000.0
"""A state meant to stay ≥ 0 that falls below −1000·atol has really crossed zero: the error
control keeps a correct solution within about atol of the truth, so a dip a thousand times
deeper is the model's (or its parameters') doing, not rounding."""
_BLOW_UP_GROWTH = 1e6
"""A failing patient whose largest state has grown a millionfold from its start, and still grows,
is diagnosed as blowing up rather than as stiff."""
_BISECTIONS = 36  # events located to 2^-36 of a step: < 1e-10 days for steps up to 6 days


@dataclass(frozen=True)
class Segment:
    """A time interval with constant infusion rates and the boluses given at its start.

    ``rates``: one rate per dosing input (input unit per day). ``boluses``: (state column, amount
    in state units) pairs added at ``start``; ``resets``: state columns set to 0 at ``start``.
    """

    start: float
    end: float
    rates: Array
    boluses: tuple[tuple[int, float], ...] = ()
    resets: tuple[int, ...] = ()


@dataclass(frozen=True)
class Crossing:
    """A threshold whose first crossing time is recorded per patient.

    ``direction``: ``down`` (from above the threshold to at or below it), ``up`` (from below to
    at or above) or ``both``. A bolus or reset that makes the state jump across the threshold is
    a crossing at the dose time.
    """

    name: str
    state: int
    threshold: float
    direction: Direction = "both"

    def crossed(self, before: Array, after: Array) -> npt.NDArray[np.bool_]:
        """Whether the state went from ``before`` to ``after`` across the threshold."""
        b = before - self.threshold
        a = after - self.threshold
        if self.direction == "down":
            return np.asarray((b > 0) & (a <= 0))
        if self.direction == "up":
            return np.asarray((b < 0) & (a >= 0))
        return np.asarray((b * a <= 0) & (b != 0))


@dataclass
class IntegrationResult:
    """What :func:`integrate` returns: states at the output times, status and event times.

    ``y`` has shape ``[n_patients, n_times, n_states]``; rows of failed patients hold NaN after the
    failure. ``status`` is 0 for success, 1 for failure, 2 for a patient stopped because its
    problem turned stiff (``messages`` says why in words).
    """

    t: Array
    y: Array
    status: npt.NDArray[np.int8]
    messages: list[str]
    crossing_times: dict[str, Array]
    eradication_time: Array
    steps: npt.NDArray[np.int64]
    rejected: npt.NDArray[np.int64]
    rhs_evaluations: int = 0
    method: str = "dopri5"
    extras: dict[str, object] = field(default_factory=dict)


@dataclass
class _Batch:
    """The active patients of one segment (indices into the full batch) and their solver state."""

    idx: npt.NDArray[np.intp]
    t: Array
    y: Array
    f: Array
    h: Array
    p: dict[str, Array]
    rejected_once: npt.NDArray[np.bool_]
    clock_hits: list[tuple[int, str, npt.NDArray[np.bool_]]] = field(default_factory=list)
    p_repeated: dict[str, Array] | None = None

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        self.idx = self.idx[mask]
        self.t = self.t[mask]
        self.y = self.y[mask]
        self.f = self.f[mask]
        self.h = self.h[mask]
        self.p = {k: v[mask] for k, v in self.p.items()}
        self.rejected_once = self.rejected_once[mask]
        self.p_repeated = None


def integrate(
    rhs: RightHandSide,
    y0: Array,
    params: Params,
    segments: Sequence[Segment],
    t_eval: Array,
    *,
    rtol: float = 1e-6,
    atol: float | Array = 1e-6,
    method: Method = "dopri5",
    tumor_state: int | None = None,
    crossings: Sequence[Crossing] = (),
    clocks: Sequence[tuple[int, str]] = (),
    max_steps: int = 200_000,
    detect_stiffness: bool = False,
    progress: Callable[[float], None] | None = None,
    jacobian: Jacobian | None = None,
    state_names: Sequence[str] | None = None,
    nonnegative: Sequence[bool] | None = None,
) -> IntegrationResult:
    """Integrate a batch of patients through a sequence of dosing segments.

    Parameters
    ----------
    rhs
        Batched right-hand side ``rhs(t, y, p, u)`` (see
        :class:`~immunoprecise.dynamics.model.Model`).
    y0
        Initial states, shape ``[n_patients, n_states]``.
    params
        One array of shape ``[n_patients]`` per parameter.
    segments
        Contiguous intervals covering ``[t0, t_end]`` in order.
    t_eval
        Output times (days), increasing, within ``[t0, t_end]``. At a dose time the output is the
        state just after the dose.
    rtol, atol
        Relative and absolute tolerances of the per-patient error control (``atol`` may be one per
        state).
    method
        ``dopri5`` (explicit, default), ``rodas4`` (stiff, 4th order) or ``rosenbrock23``
        (stiff, 2nd order, most robust).
    tumor_state
        Column of the tumor state: falling below one cell is eradication (set to 0, time recorded).
    crossings
        Thresholds whose first crossing times are recorded.
    clocks
        (state column, parameter name) pairs: the step ends exactly where the clock state reaches
        the parameter (a switch in the dynamics).
    max_steps
        Steps per patient before giving up on that patient.
    detect_stiffness
        With ``dopri5``: stop a patient whose problem turns stiff with ``status`` 2, so that the
        caller can rerun it with a stiff method. Hairer's test: h·λ > 3.25 on 15 accepted steps
        without 6 calm steps in a row (Hairer, Nørsett & Wanner 1993, §IV.2).
    progress
        Called with the fraction of simulated time done (0–1) after each segment.
    jacobian
        Analytic Jacobian of ``rhs`` for the stiff methods (default: batched forward
        differences).
    state_names
        Names of the states, for the diagnoses in ``messages`` (default ``state 0``, ...).
    nonnegative
        Per state, whether it must stay ≥ 0 (cells, concentrations): a patient whose state
        falls below −1000·atol is stopped (``status`` 1) with a diagnosis naming the state,
        instead of going on with a negative population. Default: no such check.

    A patient that fails is diagnosed in ``messages``: a state that crossed zero, a blow-up
    (a state grown a millionfold and still growing), a right-hand side that gave NaN or infinite
    values, stiffness, or too many steps. Its outputs after the failure are NaN and its
    ``status`` is 1, so that no number is reported from a failed integration.

    Returns
    -------
    IntegrationResult
        States at ``t_eval``, status, crossing and eradication times, step statistics.

    Examples
    --------
    >>> import numpy as np
    >>> decay = lambda t, y, p, u: -p["k"][:, None] * y
    >>> seg = [Segment(0.0, 2.0, np.zeros(0))]
    >>> res = integrate(decay, np.ones((2, 1)), {"k": np.array([1.0, 2.0])}, seg,
    ...                 np.array([0.0, 1.0, 2.0]), rtol=1e-9, atol=1e-12)
    >>> np.allclose(res.y[:, :, 0], np.exp(-np.outer([1.0, 2.0], [0, 1, 2])), rtol=1e-7)
    True
    """
    if method not in METHODS:
        raise ModelError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    y_all = np.array(y0, dtype=np.float64, copy=True)
    n, s = y_all.shape
    t_eval = np.asarray(t_eval, dtype=np.float64)
    if not segments:
        raise ModelError("nothing to integrate: no time segments")
    t0, t_final = segments[0].start, segments[-1].end
    if t_eval.size and (t_eval[0] < t0 - 1e-12 or t_eval[-1] > t_final + 1e-9):
        raise ModelError(f"output times must lie within [{t0}, {t_final}] days")
    if t_eval.size > 1 and np.any(np.diff(t_eval) <= 0):
        raise ModelError("output times must be strictly increasing")
    atol_arr = np.broadcast_to(np.asarray(atol, dtype=np.float64), (s,)).copy()
    names = tuple(state_names) if state_names is not None else tuple(f"state {k}" for k in range(s))
    if len(names) != s:
        raise ModelError(f"{len(names)} state names for {s} states")
    keep_positive = np.zeros(s, dtype=bool) if nonnegative is None else np.asarray(nonnegative)
    if keep_positive.shape != (s,):
        raise ModelError(f"{keep_positive.size} nonnegative flags for {s} states")
    floor = np.where(keep_positive, -_NEGATIVE_ATOL * atol_arr, -np.inf)
    if tumor_state is not None:  # its fall below one cell is eradication, located in the step
        floor[tumor_state] = -np.inf
    run = _Run(
        rhs=rhs,
        jacobian=jacobian,
        params={k: np.asarray(v, dtype=np.float64) for k, v in params.items()},
        t_eval=t_eval,
        out=np.full((n, t_eval.size, s), np.nan),
        next_k=np.zeros(n, dtype=np.intp),
        rtol=rtol,
        atol=atol_arr,
        method=method,
        tumor=tumor_state,
        crossings=tuple(crossings),
        clocks=tuple(clocks),
        max_steps=max_steps,
        detect_stiff=detect_stiffness and method == "dopri5",
        stiff_count=np.zeros(n, dtype=np.int64),
        calm_count=np.zeros(n, dtype=np.int64),
        h_last=np.full(n, np.nan),
        status=np.zeros(n, dtype=np.int8),
        messages=[""] * n,
        crossing_times={c.name: np.full(n, np.nan) for c in crossings},
        eradication_time=np.full(n, np.nan),
        steps=np.zeros(n, dtype=np.int64),
        rejected=np.zeros(n, dtype=np.int64),
        names=names,
        floor=floor,
        y_start=y_all.copy(),
    )
    span = max(t_final - t0, 1e-300)
    for seg in segments:
        ok = run.status == 0
        if seg.boluses or seg.resets:
            before = y_all.copy()
            for col, amount in seg.boluses:
                y_all[ok, col] += amount
            for col in seg.resets:
                y_all[ok, col] = 0.0
            run.dose_crossings(before, y_all, seg.start)
        run.emit_at(y_all, seg.start)
        if seg.end > seg.start:
            run.segment(y_all, seg)
        if progress is not None:
            progress((seg.end - t0) / span)
    run.emit_at(y_all, t_final, final=True)
    return IntegrationResult(
        t=t_eval,
        y=run.out,
        status=run.status,
        messages=run.messages,
        crossing_times=run.crossing_times,
        eradication_time=run.eradication_time,
        steps=run.steps,
        rejected=run.rejected,
        rhs_evaluations=run.rhs_evaluations,
        method=method,
    )


@dataclass
class _Run:
    """Mutable state of one integration (kept private; :func:`integrate` is the interface)."""

    rhs: RightHandSide
    jacobian: Jacobian | None
    params: dict[str, Array]
    t_eval: Array
    out: Array
    next_k: npt.NDArray[np.intp]
    rtol: float
    atol: Array
    method: Method
    tumor: int | None
    crossings: tuple[Crossing, ...]
    clocks: tuple[tuple[int, str], ...]
    max_steps: int
    detect_stiff: bool
    stiff_count: npt.NDArray[np.int64]
    calm_count: npt.NDArray[np.int64]
    h_last: Array
    status: npt.NDArray[np.int8]
    messages: list[str]
    crossing_times: dict[str, Array]
    eradication_time: Array
    steps: npt.NDArray[np.int64]
    rejected: npt.NDArray[np.int64]
    names: tuple[str, ...] = ()
    floor: Array = field(default_factory=lambda: np.zeros(0))
    y_start: Array = field(default_factory=lambda: np.zeros(0))
    rhs_evaluations: int = 0
    _stiffness: Array = field(default_factory=lambda: np.zeros(0))

    # -- helpers -----------------------------------------------------------------------------
    def f(self, t: Array, y: Array, p: Params, u: Array) -> Array:
        self.rhs_evaluations += y.shape[0]
        # non-finite rates reject the step and are diagnosed if the patient fails (failure_reason)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return self.rhs(t, y, p, u)

    def emit_at(self, y_all: Array, t: float, *, final: bool = False) -> None:
        """Emit outputs at (or, when final, up to) time ``t`` for all patients, from ``y_all``."""
        tol = 1e-9 * max(1.0, abs(t))
        te = self.t_eval
        k = self.next_k
        ok = self.status == 0
        while te.size:
            valid = k < te.size
            tk = np.where(valid, te[np.minimum(k, te.size - 1)], np.inf)
            want = valid & (tk <= t + tol)
            if not np.any(want):
                break
            here = want & ok & (final | (tk >= t - tol))
            self.out[here, k[here]] = y_all[here]
            k = np.where(want, k + 1, k)
        self.next_k = k

    def dose_crossings(self, before: Array, after: Array, t: float) -> None:
        """Record at time ``t`` the pending thresholds that a dose (a bolus or a reset) made a
        state jump across."""
        ok = self.status == 0
        for c in self.crossings:
            rec = self.crossing_times[c.name]
            hit = ok & np.isnan(rec) & c.crossed(before[:, c.state], after[:, c.state])
            rec[hit] = t

    def fail(self, idx: npt.NDArray[np.intp], t: Array, why: str) -> None:
        for i, ti in zip(idx.tolist(), t.tolist(), strict=True):
            self.status[i] = 1
            self.messages[i] = f"stopped at day {ti:.4g}: {why}"

    def below_floor(self, y: Array) -> npt.NDArray[np.bool_]:
        """Rows of ``y`` with a state meant to stay ≥ 0 fallen below its floor."""
        return np.asarray(np.any(y < self.floor, axis=1))

    def negative_reason(self, y_try: Array, f: Array) -> str:
        """Why a patient whose every step takes a state below zero stops (``y_try``: the last
        attempted state; ``f``: the rates at the last accepted one)."""
        depth = np.where(np.isfinite(self.floor), y_try / np.maximum(-self.floor, 1e-300), 0.0)
        k = int(np.argmin(depth))
        return (
            f"{self.names[k]} reaches zero and would become negative (rate {f[k]:.3g} per "
            "day); populations and concentrations cannot fall below zero, so the model or its "
            "parameters are outside their valid range; no values are reported after this day"
        )

    def failure_reason(self, i: int, y: Array, f: Array, y_try: Array, over: bool) -> str:
        """Diagnose why patient ``i`` (last accepted state ``y``, rate ``f``, last attempted
        state ``y_try``) could not go on."""
        if not np.all(np.isfinite(f)) or not np.all(np.isfinite(y_try)):
            k = int(np.argmax(~np.isfinite(f) | ~np.isfinite(y_try)))
            return (
                f"the model's right-hand side gave NaN or infinite values near "
                f"{self.names[k]} = {y[k]:.3g} (a formula evaluated outside its domain, or "
                "a parameter out of range); no values are reported after this day"
            )
        start = np.maximum(np.abs(self.y_start[i]), 1.0)
        growth = np.abs(y) / start
        k = int(np.argmax(growth))
        if growth[k] > _BLOW_UP_GROWTH and y[k] * f[k] > 0:
            return (
                f"{self.names[k]} grew from {self.y_start[i, k]:.3g} to {y[k]:.3g} and is still "
                f"rising (rate {f[k]:.3g} per day): the solution blows up for these parameters "
                "and initial states; no values are reported after this day"
            )
        reason = "too many steps" if over else "step size became too small"
        return (
            f"{reason} (the model is stiff for these parameters: try method='rodas4' or "
            "'rosenbrock23', or check the parameters)"
        )

    # -- one segment ---------------------------------------------------------------------------
    def segment(self, y_all: Array, seg: Segment) -> None:
        idx = np.flatnonzero(self.status == 0)
        if idx.size == 0:
            return
        m = idx.size
        u = np.broadcast_to(np.asarray(seg.rates, dtype=np.float64), (m, len(seg.rates)))
        p = {k: v[idx] for k, v in self.params.items()}
        t = np.full(m, seg.start)
        y = y_all[idx].copy()
        f0 = self.f(t, y, p, u)
        carried = self.h_last[idx]
        if np.all(np.isfinite(carried)):  # continue with each patient's last step size
            h0 = np.minimum(carried, seg.end - t)
        else:
            h0 = self._initial_step(t, y, f0, p, u, seg.end)
        b = _Batch(idx, t, y, f0, h0, p, np.zeros(m, dtype=bool))
        t_end = seg.end
        while b.idx.size:
            u = u[: b.idx.size]
            self._limit_step(b, t_end)
            if self.method == "dopri5":
                y_new, f_new, err, dense = self._dopri5(b, u)
            elif self.method == "rodas4":
                y_new, f_new, err, dense = self._rodas4(b, u)
            else:
                y_new, f_new, err, dense = self._rosenbrock(b, u)
            order = _ERROR_ORDER[self.method]
            scale = self.atol + self.rtol * np.maximum(np.abs(b.y), np.abs(y_new))
            with np.errstate(invalid="ignore", over="ignore"):
                err_norm = np.sqrt(np.mean((err / scale) ** 2, axis=1))
            finite = np.isfinite(err_norm) & np.all(np.isfinite(y_new), axis=1)
            accept = finite & (err_norm <= 1.0)
            # a step that would take a population below zero is refused and retried shorter;
            # a patient whose step shrinks to nothing at zero has a state that really crosses it
            negative = accept & self.below_floor(y_new)
            accept &= ~negative
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                factor = np.where(
                    err_norm == 0.0,
                    _MAX_FACTOR,
                    np.clip(_SAFETY * err_norm ** (-1.0 / order), _MIN_FACTOR, _MAX_FACTOR),
                )
            factor = np.where(finite, factor, 0.25)
            factor = np.where(negative, 0.5, factor)
            factor = np.where(accept & b.rejected_once, np.minimum(factor, 1.0), factor)
            h_used = b.h.copy()
            t_new = b.t + h_used
            land = accept & (np.abs(t_end - t_new) <= 1e-12 * max(1.0, abs(t_end)))
            t_new[land] = t_end
            if np.any(accept):
                a = np.flatnonzero(accept)
                self._accept(b, a, t_new, y_new, f_new, dense, u)
            b.h = np.where(accept, h_used * factor, np.maximum(factor, _MIN_FACTOR) * h_used)
            b.rejected_once = ~accept
            self.rejected[b.idx[~accept]] += 1
            # Failures: step too small, too many steps.
            tiny = b.h < 16 * np.finfo(float).eps * np.maximum(np.abs(b.t), 1.0)
            over = self.steps[b.idx] >= self.max_steps
            if self.detect_stiff:
                stiff = (self.stiff_count[b.idx] >= _STIFF_STEPS) & (b.t < t_end)
                if np.any(stiff):
                    rows = np.flatnonzero(stiff)
                    self.status[b.idx[rows]] = 2
                    for j in rows.tolist():
                        self.messages[b.idx[j]] = f"stiff from day {b.t[j]:.4g}"
                    y_all[b.idx[rows]] = np.nan
                    b.keep(~stiff)
                    continue
            bad = (tiny | over) & (b.t < t_end)
            for j in np.flatnonzero(bad).tolist():
                if negative[j]:
                    reason = self.negative_reason(y_new[j], b.f[j])
                else:
                    reason = self.failure_reason(
                        int(b.idx[j]), b.y[j], b.f[j], y_new[j], bool(over[j])
                    )
                self.fail(b.idx[j : j + 1], b.t[j : j + 1], reason)
                y_all[b.idx[j]] = np.nan
            done = (b.t >= t_end) | bad
            if np.any(done):
                # the step size that would have followed, for the next segment
                self.h_last[b.idx[done]] = np.maximum(b.h[done], h_used[done])
                fin = np.flatnonzero(done & ~bad)
                y_all[b.idx[fin]] = b.y[fin]
                b.keep(~done)

    def _initial_step(
        self, t: Array, y: Array, f0: Array, p: Params, u: Array, t_end: float
    ) -> Array:
        """Hairer's starting-step heuristic, per patient (Hairer, Nørsett & Wanner 1993, §II.4)."""
        order = _ERROR_ORDER[self.method]
        scale = self.atol + np.abs(y) * self.rtol
        d0 = np.sqrt(np.mean((y / scale) ** 2, axis=1))
        d1 = np.sqrt(np.mean((f0 / scale) ** 2, axis=1))
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
        h0 = np.minimum(h0, t_end - t)
        y1 = y + h0[:, None] * f0
        f1 = self.f(t + h0, y1, p, u)
        with np.errstate(invalid="ignore", over="ignore"):
            d2 = np.sqrt(np.mean(((f1 - f0) / scale) ** 2, axis=1)) / h0
        big = np.maximum(d1, d2)
        with np.errstate(divide="ignore", over="ignore"):
            h1 = np.where(
                big <= 1e-15,
                np.maximum(1e-6, h0 * 1e-3),
                (0.01 / np.maximum(big, 1e-300)) ** (1.0 / order),
            )
        h = np.minimum(100 * h0, h1)
        h = np.where(np.isfinite(h) & (h > 0), h, 1e-6)
        return np.asarray(np.minimum(h, t_end - t), dtype=np.float64)

    def _limit_step(self, b: _Batch, t_end: float) -> None:
        rest = t_end - b.t
        b.h = np.minimum(b.h, rest)
        # a step that would leave a sliver shorter than 1% of itself stretches to the end
        b.h = np.where(rest - b.h < 0.01 * b.h, rest, b.h)
        b.clock_hits = []
        for col, pname in self.clocks:
            to_switch = b.p[pname] - b.y[:, col]
            hit = (to_switch > 0) & (b.h >= to_switch)
            b.h = np.where(hit, to_switch, b.h)
            b.clock_hits.append((col, pname, hit))

    # -- methods -------------------------------------------------------------------------------
    def _dopri5(self, b: _Batch, u: Array) -> tuple[Array, Array, Array, tuple[Array, ...]]:
        m, s = b.y.shape
        h = b.h[:, None]
        k = np.empty((7, m, s))
        k[0] = b.f
        for i in range(1, 6):
            yi = b.y + h * np.tensordot(DOPRI5_A[i, :i], k[:i], axes=1)
            k[i] = self.f(b.t + DOPRI5_C[i] * b.h, yi, b.p, u)
        y6 = yi
        y_new = b.y + h * np.tensordot(DOPRI5_B, k[:6], axes=1)
        with np.errstate(invalid="ignore", over="ignore"):
            k[6] = self.f(b.t + b.h, y_new, b.p, u)
            err = h * np.tensordot(DOPRI5_E, k, axes=1)
            if self.detect_stiff:
                # per-state ratio: states of very different sizes (1e9 tumor cells, 1e6
                # memory cells) would hide a stiff small state in a whole-vector norm
                num = np.abs(k[6] - k[5])
                den = np.abs(y_new - y6)
                scale = self.atol + self.rtol * np.abs(y_new)
                ratio = np.where(den > 1e-3 * scale, num / np.maximum(den, 1e-300), 0.0)
                self._stiffness = b.h * np.max(ratio, axis=1)
        return y_new, k[6], err, (k,)

    def _rosenbrock(self, b: _Batch, u: Array) -> tuple[Array, Array, Array, tuple[Array, ...]]:
        _m, s = b.y.shape
        h = b.h[:, None]
        jac = self._jacobian(b, u)
        solve = BatchedLU(np.eye(s)[None, :, :] - (b.h * _RB_D)[:, None, None] * jac).solve

        f0 = b.f
        k1 = solve(f0)
        f1 = self.f(b.t + 0.5 * b.h, b.y + 0.5 * h * k1, b.p, u)
        k2 = solve(f1 - k1) + k1
        y_new = b.y + h * k2
        with np.errstate(invalid="ignore", over="ignore"):
            f2 = self.f(b.t + b.h, y_new, b.p, u)
            k3 = solve(f2 - _RB_E32 * (k2 - f1) - 2.0 * (k1 - f0))
            err = h / 6.0 * (k1 - 2.0 * k2 + k3)
        return y_new, f2, err, (k1.copy(), k2.copy())

    def _rodas4(self, b: _Batch, u: Array) -> tuple[Array, Array, Array, tuple[Array, ...]]:
        _m, _s = b.y.shape
        h = b.h[:, None]
        jac = self._jacobian(b, u)
        solve = BatchedLU(jac, scale=-1.0, diagonal=1.0 / (_RODAS_GAMMA * b.h)).solve  # I/(γh) − J

        ks = np.empty((6, *b.y.shape))  # stage vectors; combinations are one GEMV each

        flat = ks.reshape(6, -1)

        def combo(coeffs: Array, n: int) -> Array:
            return np.asarray(np.dot(coeffs, flat[:n]).reshape(ks.shape[1:]), dtype=np.float64)

        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ks[0] = solve(b.f)
            y_stage = b.y
            for i in range(5):
                y_stage = b.y + combo(_RODAS_A_ARR[i], i + 1) if i < 4 else y_stage + ks[4]
                fi = self.f(b.t + _RODAS_X[i] * b.h, y_stage, b.p, u)
                ks[i + 1] = solve(fi + combo(_RODAS_C_ARR[i], i + 1) / h)
            y_new = y_stage + ks[5]
            f_new = self.f(b.t + b.h, y_new, b.p, u)
            d1 = combo(_RODAS_H_ARR[0], 5)
            d2 = combo(_RODAS_H_ARR[1], 5)
        return y_new, f_new, ks[5].copy(), (y_new.copy(), d1, d2)

    def _jacobian(self, b: _Batch, u: Array) -> Array:
        """The model's analytic Jacobian, or a forward-difference one of the whole batch from one
        stacked right-hand-side call."""
        if self.jacobian is not None:
            return np.asarray(self.jacobian(b.t, b.y, b.p, u), dtype=np.float64)
        m, s = b.y.shape
        delta = np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(b.y), 1.0)
        yy = np.repeat(b.y[:, None, :], s, axis=1)  # [m, s(perturbed col), s]
        cols = np.arange(s)
        yy[:, cols, cols] += delta
        if b.p_repeated is None:
            b.p_repeated = {k: np.repeat(v, s) for k, v in b.p.items()}
        pp = b.p_repeated
        tt = np.repeat(b.t, s)
        uu = np.repeat(u, s, axis=0)
        ff = self.f(tt, yy.reshape(m * s, s), pp, uu).reshape(m, s, s)
        return np.asarray(
            np.transpose((ff - b.f[:, None, :]) / delta[:, :, None], (0, 2, 1)), dtype=np.float64
        )

    def _dense(
        self, b: _Batch, rows: npt.NDArray[np.intp], theta: Array, dense: tuple[Array, ...]
    ) -> Array:
        """The continuous solution at fractions ``theta`` of the current step, for ``rows``."""
        h = b.h[rows][:, None]
        if self.method == "dopri5":
            k = dense[0][:, rows]
            q = np.tensordot(DOPRI5_P.T, k, axes=([1], [0]))  # [4, r, s]
            powers = np.cumprod(np.repeat(theta[None, :], 4, axis=0), axis=0)  # [4, r]
            return np.asarray(b.y[rows] + h * np.einsum("jrs,jr->rs", q, powers), dtype=np.float64)
        if self.method == "rodas4":
            y1, d1, d2 = dense
            th = theta[:, None]
            return np.asarray(
                (1 - th) * b.y[rows] + th * (y1[rows] + (1 - th) * (d1[rows] + th * d2[rows])),
                dtype=np.float64,
            )
        k1, k2 = dense
        th = theta[:, None]
        return np.asarray(
            b.y[rows]
            + h
            * (
                th * (1 - th) / (1 - 2 * _RB_D) * k1[rows]
                + th * (th - 2 * _RB_D) / (1 - 2 * _RB_D) * k2[rows]
            ),
            dtype=np.float64,
        )

    # -- after an accepted step ----------------------------------------------------------------
    def _accept(
        self,
        b: _Batch,
        a: npt.NDArray[np.intp],
        t_new: Array,
        y_new: Array,
        f_new: Array,
        dense: tuple[Array, ...],
        u: Array,
    ) -> None:
        theta_end = np.ones(a.size)
        restart = np.zeros(a.size, dtype=bool)
        if self.tumor is not None:
            col = self.tumor
            cross = (b.y[a, col] >= 1.0) & (y_new[a, col] < 1.0)
            if np.any(cross):
                rows = a[cross]
                th = self._locate(b, rows, dense, col, 1.0, np.ones(rows.size))
                yc = self._dense(b, rows, th, dense)
                yc[:, col] = 0.0
                y_new[rows] = yc
                t_new[rows] = b.t[rows] + th * b.h[rows]
                theta_end[cross] = th
                restart[cross] = True
                self.eradication_time[b.idx[rows]] = t_new[rows]
            # a tumor that overshoots below zero without crossing one cell is cleared too
            neg = y_new[a, col] < 0.0
            y_new[a[neg], col] = 0.0
        for c in self.crossings:
            rec = self.crossing_times[c.name]
            pending = np.isnan(rec[b.idx[a]])
            if not np.any(pending):
                continue
            hit = c.crossed(b.y[a, c.state], y_new[a, c.state]) & pending
            if np.any(hit):
                rows = a[hit]
                th = self._locate(b, rows, dense, c.state, c.threshold, theta_end[hit])
                rec[b.idx[rows]] = b.t[rows] + th * b.h[rows]
        self._emit_step(b, a, t_new, dense)
        for col, pname, hit in b.clock_hits:  # land exactly on the switch
            rows = a[hit[a] & ~restart]
            y_new[rows, col] = b.p[pname][rows]
            f_new[rows] = self.f(
                t_new[rows], y_new[rows], {k: v[rows] for k, v in b.p.items()}, u[rows]
            )
        if np.any(restart):
            rows = a[restart]
            f_new[rows] = self.f(
                t_new[rows], y_new[rows], {k: v[rows] for k, v in b.p.items()}, u[rows]
            )
        if a.size == b.t.size:  # the usual case: every step accepted, no gather/scatter
            b.t, b.y, b.f = t_new, y_new, f_new
        else:
            b.t[a] = t_new[a]
            b.y[a] = y_new[a]
            b.f[a] = f_new[a]
        self.steps[b.idx[a]] += 1
        if self.detect_stiff:
            g = b.idx[a]
            stiff_step = self._stiffness[a] > 3.25
            calm = np.where(stiff_step, 0, self.calm_count[g] + 1)
            self.calm_count[g] = calm
            count = np.where(stiff_step, self.stiff_count[g] + 1, self.stiff_count[g])
            self.stiff_count[g] = np.where(calm >= 6, 0, count)

    def _locate(
        self,
        b: _Batch,
        rows: npt.NDArray[np.intp],
        dense: tuple[Array, ...],
        col: int,
        threshold: float,
        hi_theta: Array,
    ) -> Array:
        """Bisection on the dense output for where state ``col`` crosses ``threshold``."""
        lo = np.zeros(rows.size)
        hi = hi_theta.copy()
        sign0 = np.sign(b.y[rows, col] - threshold)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            val = self._dense(b, rows, mid, dense)[:, col] - threshold
            same = np.sign(val) == sign0
            lo = np.where(same, mid, lo)
            hi = np.where(same, hi, mid)
        return hi

    def _emit_step(
        self, b: _Batch, a: npt.NDArray[np.intp], t_new: Array, dense: tuple[Array, ...]
    ) -> None:
        """Emit the outputs that fall in [t_old, t_new) of the accepted rows (dense output)."""
        te = self.t_eval
        if te.size == 0:
            return
        gidx = b.idx[a]
        k = self.next_k[gidx]
        while True:
            valid = k < te.size
            tk = np.where(valid, te[np.minimum(k, te.size - 1)], np.inf)
            want = valid & (tk < t_new[a] - 1e-12 * np.maximum(1.0, np.abs(t_new[a])))
            if not np.any(want):
                break
            rows = a[want]
            theta = (tk[want] - b.t[rows]) / b.h[rows]
            values = self._dense(b, rows, theta, dense)
            if self.tumor is not None:
                # a tumor cleared to 0 at both ends of a step can interpolate a hair below 0
                # in between (e.g. -1e-34 cells): no tumor is 0 cells, never fewer
                values[:, self.tumor] = np.maximum(values[:, self.tumor], 0.0)
            self.out[gidx[want], k[want]] = values
            k = np.where(want, k + 1, k)
        self.next_k[gidx] = k
