"""ROC curves with AUC and DeLong CI in the legend; forest plots of per-cohort estimates."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.transforms import blended_transform_factory

from immunoprecise.cohort.meta import PooledEstimate
from immunoprecise.cohort.predictors import CrossCohortEvaluation, PredictorComparison
from immunoprecise.cohort.roc import RocCurve
from immunoprecise.cohort.statistic import Statistic, format_ratio
from immunoprecise.pl._common import (
    EFFECTOR_COLOR,
    MISSING_COLOR,
    curve_look,
    message,
    new_figure,
    root_figure,
)

__all__ = ["forest", "roc"]

_POOLED_COLOR = "#1b2631"

ForestInput: TypeAlias = (
    CrossCohortEvaluation
    | PooledEstimate
    | Sequence[tuple[str, Statistic]]
    | Mapping[str, Statistic]
)


def roc(
    curves: RocCurve | Sequence[RocCurve] | PredictorComparison,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw empirical ROC curves, each labelled with its AUC and DeLong CI.

    Parameters
    ----------
    curves
        One :class:`~immunoprecise.cohort.roc.RocCurve`, several, or a
        :class:`~immunoprecise.cohort.predictors.PredictorComparison` (its curves, all on the
        same patients).
    ax
        Axes to draw into; a new figure (no pyplot state) when omitted.
    title
        Title; by default the number of patients and responders.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into: false-positive rate (1 − specificity) against true-positive rate
        (sensitivity), the diagonal of chance, one line per score.

    Examples
    --------
    >>> from immunoprecise.cohort.roc import roc_curve
    >>> curve = roc_curve([1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.4, 0.5, 0.2, 0.1], name="score")
    >>> ax = roc(curve).axes[0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['score: AUC 0.89 (95% CI 0.26–0.99)']
    """
    if isinstance(curves, PredictorComparison):
        items = list(curves.curves)
    elif isinstance(curves, RocCurve):
        items = [curves]
    else:
        items = list(curves)
    if ax is None:
        fig = new_figure(5.6, 5.4)
        ax = fig.add_subplot()
        fig.set_label("ROC curves: " + ", ".join(c.name for c in items))
    if not items:
        message(ax, "no ROC curve to draw")
        return root_figure(ax)
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color=MISSING_COLOR, label="_chance")
    for i, c in enumerate(items):
        ax.plot(
            c.fpr,
            c.tpr,
            color=curve_look(i)[0],
            ls=curve_look(i)[1],
            lw=1.8,
            label=f"{c.name}: AUC {_interval(c.auc)}",
        )
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 − specificity (false-positive rate)")
    ax.set_ylabel("Sensitivity (true-positive rate)")
    first = items[0]
    same = all(
        (c.n_responders, c.n_non_responders) == (first.n_responders, first.n_non_responders)
        for c in items
    )
    default = (
        f"{first.n_responders + first.n_non_responders} patients, {first.n_responders} responders"
        if same
        else "ROC curves"
    )
    ax.set_title(title if title is not None else default, parse_math=False)
    legend = ax.legend(loc="lower right", fontsize=8, frameon=False)
    for text in legend.get_texts():
        text.set_parse_math(False)
    return root_figure(ax)


