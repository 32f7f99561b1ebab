"""Cut-point scan: the standardized log-rank statistic against every candidate cut."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from immunoprecise.cohort.cutpoint import P_METHODS, Cutpoint
from immunoprecise.cohort.statistic import format_p
from immunoprecise.pl._common import (
    EFFECTOR_COLOR,
    MISSING_COLOR,
    SUPPRESSOR_COLOR,
    new_figure,
    root_figure,
)

__all__ = ["cutpoint_scan"]


def cutpoint_scan(result: Cutpoint, *, ax: Axes | None = None) -> Figure:
    """Draw the standardized log-rank statistic ``|Z|`` of every candidate cut-point.

    The scan of :func:`~immunoprecise.cohort.cutpoint.optimal_cutpoint` is drawn as a step-free
    line with one marker per candidate cut (as R's ``plot.maxtest``); the chosen cut is a
    dashed vertical line up to ``max |Z|`` and its bootstrap CI a shaded band. The title gives
    the adjusted p-value and its method.

    Parameters
    ----------
    result
        The result of :func:`~immunoprecise.cohort.cutpoint.optimal_cutpoint`.
    ax
        Axes to draw into; a new figure (not registered with pyplot) when omitted.

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
    cuts = np.asarray(result.scan_cuts)
    z = np.abs(np.asarray(result.scan_statistics))
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
        label=f"cut-point {cut:.3g} (max |Z| {stat:.2f})",
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
