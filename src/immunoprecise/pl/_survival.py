"""Kaplan–Meier curves with their confidence bands and the table of numbers at risk."""

from __future__ import annotations

import textwrap

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from immunoprecise.cohort.statistic import format_estimate, format_p
from immunoprecise.cohort.survival import KaplanMeierCurve, SurvivalCurves
from immunoprecise.pl._common import curve_look, panels
from immunoprecise.wording import counted

__all__ = [
    "MAX_CENSOR_MARKS",
    "MAX_STEPS",
    "censor_marks",
    "curve_steps",
    "kaplan_meier",
    "steps_drawn",
]

#: Time bins across a curve's follow-up above which its steps are drawn merged per bin.
MAX_STEPS = 1000

#: Distinct censoring times of one curve above which its censoring ticks are thinned to one per
#: each of :data:`MAX_STEPS` equal time bins: ``2 × MAX_STEPS``, the rule the curve's steps
#: follow. :func:`kaplan_meier` and the dashboard's interactive curves thin at this same count.
MAX_CENSOR_MARKS = 2 * MAX_STEPS

_ENDPOINT = {"os": "Overall survival", "pfs": "Progression-free survival"}


def kaplan_meier(
    curves: SurvivalCurves,
    *,
    ax: Axes | None = None,
    risk_table: bool = True,
    bands: bool = True,
    time_unit: str = "auto",
    max_steps: int | None = MAX_STEPS,
) -> Figure:
    """Draw Kaplan–Meier curves (with CI bands) above the table of numbers at risk.

    Each censoring time is marked with a short vertical tick ("|") on its curve, as in
    published survival figures (:func:`censor_marks`); the legend names the mark.

    Parameters
    ----------
    curves
        The result of :func:`immunoprecise.cohort.kaplan_meier`.
    ax
        Axes to draw into (split into the curve and the risk table); a new figure when omitted.
    risk_table
        Draw the numbers at risk at ``curves``' at-risk times under the curves.
    bands
        Shade each curve's pointwise confidence band.
    time_unit
        ``"days"`` (as stored), ``"months"`` (days / 30.4375) or ``"auto"`` (months when the
        follow-up exceeds a year).
    max_steps
        A curve with more steps than ``2 × max_steps`` (tens of thousands of event times in a
        large cohort) is drawn through the first and last step of each of ``max_steps`` equal
        time bins across its follow-up (:func:`curve_steps`, :func:`steps_drawn`): a step
        moves by at most one bin, a thousandth of the axis, and every number (median, CI, at
        risk) is computed from the whole curve. ``None`` draws every step.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import cohort, pl
    >>> km = cohort.kaplan_meier(ip.data.example_path("fl_cohort.csv"),
    ...                          group="risk.flipi:category")
    >>> fig = pl.kaplan_meier(km, time_unit="months")
    >>> len(fig.axes)
    2
    """
    if time_unit not in ("days", "months", "auto"):
        raise ValueError(f"time_unit must be 'days', 'months' or 'auto'; got {time_unit!r}")
    if time_unit == "auto":
        last = max((c.times[-1] for c in curves.curves if c.times), default=0.0)
        time_unit = "months" if last > 365 else "days"
    scale = 1.0 if time_unit == "days" else 1 / 30.4375
    n_rows = len(curves.curves)
    ratios = [4.0, 0.35 + 0.3 * n_rows] if risk_table else None
    fig, axes = panels(
        ax, 2 if risk_table else 1, size=(7.0, 4.6 + 0.3 * n_rows), vertical=True, ratios=ratios
    )
    main = axes[0]
    marked = False
    for i, c in enumerate(curves.curves):
        color, style = curve_look(i)
        t, s, lo, hi = curve_steps(c, scale, max_steps)
        counts = f"(n={c.n}, {counted(c.events, 'event')})"
        label = f"{_wrapped(c.label)} {counts}" if curves.group else f"n={c.n}"
        main.step(t, s, where="post", color=color, ls=style, lw=1.8, label=label)
        if bands:
            main.fill_between(t, lo, hi, step="post", color=color, alpha=0.15, lw=0)
        mark_t, mark_s = censor_marks(c, scale, max_steps)
        if mark_t.size:
            marked = True
            main.plot(mark_t, mark_s, ls="none", marker="|", ms=6, mew=1.0, color=color)
    main.set_ylim(0, 1.02)
    main.set_ylabel(f"{_ENDPOINT.get(curves.endpoint, curves.endpoint)} probability")
    main.set_xlabel(f"Time ({time_unit})")
    main.grid(alpha=0.3)
    handles, labels = main.get_legend_handles_labels()
    if marked:
        handles.append(
            Line2D([], [], ls="none", marker="|", ms=6, mew=1.0, color="0.3", label="censored")
        )
        labels.append("censored")
    legend = main.legend(handles, labels, loc="upper right", fontsize=8, frameon=False)
    for text in legend.get_texts():  # group levels are data: '$5-$10' is text, not TeX
        text.set_parse_math(False)
    if curves.log_rank is not None and curves.log_rank.p_value is not None:
        main.set_title(
            # χ² as the printed result writes it: 7.13e-05, not 0.00
            f"{curves.group}: log-rank χ² = {format_estimate(curves.log_rank.estimate)}, "
            f"p = {format_p(curves.log_rank.p_value)}",
            fontsize=10,
            parse_math=False,
        )
    if risk_table:
        table = axes[1]
        xs = [x * scale for x in curves.curves[0].at_risk_times]
        table.set_xlim(main.get_xlim())
        table.set_ylim(-0.5, n_rows - 0.5)
        for i, c in enumerate(curves.curves):
            y = n_rows - 1 - i
            for x, k in zip(xs, c.at_risk, strict=True):
                table.text(
                    x,
                    y,
                    str(k),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=curve_look(i)[0],
                )
        table.set_yticks(
            range(n_rows), [_wrapped(c.label) for c in reversed(curves.curves)], fontsize=8
        )
        for tick in table.get_yticklabels():
            tick.set_parse_math(False)
        table.set_xticks(xs, [f"{x:.4g}" for x in xs], fontsize=8)
        table.tick_params(length=0)
        for side in ("top", "right", "left", "bottom"):
            table.spines[side].set_visible(False)
        table.set_title("Number at risk", fontsize=8, loc="left")
        if ax is not None:
            _room_for_names(fig, ax, table)
    return fig


