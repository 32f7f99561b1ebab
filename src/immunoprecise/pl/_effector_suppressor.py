"""Effector versus suppressor cells: tissue densities by region and circulating counts."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from immunoprecise.pl._common import (
    EFFECTOR_COLOR,
    MISSING_COLOR,
    SUPPRESSOR_COLOR,
    message,
    number,
    panels,
)
from immunoprecise.profile import ImmuneProfile

__all__ = ["EFFECTOR_MARKERS", "SUPPRESSOR_MARKERS", "effector_suppressor"]

#: IHC markers of effector lymphocytes: T cells (CD3, CD4, CD8, memory CD45RO), NK cells (CD56,
#: CD57, CD16) and cytotoxic granules (granzyme B, TIA-1, perforin).
EFFECTOR_MARKERS = frozenset(
    {"CD3", "CD8", "CD4", "CD45RO", "CD56", "CD57", "CD16", "GZMB", "TIA1", "PRF1"}
)
#: IHC markers of suppressor cells: regulatory T cells (FOXP3) and M2 macrophages (CD163).
SUPPRESSOR_MARKERS = frozenset({"FOXP3", "CD163"})

NO_DATA_MESSAGE = "no effector or suppressor data"

_MARKER_ORDER = (
    "CD3",
    "CD8",
    "CD4",
    "CD45RO",
    "CD56",
    "CD57",
    "CD16",
    "GZMB",
    "TIA1",
    "PRF1",
    "FOXP3",
    "CD163",
)
_REGION_ORDER = (
    "tumor_core",
    "invasive_margin",
    "stroma",
    "intrafollicular",
    "interfollicular",
    "whole_section",
)
_SUBSETS = {
    "cd8": "CD8⁺ T",
    "nk": "NK",
    "gamma_delta": "γδ T",
    "nkt": "NKT",
}


@dataclass(frozen=True)
class _Bar:
    label: str
    value: float | None
    suppressor: bool


def _rank(item: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(item) if item in order else len(order), item)


def _densities(
    profile: ImmuneProfile,
) -> tuple[dict[str, dict[str, float | None]], str, list[str]]:
    """Region -> effector or suppressor marker -> density (``None`` if not assessable), the
    unit, and the other markers (tumor or lineage markers such as CD138, CD20, CD68)."""
    table: dict[str, dict[str, float | None]] = {}
    unit = "cells/mm²"
    others: set[str] = set()
    for key, value in profile.values.items():
        if not key.startswith("density."):
            continue
        marker, _, region = key.removeprefix("density.").rpartition(".")
        if not marker or not region:
            continue
        if marker.upper() not in EFFECTOR_MARKERS | SUPPRESSOR_MARKERS:
            others.add(marker)
            continue
        table.setdefault(region, {})[marker] = number(value)
        unit = value.unit or unit
    return table, unit, sorted(others)


def _counts(profile: ImmuneProfile) -> tuple[list[_Bar], str]:
    """Circulating effector subsets then regulatory T cells, and the unit."""
    bars: list[_Bar] = []
    unit = "cells/µL"
    prefix = "effector_count."
    subsets = sorted(
        (k.removeprefix(prefix) for k in profile.values if k.startswith(prefix)),
        key=lambda s: _rank(s, tuple(_SUBSETS)),
    )
    for subset in subsets:
        value = profile.values[f"effector_count.{subset}"]
        bars.append(_Bar(_SUBSETS.get(subset, subset), number(value), suppressor=False))
        unit = value.unit or unit
    treg = profile.get("treg_count")
    if treg is not None:
        bars.append(_Bar("Treg", number(treg), suppressor=True))
        unit = treg.unit or unit
    return bars, unit


def _marker_colors(markers: list[str]) -> dict[str, str]:
    effectors = [m for m in markers if m.upper() not in SUPPRESSOR_MARKERS]
    suppressors = [m for m in markers if m.upper() in SUPPRESSOR_MARKERS]
    colors: dict[str, str] = {}
    for group, base, cmap in (
        (effectors, EFFECTOR_COLOR, "Blues"),
        (suppressors, SUPPRESSOR_COLOR, "Reds"),
    ):
        if len(group) == 1:
            colors[group[0]] = base
            continue
        shades = colormaps[cmap]
        for i, marker in enumerate(group):
            r, g, b, _ = shades(0.45 + 0.5 * i / (len(group) - 1))
            colors[marker] = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
    return colors


def _draw_densities(
    ax: Axes, table: dict[str, dict[str, float | None]], unit: str, others: list[str]
) -> None:
    regions = sorted(table, key=lambda r: _rank(r, _REGION_ORDER))
    markers = sorted({m for r in table.values() for m in r}, key=lambda m: _rank(m, _MARKER_ORDER))
    colors = _marker_colors(markers)
    width = 0.8 / len(markers)
    top = max((v for r in table.values() for v in r.values() if v is not None), default=1.0)
    for i, marker in enumerate(markers):
        offset = (i - (len(markers) - 1) / 2) * width
        xs = [x + offset for x, r in enumerate(regions) if table[r].get(marker) is not None]
        heights = [v for r in regions if (v := table[r].get(marker)) is not None]
        kind = "suppressor" if marker.upper() in SUPPRESSOR_MARKERS else "effector"
        ax.bar(xs, heights, width, color=colors[marker], label=f"{marker} ({kind})")
        for x, r in enumerate(regions):
            if marker in table[r] and table[r][marker] is None:
                ax.text(
                    x + offset,
                    0.02 * (top or 1.0),
                    "n/a",
                    ha="center",
                    va="bottom",
                    rotation=90,
                    fontsize=7,
                    color=MISSING_COLOR,
                )
    ax.set_xticks(range(len(regions)), [r.replace("_", " ") for r in regions])
    ax.set_ylabel(f"density ({unit})")
    label = "tumor region (IHC)"
    if others:
        note = f"not shown (neither effector nor suppressor): {', '.join(others)}"
        label += "\n" + textwrap.fill(note, 40)
    ax.set_xlabel(label, parse_math=False)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=min(len(markers), 3),
        fontsize=7,
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)


def _draw_counts(ax: Axes, bars: list[_Bar], unit: str) -> None:
    top = max((b.value for b in bars if b.value is not None), default=1.0)
    for x, bar in enumerate(bars):
        color = SUPPRESSOR_COLOR if bar.suppressor else EFFECTOR_COLOR
        if bar.value is None:
            ax.text(x, 0.02 * (top or 1.0), "n/a", ha="center", va="bottom", color=MISSING_COLOR)
            continue
        ax.bar([x], [bar.value], 0.6, color=color, label=bar.label)
    ax.set_xticks(range(len(bars)), [b.label for b in bars], rotation=30, ha="right")
    ax.set_ylabel(f"count ({unit})")
    ax.set_xlabel("blood")
    ax.legend(
        handles=[
            Patch(color=EFFECTOR_COLOR, label="effector"),
            Patch(color=SUPPRESSOR_COLOR, label="suppressor"),
        ],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=2,
        fontsize=7,
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)


def effector_suppressor(profile: ImmuneProfile, *, ax: Axes | None = None) -> Figure:
    """Draw effector versus suppressor immune cells as grouped bars.

    The first panel groups, per tissue region, the IHC densities of the profile values
    ``density.<MARKER>.<region>`` (cells/mm²): effector markers (:data:`EFFECTOR_MARKERS`:
    CD3, CD8, CD56, …) in blues, suppressor markers (FOXP3 regulatory T cells, CD163 M2
    macrophages) in reds. Other markers (tumor or lineage markers such as CD138, CD20, CD68)
    are not drawn; the axis label names them.
    A second panel, when the profile has them, shows circulating effector counts
    ``effector_count.<subset>`` (CD8⁺ T, NK, γδ T, NKT cells) and ``treg_count`` (cells/µL).
    A value that is not assessable is marked ``n/a`` instead of a bar; with neither densities
    nor counts the figure says so.

    Parameters
    ----------
    profile
        The patient's immune profile.
    ax
        Axes to draw into (divided in two when both panels are drawn); a new figure when
        omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the one holding ``ax`` when given).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import pl
    >>> prof = ip.profile(ip.read_patient(ip.data.example_path("crc_msih.json")))
    >>> fig = pl.effector_suppressor(prof)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['density (cells/mm²)', 'count (cells/µL)']
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['tumor core', 'invasive margin']
    """
    table, density_unit, others = _densities(profile)
    bars, count_unit = _counts(profile)
    kinds = [k for k, present in (("tissue", table), ("blood", bars)) if present]
    markers = {m for r in table.values() for m in r}
    widths = {"tissue": max(0.35 * len(table) * len(markers), 2.0), "blood": 0.45 * len(bars)}
    fig, axes = panels(
        ax,
        max(len(kinds), 1),
        size=(8.0, 4.0),
        vertical=False,
        ratios=[max(widths[k], 1.0) for k in kinds] or None,
    )
    if ax is None:
        fig.set_label(f"Effector and suppressor cells of patient {profile.patient_id}")
    if not kinds:
        message(axes[0], NO_DATA_MESSAGE)
    for kind, panel in zip(kinds, axes[: len(kinds)], strict=True):
        if kind == "tissue":
            _draw_densities(panel, table, density_unit, others)
        else:
            _draw_counts(panel, bars, count_unit)
    title = f"Effector vs suppressor cells — {profile.patient_id}"
    if ax is None:
        fig.suptitle(title, parse_math=False)
    else:
        ax.set_title(title, parse_math=False)
    return fig
