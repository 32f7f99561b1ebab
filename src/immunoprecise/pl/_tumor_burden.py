"""Tumor burden over time: one panel per measure recorded."""

from __future__ import annotations

import datetime as dt
import math

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from immunoprecise.pl._common import message, panels
from immunoprecise.records import PatientRecord

__all__ = ["BURDEN_MEASURES", "tumor_burden"]

#: Burden measures (field of ``BurdenMeasurement``, label, unit, logarithmic axis), in the order
#: the panels are drawn.
BURDEN_MEASURES: tuple[tuple[str, str, str, bool], ...] = (
    ("sum_of_diameters", "Sum of diameters", "mm", False),
    ("spd", "SPD", "mm²", False),
    ("cell_count", "Tumor cells", "cells", True),
    ("marrow_blasts", "Marrow blasts", "%", False),
    ("m_protein", "M-protein", "g/L", False),
)

NO_DATA_MESSAGE = "no tumor burden measurements"
_COLORS = ("#2f6db5", "#7b4fa0", "#c0392b", "#d68910", "#1e8449")


def tumor_burden(record: PatientRecord, *, ax: Axes | None = None) -> Figure:
    """Draw the tumor burden measurements of a record over time.

    The measurements (``record.disease.burden``) are sorted by date, and every measure that
    is recorded at least once gets its own panel with its own unit, sharing the date axis:
    RECIST sum of target-lesion diameters (mm), Lugano sum of the products of perpendicular
    diameters (SPD, mm²), estimated tumor cell count (cells, logarithmic axis), bone-marrow
    blasts (%) and serum M-protein (g/L). A measure missing at some date is not interpolated:
    its line joins only the dates where it was measured. Without any measurement the figure
    says so.

    Parameters
    ----------
    record
        A validated patient record.
    ax
        Axes to draw into (divided into stacked panels when several measures are recorded);
        a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the one holding ``ax`` when given).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import pl
    >>> record = ip.read_patient(ip.data.example_path("mm_post_asct.json"))
    >>> fig = pl.tumor_burden(record)
    >>> fig.axes[0].get_ylabel()
    'M-protein (g/L)'
    """
    burden = sorted(record.disease.burden, key=lambda b: b.date)
    series: list[tuple[str, str, bool, list[dt.date], list[float]]] = []
    for field, label, unit, log in BURDEN_MEASURES:
        points = [(b.date, q) for b in burden if (q := getattr(b, field)) is not None]
        if points:
            values = [q.value if q.unit == unit else q.to(unit) for _, q in points]
            series.append((label, unit, log, [d for d, _ in points], values))
    n = max(len(series), 1)
    fig, axes = panels(ax, n, size=(7.0, 1.2 + 1.6 * n), vertical=True, share=True)
    title = f"Tumor burden — {record.patient.id}"
    if ax is None:
        fig.set_label(f"Tumor burden of patient {record.patient.id}")
        fig.suptitle(title, parse_math=False)
    else:
        ax.set_title(title, parse_math=False)
    if not series:
        message(axes[0], NO_DATA_MESSAGE)
        return fig
    for i, (panel, (label, unit, log, dates, values)) in enumerate(zip(axes, series, strict=True)):
        color = _COLORS[i % len(_COLORS)]
        days = np.array(dates, dtype="datetime64[D]")
        panel.plot(days, values, marker="o", color=color, label=label)
        if log and min(values) > 0:
            panel.set_yscale("log")
        elif log:  # a count of 0 (e.g. no detectable disease) has no logarithm
            panel.set_yscale("symlog", linthresh=1.0)
            decades = max(math.ceil(math.log10(max(max(values), 1.0))), 1)
            step = math.ceil(decades / 5)
            panel.set_yticks([0.0, *(10.0**k for k in range(0, decades + 1, step))])
        else:
            panel.set_ylim(bottom=0, top=max(values) * 1.1 or 1.0)
        panel.set_ylabel(f"{label} ({unit})")
        panel.spines[["top", "right"]].set_visible(False)
        panel.grid(axis="y", color="#e6e9ef", linewidth=0.6)
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
        panel.xaxis.set_major_locator(locator)
        concise = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        panel.xaxis.set_major_formatter(concise)
        if i < len(series) - 1:
            panel.tick_params(axis="x", labelbottom=False)
    axes[-1].set_xlabel("date")
    return fig
