"""Helpers shared by the figures: figures without pyplot, panels, messages and values."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from immunoprecise.profile import ProfileValue

__all__ = [
    "CURVE_COLORS",
    "EFFECTOR_COLOR",
    "MISSING_COLOR",
    "SUPPRESSOR_COLOR",
    "curve_look",
    "message",
    "new_figure",
    "number",
    "panels",
    "root_figure",
]

EFFECTOR_COLOR = "#2f6db5"
SUPPRESSOR_COLOR = "#c0392b"
MISSING_COLOR = "#9aa3b2"
#: One colour per curve of a figure (Kaplan–Meier groups, virtual-trial arms, ROC scores): ten,
#: as many as a numeric group column may have levels; beyond ten the colours repeat with another
#: line style (see :func:`curve_look`), so that no two curves look the same.
CURVE_COLORS = (
    "#2f6db5",
    "#c0392b",
    "#1e8449",
    "#d68910",
    "#7b4fa0",
    "#5d6d7e",
    "#a04000",
    "#d81b60",
    "#00838f",
    "#827717",
)
_LINE_STYLES: tuple[str | tuple[int, tuple[int, ...]], ...] = (
    "-",
    ":",
    "-.",
    (0, (5, 1, 1, 1, 1, 1)),
)


def curve_look(i: int) -> tuple[str, str | tuple[int, tuple[int, ...]]]:
    """The colour and line style of the ``i``-th curve of a figure (from 0).

    Examples
    --------
    >>> curve_look(0), curve_look(10)
    (('#2f6db5', '-'), ('#2f6db5', ':'))
    """
    return (
        CURVE_COLORS[i % len(CURVE_COLORS)],
        _LINE_STYLES[(i // len(CURVE_COLORS)) % len(_LINE_STYLES)],
    )


def new_figure(width: float, height: float) -> Figure:
    """A figure that belongs to no pyplot state (thread-safe, nothing global registered)."""
    return Figure(figsize=(width, height), layout="constrained")


def root_figure(ax: Axes) -> Figure:
    """The top-level figure that ``ax`` is drawn in."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("the axes belong to no figure; pass axes created on a Figure")
    return fig


def panels(
    ax: Axes | None,
    n: int,
    *,
    size: tuple[float, float],
    vertical: bool,
    ratios: Sequence[float] | None = None,
    share: bool = False,
) -> tuple[Figure, list[Axes]]:
    """``n`` panels side by side (or stacked when ``vertical``), in a new figure or in ``ax``.

    With ``ax`` given and ``n > 1``, the area of ``ax`` is divided among the panels and ``ax``
    itself is hidden.
    """
    weights = list(ratios) if ratios is not None else [1.0] * n
    if ax is None:
        fig = new_figure(*size)
        grid = fig.add_gridspec(
            n if vertical else 1,
            1 if vertical else n,
            **({"height_ratios": weights} if vertical else {"width_ratios": weights}),
        )
        axes: list[Axes] = []
        for i in range(n):
            cell = grid[i, 0] if vertical else grid[0, i]
            shared = axes[0] if share and axes else None
            axes.append(fig.add_subplot(cell, sharex=shared) if vertical else fig.add_subplot(cell))
        return fig, axes
    fig = root_figure(ax)
    if n == 1:
        return fig, [ax]
    ax.set_axis_off()
    gap = 0.14  # room for the tick labels of the next panel, in fractions of ``ax``
    span = 1.0 - gap * (n - 1)
    total = sum(weights)
    axes = []
    start = 1.0 if vertical else 0.0
    for w in weights:
        extent = span * w / total
        if vertical:
            start -= extent
            bounds = (0.0, start, 1.0, extent)
            start -= gap
        else:
            bounds = (start, 0.0, extent, 1.0)
            start += extent + gap
        shared = axes[0] if share and axes and vertical else None
        axes.append(ax.inset_axes(bounds, sharex=shared))
    return fig, axes


def message(ax: Axes, text: str) -> None:
    """Replace the content of ``ax`` by a centred message (for figures without data)."""
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=MISSING_COLOR,
        fontsize=11,
        parse_math=False,
    )


def number(value: ProfileValue | None) -> float | None:
    """The finite number of an assessed value, else ``None`` (missing, text or boolean)."""
    if value is None or value.status != "assessed":
        return None
    v = value.value
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None