def forest(
    data: ForestInput,
    *,
    pooled: Statistic | None = None,
    predictor: str | None = None,
    reference: float | None = None,
    log_scale: bool = False,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw a forest plot: one estimate with its CI per row, and the pooled estimate as a diamond.

    Works for AUCs across cohorts (reference line at 0.5) and for hazard ratios (reference 1,
    ``log_scale=True``) alike.

    Parameters
    ----------
    data
        A :class:`~immunoprecise.cohort.predictors.CrossCohortEvaluation` (one block per
        predictor, or only ``predictor``), a :class:`~immunoprecise.cohort.meta.PooledEstimate`
        (its studies, sized by weight, and the pooled diamond), or labelled statistics
        (``[(label, Statistic), …]`` or a mapping).
    pooled
        A pooled statistic to draw as a diamond under labelled statistics.
    predictor
        With an evaluation of several predictors: draw only this one.
    reference
        Where to draw the line of no effect; by default 0.5 for AUCs, 1 with ``log_scale``,
        none otherwise.
    log_scale
        Logarithmic x axis (ratios).
    xlabel
        Label of the x axis; by default the statistics' name.
    ax
        Axes to draw into; a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into; estimates and CIs are written at the right. An infinite CI
        bound (an unbounded ratio) is drawn to just beyond the finite values, with an arrowhead.
        The cohorts an evaluation left out (``skipped``, with the reason) are named in a note
        under the plot, as ``immunoprecise cohort predictors`` lists them.

    Raises
    ------
    ValueError
        Naming the row, when an estimate is not a finite number, a CI bound is NaN, or — with
        ``log_scale`` — an estimate or bound is ≤ 0.

    Examples
    --------
    >>> from immunoprecise.cohort.statistic import Statistic
    >>> hr = [("trial A", Statistic(name="hazard ratio", estimate=0.7, ci_low=0.5, ci_high=0.98,
    ...                             ci_level=0.95, n=200, method="Cox")),
    ...       ("trial B", Statistic(name="hazard ratio", estimate=0.9, ci_low=0.6, ci_high=1.35,
    ...                             ci_level=0.95, n=120, method="Cox"))]
    >>> ax = forest(hr, reference=1.0, log_scale=True).axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['trial A', 'trial B']
    >>> ax.get_xscale()
    'log'
    """
    sections = _sections(data, pooled=pooled, predictor=predictor)
    skipped = _skipped(data, predictor)
    rows = sum(len(s[1]) + (1 if s[2] is not None else 0) + (1 if s[0] else 0) for s in sections)
    if ax is None:
        fig = new_figure(7.0, 1.2 + 0.32 * max(rows, 2))
        ax = fig.add_subplot()
        fig.set_label("Forest plot")
    if rows == 0:
        message(ax, "no estimate to draw")
        _skipped_note(ax, skipped)
        return root_figure(ax)
    stats_all = [s for _, items, _, _ in sections for _, s in items] + [
        p for _, _, p, _ in sections if p is not None
    ]
    name = "AUC" if isinstance(data, CrossCohortEvaluation) else stats_all[0].name
    if reference is None:
        if log_scale:
            reference = 1.0
        elif "AUC" in name or isinstance(data, CrossCohortEvaluation):
            reference = 0.5
    named = [(label, st) for _, items, _, _ in sections for label, st in items]
    named += [("pooled", p) for _, _, p, _ in sections if p is not None]
    for label, st in named:
        _check_drawable(label, st, log_scale=log_scale)
    edges = _edges(stats_all, reference, log_scale=log_scale)
    right = blended_transform_factory(ax.transAxes, ax.transData)
    y = 0.0
    ticks: list[float] = []
    labels: list[str] = []
    for title, items, pooled_stat, weights in sections:
        if title:
            ax.text(
                0.0,
                y,
                title,
                transform=right,
                ha="right",
                va="center",
                fontweight="bold",
                parse_math=False,  # a predictor's name is data ('$5-$10'), never TeX
            )
            y += 1
        max_w = max(weights) if weights else 1.0
        for j, (label, s) in enumerate(items):
            lo, hi = _bounds(s, edges)
            ax.plot([lo, hi], [y, y], color=EFFECTOR_COLOR, lw=1.4)
            _open_ends(ax, s, edges, y)
            size = 4 + 8 * math.sqrt(weights[j] / max_w) if weights else 6
            ax.plot([s.estimate], [y], marker="s", ms=size, color=EFFECTOR_COLOR, ls="none")
            ax.text(
                1.02,
                y,
                _interval(s, level=False, ratio=log_scale),
                transform=right,
                va="center",
                fontsize=8,
            )
            ticks.append(y)
            labels.append(label)
            y += 1
        if pooled_stat is not None:
            lo, hi = _bounds(pooled_stat, edges)
            _open_ends(ax, pooled_stat, edges, y)
            diamond = Polygon(
                [
                    (lo, y),
                    (pooled_stat.estimate, y - 0.3),
                    (hi, y),
                    (pooled_stat.estimate, y + 0.3),
                ],
                closed=True,
                color=_POOLED_COLOR,
            )
            ax.add_patch(diamond)
            ax.text(
                1.02,
                y,
                _interval(pooled_stat, level=False, ratio=log_scale),
                transform=right,
                va="center",
                fontsize=8,
                fontweight="bold",
            )
            ticks.append(y)
            labels.append("pooled (random effects)" if weights else "pooled")
            y += 1
        y += 0.5
    if log_scale:
        ax.set_xscale("log")
    if reference is not None:
        ax.axvline(reference, color=MISSING_COLOR, ls="--", lw=1)
    ax.set_yticks(ticks, labels)
    for tick in ax.get_yticklabels():
        tick.set_parse_math(False)
    ax.set_ylim(y - 0.5, -1.0)
    level = next((s.ci_level for s in stats_all if s.ci_level is not None), None)
    ci = f" ({100 * level:g}% CI)" if level is not None else ""
    ax.set_xlabel(xlabel if xlabel is not None else f"{name}{ci}", parse_math=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _skipped_note(ax, skipped)
    return root_figure(ax)


def _skipped(data: ForestInput, predictor: str | None) -> list[str]:
    """The cohorts an evaluation left out, as the CLI lists them: 'cohort, predictor: reason'."""
    if not isinstance(data, CrossCohortEvaluation):
        return []
    return [
        f"{cohort}, {r.predictor}: {why}"
        for r in data.results
        if predictor is None or r.predictor == predictor
        for cohort, why in r.skipped
    ]


def _skipped_note(ax: Axes, skipped: list[str]) -> None:
    """Name the cohorts left out under the plot, so that a reader does not take the rows drawn
    for every cohort."""
    if not skipped:
        return
    lines = [
        textwrap.fill(f"not evaluated: {line}", width=80, subsequent_indent="  ")
        for line in skipped
    ]
    ax.annotate(
        "\n".join(lines),
        xy=(0.0, 0.0),
        xycoords="axes fraction",
        xytext=(0, -40),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7,
        color=MISSING_COLOR,
        annotation_clip=False,
        parse_math=False,  # cohort names and reasons are data, never TeX
    )


def _sections(
    data: ForestInput, *, pooled: Statistic | None, predictor: str | None
) -> list[tuple[str | None, list[tuple[str, Statistic]], Statistic | None, list[float]]]:
    if isinstance(data, CrossCohortEvaluation):
        results = [r for r in data.results if predictor is None or r.predictor == predictor]
        if not results:
            raise ValueError(f"predictor {predictor!r} is not in the evaluation: {data.predictors}")
        out = []
        for r in results:
            items = [(c.cohort, c.auc) for c in r.per_cohort]
            weights = (
                [dict(zip(r.pooled.labels, r.pooled.weights, strict=True))[c] for c, _ in items]
                if r.pooled
                else []
            )
            title = r.predictor if len(results) > 1 else None
            out.append((title, items, r.pooled.pooled if r.pooled else None, weights))
        return out
    if isinstance(data, PooledEstimate):
        items = list(zip(data.labels, data.studies, strict=True))
        return [(None, items, data.pooled, list(data.weights))]
    if isinstance(data, Mapping):
        return [(None, list(data.items()), pooled, [])]
    return [(None, [(str(label), s) for label, s in data], pooled, [])]


def _check_drawable(label: str, s: Statistic, *, log_scale: bool) -> None:
    """Refuse a row that cannot be drawn, rather than leave its marker out without a word."""
    if not math.isfinite(s.estimate):
        raise ValueError(
            f"forest: {label!r} has {s.name} {s.estimate}, not a finite number; leave the row out"
        )
    for what, v in (("CI bound", s.ci_low), ("CI bound", s.ci_high)):
        if v is not None and math.isnan(v):
            raise ValueError(f"forest: {label!r} has {what} nan; give both bounds or neither")
    if log_scale:
        for what, v in ((s.name, s.estimate), ("CI bound", s.ci_low), ("CI bound", s.ci_high)):
            if v is not None and v <= 0:
                raise ValueError(
                    f"forest: {label!r} has {what} {v:g} ≤ 0, which a logarithmic axis cannot "
                    "show; draw it with log_scale=False"
                )


def _edges(
    stats: Sequence[Statistic], reference: float | None, *, log_scale: bool
) -> tuple[float, float]:
    """Where an open-ended (infinite) CI bound is drawn: just beyond the finite values."""
    values = [
        v
        for s in stats
        for v in (s.estimate, s.ci_low, s.ci_high)
        if v is not None and math.isfinite(v)
    ]
    if reference is not None:
        values.append(reference)
    lo, hi = min(values), max(values)
    if log_scale:
        return lo / 2, hi * 2
    pad = 0.1 * (hi - lo) or 1.0
    return lo - pad, hi + pad


def _bounds(s: Statistic, edges: tuple[float, float]) -> tuple[float, float]:
    lo = s.ci_low if s.ci_low is not None else s.estimate
    hi = s.ci_high if s.ci_high is not None else s.estimate
    return max(lo, edges[0]), min(hi, edges[1])


def _open_ends(ax: Axes, s: Statistic, edges: tuple[float, float], y: float) -> None:
    """An arrowhead where the CI is unbounded (e.g. an infinite upper limit of a ratio)."""
    for bound, edge, marker in ((s.ci_low, edges[0], "<"), (s.ci_high, edges[1], ">")):
        if bound is not None and math.isinf(bound):
            ax.plot([edge], [y], marker=marker, ms=6, color=EFFECTOR_COLOR, ls="none")


def _interval(s: Statistic, *, level: bool = True, ratio: bool = False) -> str:
    """A statistic with its CI as the figures write it (``level``: "95% CI " in the brackets).

    A ratio (its name says "ratio", or ``ratio``: a row of a forest on a logarithmic axis) is
    written by :func:`~immunoprecise.cohort.statistic.format_ratio`, as in the tables, so
    that its decimals (those that tell it and its CI apart from 1) are the same everywhere.
    """
    if ratio or "ratio" in s.name.lower():
        text = format_ratio(s.estimate, s.ci_low, s.ci_high)
        if level and s.ci_level is not None and " (" in text:
            head, _, rest = text.partition(" (")
            text = f"{head} ({100 * s.ci_level:g}% CI {rest}"
        return text
    if s.ci_low is None or s.ci_high is None or s.ci_level is None:
        return f"{s.estimate:.2f}"
    head = f"{100 * s.ci_level:g}% CI " if level else ""
    return f"{s.estimate:.2f} ({head}{_bound(s.ci_low)}–{_bound(s.ci_high)})"


def _bound(x: float, digits: int = 2) -> str:
    """A CI bound as a reader writes it: an unbounded end of a ratio's interval is ``∞``."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}f}"