#: Room (in points) kept between a group's name under the curves and the figure's left edge.
_EDGE_POINTS = 4.0


def _room_for_names(fig: Figure, ax: Axes, table: Axes) -> None:
    """Move the left edge of ``ax`` (the area the curves and the risk table are drawn in) right
    until the group names left of the risk table lie inside the figure.

    A figure of its own is laid out by its layout engine; axes given by the caller are placed
    by the caller, and a long name (up to :data:`LABEL_WIDTH` characters a line) would reach
    past the figure's left edge of a file saved without a tight bounding box. The names are
    measured as drawn (their window extent), so the room is what the font needs.
    """
    if fig.get_layout_engine() is not None or not any(
        t.get_text() for t in table.get_yticklabels()
    ):
        return  # a layout engine makes the room itself
    fig.draw_without_rendering()
    margin = _EDGE_POINTS * fig.dpi / 72.0
    left = min(t.get_window_extent().x0 for t in table.get_yticklabels() if t.get_text())
    short = margin - left
    if short <= 0:
        return
    box = ax.get_position()
    x0 = box.x0 + short / fig.bbox.width
    if x0 >= box.x1 - 0.2 * box.width:  # no room left for the curves: leave them as given
        return
    ax.set_position((x0, box.y0, box.x1 - x0, box.height))


#: Characters per line of a group's name in the legend and the risk table: a longer name (an
#: arm written out in full) is wrapped, never cut, so it neither covers the curves nor squeezes
#: the plot into a corner of the figure.
LABEL_WIDTH = 40


def _wrapped(label: str) -> str:
    """A group's name over lines of at most :data:`LABEL_WIDTH` characters, every word kept."""
    return textwrap.fill(label, LABEL_WIDTH, break_long_words=False, break_on_hyphens=False)


