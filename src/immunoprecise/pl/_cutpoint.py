"""Cut-point scan: the standardized log-rank statistic against every candidate cut."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from immunoprecise.cohort.cutpoint import P_METHODS, Cutpoint
from immunoprecise.cohort.statistic import format_cut, format_p
from immunoprecise.pl._common import (
    EFFECTOR_COLOR,
    MISSING_COLOR,
    SUPPRESSOR_COLOR,
    new_figure,
    root_figure,
)

__all__ = ["MAX_SCAN_POINTS", "cutpoint_scan", "scan_points"]

#: Most candidate cuts drawn one by one; a longer scan is drawn through fewer points.
MAX_SCAN_POINTS = 2000


def scan_points(
    result: Cutpoint, *, max_points: int | None = MAX_SCAN_POINTS
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The candidate cuts and ``|Z|`` that a scan plot draws.

    Every candidate cut while there are at most ``max_points``. A longer scan (tens of
    thousands of cuts in a large cohort with a continuous biomarker) is split, in the order of
    the cuts, into ``max_points // 4`` runs of equal length, and each run keeps its first and
    last cut and the cuts of its lowest and highest ``|Z|``: the line through them has the
    same peaks and troughs at the resolution of a figure, and the chosen cut (the largest
    ``|Z|``) is always among them. Only the drawing is thinned: the cut, its statistic, its
    p-value and its CI are computed from every candidate cut.

    Parameters
    ----------
    result
        The result of :func:`~immunoprecise.cohort.cutpoint.optimal_cutpoint`.
    max_points
        Most points drawn one by one (≥ 4); ``None`` draws every candidate cut.

    Returns
    -------
    tuple of numpy.ndarray
        The cuts (increasing) and their ``|Z|``.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.cohort.cutpoint import optimal_cutpoint
    >>> res = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"),
    ...                        "cd8_foxp3_ratio.interfollicular", n_boot=0)
    >>> cuts, z = scan_points(res, max_points=40)
    >>> len(res.scan_cuts), len(cuts) <= 40, float(z.max()) == res.max_statistic.estimate
    (158, True, True)
    """
    cuts = np.asarray(result.scan_cuts, dtype=float)
    z = np.abs(np.asarray(result.scan_statistics, dtype=float))
    if max_points is not None and max_points < 4:
        raise ValueError(f"max_points must be at least 4 (or None for every cut); got {max_points}")
    if max_points is None or cuts.size <= max_points:
        return cuts, z
    keep = {int(np.argmax(z))}  # the chosen cut (first of equal |Z|), kept whatever the runs
    for run in np.array_split(np.arange(cuts.size), max_points // 4):
        values = z[run]
        keep.update(
            (int(run[0]), int(run[-1]), int(run[np.argmin(values)]), int(run[np.argmax(values)]))
        )
    index = np.fromiter(sorted(keep), dtype=np.int64)
    return cuts[index], z[index]


def cutpoint_scan(
    result: Cutpoint, *, ax: Axes | None = None, max_points: int | None = MAX_SCAN_POINTS
) -> Figure:
    """Draw the standardized log-rank statistic ``|Z|`` of every candidate cut-point.

    The scan of :func:`~immunoprecise.cohort.cutpoint.optimal_cutpoint` is drawn as a step-free
    line with one marker per candidate cut (as R's ``plot.maxtest``); the chosen cut is a
    dashed vertical line up to ``max |Z|`` and its bootstrap CI a shaded band. The title gives
    the adjusted p-value and its method. A scan of more than ``max_points`` cuts is drawn as a
    line without markers through the cuts :func:`scan_points` keeps, and its legend says how
    many of how many cuts are drawn; the numbers shown are computed from every cut.

    Parameters
    ----------
    result
        The result of :func:`~immunoprecise.cohort.cutpoint.optimal_cutpoint`.
    ax
        Axes to draw into; a new figure (not registered with pyplot) when omitted.
    max_points
        Most candidate cuts drawn one by one (see :func:`scan_points`); ``None`` draws all.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.cohort.cutpoint import optimal_cutpoint
    >>> from immunoprecise.pl._cutpoint import cutpoint_scan
    >>> res = optimal_cutpoint(ip.data.example_path("fl_cohort.csv"),
    ...                        "cd8_foxp3_ratio.interfollicular", n_boot=100)
    >>> ax = cutpoint_scan(res).axes[0]
    >>> ax.get_ylabel()
    'standardized log-rank statistic |Z|'
    >>> len(ax.lines[0].get_xdata()) == len(res.scan_cuts)
    True
    """
    if ax is None:
        fig = new_figure(6.5, 4.0)
        fig.set_label(f"Cut-point scan of {result.biomarker}")
        ax = fig.add_subplot()
    cuts, z = scan_points(result, max_points=max_points)
    total = len(result.scan_cuts)
    if cuts.size < total:  # thinned: a line through the kept cuts, said in the legend
        ax.plot(
            cuts,
            z,
            color=EFFECTOR_COLOR,
            linewidth=1.0,
            label=f"|Z| drawn at {cuts.size:,} of {total:,} candidate cuts",
        )
    else:
        ax.plot(cuts, z, color=EFFECTOR_COLOR, marker="o", markersize=2.5, linewidth=1.0)
    cut = result.cutpoint.estimate
    stat = result.max_statistic.estimate
    lo, hi = result.cutpoint.ci_low, result.cutpoint.ci_high
    if lo is not None and hi is not None:
        level = f"{100 * result.ci_level:g}%"
        ax.axvspan(
            lo, hi, color=MISSING_COLOR, alpha=0.25, linewidth=0, label=f"bootstrap {level} CI"
        )
    ax.plot(
        [cut, cut],
        [0.0, stat],
        color=SUPPRESSOR_COLOR,
        linestyle="--",
        linewidth=1.5,
        label=f"cut-point {format_cut(cut)} (max |Z| {stat:.2f})",
    )
    ax.set_xlabel(result.biomarker, parse_math=False)
    ax.set_ylabel("standardized log-rank statistic |Z|")
    ax.set_ylim(bottom=0.0)
    p = result.max_statistic.p_value
    p_text = "" if p is None else f"adjusted p {format_p(p)} ({P_METHODS[result.p_method][0]})"
    ax.set_title(
        f"{result.endpoint.upper()} by {result.biomarker}: {p_text}", parse_math=False, fontsize=10
    )
    ax.legend(loc="best", fontsize=8, frameon=False)
    return root_figure(ax)
