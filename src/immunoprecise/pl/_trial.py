"""Figures of a virtual trial: waterfall, spider and effector:tumor plots, one panel per arm.

Every figure colours patients by their best overall response in the arm with the same map
(:data:`RESPONSE_COLORS`) and draws the response criteria's thresholds as dashed lines: RECIST
1.1 (+20 % and −30 % of the sum of diameters) or Lugano 2014 (+50 % and −50 % of the SPD).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from immunoprecise.dynamics.response import (
    LUGANO_PD_PERCENT,
    LUGANO_PR_PERCENT,
    RECIST_PD_PERCENT,
    RECIST_PR_PERCENT,
)
from immunoprecise.pl._common import MISSING_COLOR, message, new_figure, panels, root_figure
from immunoprecise.wording import counted

if TYPE_CHECKING:
    from immunoprecise.dynamics.trials.design import TrialArm
    from immunoprecise.dynamics.trials.result import TrialResult

__all__ = [
    "RESPONSE_COLORS",
    "criteria_thresholds",
    "effector_tumor",
    "spider",
    "waterfall",
]

RESPONSE_COLORS: dict[str, str] = {
    "CR": "#1e8449",
    "PR": "#82c785",
    "SD": "#f0b429",
    "PD": "#c0392b",
    "NE": MISSING_COLOR,
}
"""Colour of each best overall response, shared by every trial figure."""

_RESPONDER_COLORS = {"responders": "#1e8449", "non-responders": "#c0392b"}
_DAYS_PER_MONTH = 30.4375


def criteria_thresholds(criteria: str) -> tuple[float, float]:
    """The progression and response thresholds (% change) of the response criteria.

    Parameters
    ----------
    criteria
        ``"recist"`` (sum of diameters) or ``"lugano"`` (sum of the products of the
        perpendicular diameters, SPD).

    Returns
    -------
    tuple of float
        (progression, partial response) in %: RECIST 1.1 (+20, −30), Lugano 2014 (+50, −50).

    Examples
    --------
    >>> criteria_thresholds("recist"), criteria_thresholds("lugano")
    ((20.0, -30.0), (50.0, -50.0))
    """
    if criteria == "recist":
        return RECIST_PD_PERCENT, RECIST_PR_PERCENT
    if criteria == "lugano":
        return LUGANO_PD_PERCENT, LUGANO_PR_PERCENT
    raise ValueError(f"criteria must be 'recist' or 'lugano'; got {criteria!r}")


def _measure(criteria: str) -> str:
    return "SPD" if criteria == "lugano" else "sum of diameters"


def _select_arms(result: TrialResult, arm: str | None) -> list[TrialArm]:
    arms = list(result.design.arms)
    if arm is None:
        return arms
    for a in arms:
        if arm in (a.id, a.name):
            return [a]
    known = ", ".join(repr(a.id) for a in arms)
    raise ValueError(f"no arm {arm!r} in trial {result.design.name!r}; arms: {known}")


def _arm_panels(ax: Axes | None, n: int, *, width: float, height: float) -> list[Axes]:
    """``n`` panels: a grid of up to three columns in a new figure, or side by side in ``ax``."""
    if ax is not None:
        return panels(ax, n, size=(width * n, height), vertical=False)[1]
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = new_figure(width * cols, height * rows)
    grid = fig.add_gridspec(rows, cols)
    return [fig.add_subplot(grid[i // cols, i % cols]) for i in range(n)]


def _best_responses(result: TrialResult, arm_id: str) -> pd.Series:
    """Patient → best overall response in the arm."""
    part = result.outcomes[result.outcomes["arm"] == arm_id]
    return pd.Series(part["best_response"].astype(str).to_numpy(), index=part["patient"])


def _threshold_lines(ax: Axes, criteria: str) -> None:
    progression, response = criteria_thresholds(criteria)
    name = "RECIST 1.1" if criteria == "recist" else "Lugano 2014"
    ax.axhline(
        progression,
        ls="--",
        lw=1,
        color=RESPONSE_COLORS["PD"],
        gid="threshold-progression",
        label=f"{name} PD {progression:+g} % (from the nadir)",
    )
    ax.axhline(
        response,
        ls="--",
        lw=1,
        color=RESPONSE_COLORS["CR"],
        gid="threshold-response",
        label=f"{name} PR {response:+g} %",
    )
    ax.axhline(0, lw=0.6, color="#555555", gid="baseline", label="_baseline")


def _response_legend(ax: Axes, criteria: str) -> None:
    progression, response = criteria_thresholds(criteria)
    handles: list[Patch | Line2D] = [
        Patch(facecolor=c, label=r) for r, c in RESPONSE_COLORS.items()
    ]
    handles += [
        Line2D(
            [], [], ls="--", lw=1, color=RESPONSE_COLORS["PD"], label=f"{progression:+g} % (PD)"
        ),
        Line2D([], [], ls="--", lw=1, color=RESPONSE_COLORS["CR"], label=f"{response:+g} % (PR)"),
    ]
    legend = ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, ncols=2)
    for text in legend.get_texts():
        text.set_parse_math(False)


def waterfall(
    result: TrialResult,
    *,
    arm: str | None = None,
    max_patients: int = 300,
    clip_percent: float = 100.0,
    ax: Axes | None = None,
) -> Figure:
    """Waterfall plot: each patient's best % change from baseline, sorted, per arm.

    The bars are the first ``max_patients`` patients of each arm by patient number (the same
    patients in every arm), sorted from the largest increase to the deepest decrease and
    coloured by best overall response. The change is that of the criteria's measure (RECIST:
    sum of diameters; Lugano: SPD), the dashed lines their PD and PR thresholds (progression is
    measured from the nadir, and RECIST also needs a 5 mm absolute increase, so a bar above
    the PD line may be SD for a small tumor). Bars above
    ``clip_percent`` are cut there and marked with a triangle. Patients not evaluable (failed
    simulation, no change) have no bar; the title counts them.

    Parameters
    ----------
    result
        A virtual trial (:func:`~immunoprecise.dynamics.trials.run_trial`).
    arm
        One arm (id or label); every arm, one panel each, when omitted.
    max_patients
        Patients drawn per arm (the lowest patient numbers).
    clip_percent
        Top of the y axis (%).
    ax
        Axes to draw into (divided among the arms); a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into.

    Examples
    --------
    >>> from immunoprecise.dynamics.trials import TrialDesign, run_trial
    >>> res = run_trial(TrialDesign.model_validate({"name": "demo", "model": "kuznetsov1994",
    ...     "seed": 1, "n_per_arm": 20, "chunk_size": 100, "follow_up_days": 112,
    ...     "arms": [{"id": "none", "regimen": ""}], "population": {"initial": {"T": 1e6}}}),
    ...     scheduler="synchronous")
    >>> fig = waterfall(res, max_patients=10)
    >>> len(fig.axes[0].patches)
    10
    """
    if max_patients < 1:
        raise ValueError(f"max_patients must be at least 1; got {max_patients}")
    if not clip_percent > 0:
        raise ValueError(f"clip_percent must be > 0; got {clip_percent}")
    criteria = result.design.response_criteria
    arms = _select_arms(result, arm)
    axes = _arm_panels(ax, len(arms), width=4.6, height=3.8)
    fig = root_figure(axes[0])
    if ax is None:
        fig.set_label(f"Waterfall plot of virtual trial {result.design.name}")
    progression, _ = criteria_thresholds(criteria)
    for i, (a, panel) in enumerate(zip(arms, axes, strict=True)):
        part = result.outcomes[result.outcomes["arm"] == a.id].sort_values("patient")
        shown = part.head(max_patients)
        change = shown["best_change_percent"].to_numpy(dtype=float)
        drawn = shown[np.isfinite(change)].sort_values(
            ["best_change_percent", "patient"], ascending=[False, True]
        )
        values = drawn["best_change_percent"].to_numpy(dtype=float)
        x = np.arange(len(values))
        colors = [RESPONSE_COLORS.get(r, MISSING_COLOR) for r in drawn["best_response"]]
        bars = panel.bar(
            x,
            np.minimum(values, clip_percent),
            width=1.0 if len(values) > 60 else 0.85,
            color=colors,
            edgecolor=colors,  # a hairline of the bar's colour: no gaps between thin bars
            lw=0.4,
        )
        for bar, patient in zip(bars, drawn["patient"], strict=True):
            bar.set_gid(f"patient-{int(patient)}")
        clipped = values > clip_percent
        _threshold_lines(panel, criteria)
        top = clip_percent if clipped.any() else max(float(values.max(initial=0.0)), progression)
        panel.set_ylim(-105, top + 0.08 * (top + 105))
        if clipped.any():
            panel.plot(
                x[clipped],
                np.full(int(clipped.sum()), clip_percent),
                ls="none",
                marker="^",
                ms=3,
                color="#333333",
                gid="clipped",
            )
            panel.text(
                0.99,
                0.99,
                f"{counted(int(clipped.sum()), 'bar')} cut at {clip_percent:+g} % "
                f"(largest {values.max():+.0f} %)",
                transform=panel.transAxes,
                ha="right",
                va="top",
                fontsize=7,
                parse_math=False,
            )
        panel.set_xlim(-0.8, max(len(values), 1) - 0.2)
        panel.set_xticks([])
        panel.set_xlabel("Patients, sorted by best change")
        panel.set_ylabel(f"Best change in {_measure(criteria)} (%)")
        n_ne = len(shown) - len(drawn)
        title = f"{a.name}: n = {len(drawn)}"
        if len(part) > len(shown):
            title += f" (first {len(shown)} of {len(part)})"
        if n_ne:
            title += f", {n_ne} NE not drawn"
        panel.set_title(title, fontsize=10, parse_math=False)
        if i == 0:
            _response_legend(panel, criteria)
    return fig


def _criteria_change(
    cells_percent: npt.NDArray[np.float64], start_cells: float, criteria: str
) -> npt.NDArray[np.float64]:
    """% change of the cell number → % change of the criteria's measure (one sphere).

    The diameter goes as the cube root of the cell number, the SPD as its square; fewer than
    one cell is no tumor (−100 %), as in :func:`~immunoprecise.dynamics.response.assess_response`.
    """
    ratio = 1.0 + cells_percent / 100.0
    power = 2.0 / 3.0 if criteria == "lugano" else 1.0 / 3.0
    with np.errstate(invalid="ignore"):
        measured = np.where(ratio * start_cells < 1.0, 0.0, np.cbrt(ratio) ** (3 * power))
    return np.asarray(100.0 * (measured - 1.0), dtype=np.float64)


def _time_scale(result: TrialResult) -> tuple[float, str]:
    if result.design.follow_up_days > 365:
        return 1.0 / _DAYS_PER_MONTH, "months"
    return 1.0, "days"


def spider(
    result: TrialResult,
    *,
    arm: str | None = None,
    clip_percent: float = 100.0,
    ax: Axes | None = None,
) -> Figure:
    """Spider plot: tumor % change over time of the kept patients, per arm.

    One line per patient whose trajectory was kept (the first ``design.keep_trajectories``),
    coloured by that patient's best overall response in the arm. The simulated cell number is
    read as the criteria's measure of one spherical lesion — the sum of diameters (RECIST, cube
    root of the cells) or the SPD (Lugano, its square) — so the dashed PD and PR thresholds are
    those of the waterfall plot. The y axis stops at ``clip_percent``; lines above leave it.

    Parameters
    ----------
    result
        A virtual trial (:func:`~immunoprecise.dynamics.trials.run_trial`).
    arm
        One arm (id or label); every arm, one panel each, when omitted.
    clip_percent
        Top of the y axis (%).
    ax
        Axes to draw into (divided among the arms); a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into; time in days, or months when the follow-up exceeds a year.

    Examples
    --------
    >>> from immunoprecise.dynamics.trials import TrialDesign, run_trial
    >>> res = run_trial(TrialDesign.model_validate({"name": "demo", "model": "kuznetsov1994",
    ...     "seed": 1, "n_per_arm": 20, "chunk_size": 100, "follow_up_days": 112,
    ...     "keep_trajectories": 5, "arms": [{"id": "none", "regimen": ""}],
    ...     "population": {"initial": {"T": 1e6}}}), scheduler="synchronous")
    >>> lines = spider(res).axes[0].get_lines()
    >>> sum(line.get_gid().startswith("patient-") for line in lines)
    5
    """
    if not clip_percent > 0:
        raise ValueError(f"clip_percent must be > 0; got {clip_percent}")
    criteria = result.design.response_criteria
    arms = _select_arms(result, arm)
    axes = _arm_panels(ax, len(arms), width=4.6, height=3.8)
    fig = root_figure(axes[0])
    if ax is None:
        fig.set_label(f"Spider plot of virtual trial {result.design.name}")
    scale, unit = _time_scale(result)
    progression, _ = criteria_thresholds(criteria)
    for i, (a, panel) in enumerate(zip(arms, axes, strict=True)):
        traj = result.trajectories[result.trajectories["arm"] == a.id]
        if traj.empty:
            message(panel, f"{a.name}: no trajectories kept")
            continue
        best = _best_responses(result, a.id)
        part = result.outcomes[result.outcomes["arm"] == a.id]
        start = pd.Series(part["tumor_start_cells"].to_numpy(dtype=float), index=part["patient"])
        highest = -100.0
        above = 0
        for patient, rows in traj.groupby("patient", sort=True):
            key = int(cast(int, patient))
            rows = rows.sort_values("t")
            change = _criteria_change(
                rows["tumor_change_percent"].to_numpy(dtype=float),
                float(start.get(key, np.nan)),
                criteria,
            )
            finite = change[np.isfinite(change)]
            if finite.size:
                highest = max(highest, float(finite.max()))
                above += bool(finite.max() > clip_percent)
            response = str(best.get(key, "NE"))
            panel.plot(
                rows["t"].to_numpy(dtype=float) * scale,
                change,
                color=RESPONSE_COLORS.get(response, MISSING_COLOR),
                lw=1.0,
                alpha=0.8,
                gid=f"patient-{key}",
                label="_" + response,
            )
        _threshold_lines(panel, criteria)
        top = min(clip_percent, max(highest, progression))
        panel.set_ylim(-105, top + 0.08 * (top + 105))
        panel.set_xlim(0, result.design.follow_up_days * scale)
        if above:
            panel.text(
                0.99,
                0.99,
                f"{counted(above, 'patient')} above {clip_percent:+g} % (axis cut)",
                transform=panel.transAxes,
                ha="right",
                va="top",
                fontsize=7,
                parse_math=False,
            )
        panel.set_xlabel(f"Time ({unit})")
        panel.set_ylabel(f"Change in {_measure(criteria)} from baseline (%)")
        panel.set_title(
            f"{a.name}: {traj['patient'].nunique()} kept patients", fontsize=10, parse_math=False
        )
        if i == 0:
            _response_legend(panel, criteria)
    return fig


def effector_tumor(result: TrialResult, *, ax: Axes | None = None) -> Figure:
    """Effector:tumor ratio over time by responder status, per arm (log scale).

    For the kept patients of each arm (the first ``design.keep_trajectories``), the median
    (line) and interquartile range (band) at each output time of the responders (best response
    CR or PR) and of the non-responders (SD or PD); not-evaluable patients are left out. A ratio
    is not finite once the tumor is eradicated (fewer than one cell): those values are left out,
    so late responder summaries describe the patients whose tumor persists.

    Parameters
    ----------
    result
        A virtual trial (:func:`~immunoprecise.dynamics.trials.run_trial`).
    ax
        Axes to draw into (divided among the arms); a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into; time in days, or months when the follow-up exceeds a year.

    Examples
    --------
    >>> from immunoprecise.dynamics.trials import TrialDesign, run_trial
    >>> res = run_trial(TrialDesign.model_validate({"name": "demo", "model": "kuznetsov1994",
    ...     "seed": 1, "n_per_arm": 20, "chunk_size": 100, "follow_up_days": 112,
    ...     "keep_trajectories": 10, "arms": [{"id": "none", "regimen": ""}],
    ...     "population": {"initial": {"T": 1e6}}}), scheduler="synchronous")
    >>> effector_tumor(res).axes[0].get_yscale()
    'log'
    """
    arms = list(result.design.arms)
    axes = _arm_panels(ax, len(arms), width=4.6, height=3.6)
    fig = root_figure(axes[0])
    if ax is None:
        fig.set_label(f"Effector:tumor ratio of virtual trial {result.design.name}")
    scale, unit = _time_scale(result)
    for a, panel in zip(arms, axes, strict=True):
        traj = result.trajectories[result.trajectories["arm"] == a.id]
        if traj.empty:
            message(panel, f"{a.name}: no trajectories kept")
            continue
        best = _best_responses(result, a.id)
        status = traj["patient"].map(best)
        groups = {
            "responders": (traj[status.isin(("CR", "PR")).to_numpy()], "CR/PR"),
            "non-responders": (traj[status.isin(("SD", "PD")).to_numpy()], "SD/PD"),
        }
        drawn = False
        for name, (rows, which) in groups.items():
            summary = ratio_summary(rows)
            if summary.empty:
                continue
            color = _RESPONDER_COLORS[name]
            n = rows["patient"].nunique()
            t = summary.index.to_numpy(dtype=float) * scale
            panel.fill_between(
                t,
                summary["q25"].to_numpy(),
                summary["q75"].to_numpy(),
                color=color,
                alpha=0.18,
                lw=0,
                gid=f"iqr-{name}",
            )
            panel.plot(
                t,
                summary["median"].to_numpy(),
                color=color,
                lw=1.8,
                gid=f"median-{name}",
                label=f"{name} ({which}), n = {n}",
            )
            drawn = True
        panel.set_yscale("log")
        panel.set_xlabel(f"Time ({unit})")
        panel.set_ylabel("Effector:tumor ratio\n(median, IQR; eradicated tumors left out)")
        panel.set_title(
            f"{a.name}: {traj['patient'].nunique()} kept patients", fontsize=10, parse_math=False
        )
        panel.grid(alpha=0.3, which="major")
        if drawn:
            legend = panel.legend(loc="best", fontsize=7, frameon=False)
            for text in legend.get_texts():
                text.set_parse_math(False)
    return fig


def ratio_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles of the finite, positive effector:tumor ratios at each time.

    Parameters
    ----------
    rows
        Trajectory rows (``t``, ``et_ratio``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``t`` (days, times with at least one finite ratio), columns ``median``,
        ``q25``, ``q75`` and ``n``.

    Examples
    --------
    >>> rows = pd.DataFrame({"t": [0, 0, 0, 7, 7], "et_ratio": [1, 2, 4, float("nan"), 3]})
    >>> ratio_summary(rows)["median"].tolist()
    [2.0, 3.0]
    """
    ratio = rows["et_ratio"].to_numpy(dtype=float)
    keep = np.isfinite(ratio) & (ratio > 0)
    finite = pd.DataFrame({"t": rows["t"].to_numpy(dtype=float)[keep], "r": ratio[keep]})
    grouped = finite.groupby("t", sort=True)["r"]
    return pd.DataFrame(
        {
            "median": grouped.median(),
            "q25": grouped.quantile(0.25),
            "q75": grouped.quantile(0.75),
            "n": grouped.size(),
        }
    )