def censor_marks(
    curve: KaplanMeierCurve, scale: float, max_steps: int | None = MAX_STEPS
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Where :func:`kaplan_meier` marks the curve's censoring times: times and survival.

    One mark per distinct censoring time, on the curve (the survival estimate at that time).
    With more than ``2 × max_steps`` distinct censoring times (a large cohort; by default more
    than :data:`MAX_CENSOR_MARKS`), one mark is kept per each of ``max_steps`` equal time bins
    across the follow-up (the first censoring time of the bin), so that the figure stays
    small; the marks still show where patients were censored. The curve's steps are thinned
    by the same rule (:func:`curve_steps`).

    Parameters
    ----------
    curve
        One Kaplan–Meier curve (times in days).
    scale
        Factor from days to the unit drawn (``1 / 30.4375`` for months).
    max_steps
        Time bins into which marks are merged when there are more than twice as many;
        ``None`` keeps every mark.

    Returns
    -------
    tuple of numpy.ndarray
        Censoring times (× ``scale``) and the survival estimate at each.

    Examples
    --------
    >>> import pandas as pd
    >>> from immunoprecise.cohort import kaplan_meier as km
    >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    >>> t, s = censor_marks(km(f).curves[0], 1.0)
    >>> t.tolist(), s.round(3).tolist()
    ([20.0, 40.0], [0.75, 0.375])
    """
    ct = np.asarray(curve.censor_times, dtype=float)
    if ct.size == 0:
        return ct * scale, ct.copy()
    times = np.asarray(curve.times, dtype=float)
    surv = np.asarray(curve.survival, dtype=float)
    i = np.searchsorted(times, ct, side="right") - 1
    s = np.where(i >= 0, surv[np.clip(i, 0, max(surv.size - 1, 0))], 1.0)
    last = float(ct[-1])
    if max_steps is not None and ct.size > 2 * max_steps and last > 0:
        bins = np.minimum((ct / last * max_steps).astype(np.int64), max_steps - 1)
        keep = np.ones(ct.size, dtype=bool)
        keep[1:] = bins[1:] != bins[:-1]
        ct, s = ct[keep], s[keep]
    return ct * scale, np.asarray(s, dtype=float)


def steps_drawn(curve: KaplanMeierCurve, *, max_steps: int | None = MAX_STEPS) -> tuple[int, int]:
    """How many of a curve's steps :func:`kaplan_meier` draws, and how many it has.

    Examples
    --------
    >>> import pandas as pd
    >>> from immunoprecise.cohort import kaplan_meier as km
    >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    >>> steps_drawn(km(f).curves[0])
    (4, 4)
    """
    t = curve_steps(curve, 1.0, None)[0]
    return curve_steps(curve, 1.0, max_steps)[0].size, t.size


def curve_steps(
    curve: KaplanMeierCurve, scale: float, max_steps: int | None = None
) -> tuple[npt.NDArray[np.float64], ...]:
    """The curve's corners from time 0: times (× ``scale``), survival and band.

    A time where only patients were censored changes neither the estimate nor its band (both
    move only at events), so its corner is left out: the steps drawn are the same, with far
    fewer points for a large cohort. The last follow-up is kept, where the curve ends. With
    more than ``2 × max_steps`` corners left, only the first and the last corner of each of
    ``max_steps`` equal time bins are kept (and time 0 and the end). :func:`kaplan_meier` and
    the dashboard's interactive curves draw these corners.

    Parameters
    ----------
    curve
        One Kaplan–Meier curve (times in days).
    scale
        Factor from days to the unit drawn (``1 / 30.4375`` for months).
    max_steps
        Time bins above which corners are merged per bin; ``None`` keeps every corner.

    Returns
    -------
    tuple of numpy.ndarray
        Times (× ``scale``), survival, lower and upper band, from time 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from immunoprecise.cohort import kaplan_meier as km
    >>> f = pd.DataFrame({"os_days": [10.0, 20, 30, 40], "os_event": [1, 0, 1, 0]})
    >>> t, s, lo, hi = curve_steps(km(f).curves[0], 1.0)
    >>> t.tolist(), s.round(3).tolist()
    ([0.0, 10.0, 30.0, 40.0], [1.0, 0.75, 0.375, 0.375])
    """
    t = np.array([0.0, *curve.times]) * scale
    s = np.array([1.0, *curve.survival])
    lo = np.array([1.0, *curve.ci_low])
    hi = np.array([1.0, *curve.ci_high])
    corner = np.ones(t.size, dtype=bool)
    same = (s[1:] == s[:-1]) & _same(lo[1:], lo[:-1]) & _same(hi[1:], hi[:-1])
    corner[1:] = ~same
    corner[-1] = True
    t, s, lo, hi = t[corner], s[corner], lo[corner], hi[corner]
    if max_steps is not None and t.size > 2 * max_steps and t[-1] > 0:
        bins = np.minimum((t / t[-1] * max_steps).astype(np.int64), max_steps - 1)
        first = np.ones(t.size, dtype=bool)
        first[1:] = bins[1:] != bins[:-1]
        last = np.ones(t.size, dtype=bool)
        last[:-1] = bins[:-1] != bins[1:]
        keep = first | last
        keep[0] = keep[-1] = True
        t, s, lo, hi = t[keep], s[keep], lo[keep], hi[keep]
    return t, s, lo, hi


def _same(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)), dtype=bool)
