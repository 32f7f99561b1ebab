"""Simulated tumor and effector trajectories over time, and regimens compared on the tumor."""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory, offset_copy

from immunoprecise.dynamics.model import Array, Model
from immunoprecise.dynamics.trajectories import Trajectories
from immunoprecise.errors import FieldProblem, ModelError, ValidationError
from immunoprecise.pl._common import EFFECTOR_COLOR, new_figure, root_figure

__all__ = ["regimen_comparison", "trajectories"]

TUMOR_COLOR = "#c0392b"
#: Colours of the effector states (in the model's order), then of any other state.
_EFFECTOR_COLORS = (EFFECTOR_COLOR, "#1e8449", "#7b4fa0", "#17a589")
_OTHER_COLORS = ("#d68910", "#5d6d7e", "#a04000", "#b03a2e", "#2e4053", "#7d6608")
#: Colours of the regimens in :func:`regimen_comparison`.
_REGIMEN_COLORS = (
    "#2f6db5",
    "#c0392b",
    "#1e8449",
    "#d68910",
    "#7b4fa0",
    "#17a589",
    "#5d6d7e",
    "#a04000",
)
#: Dose markers: one shape (and dark colour) per agent, in order of first appearance.
_AGENT_MARKERS = ("v", "D", "s", "^", "P", "X", "o")
_AGENT_COLORS = ("#34495e", "#8e44ad", "#b9770e", "#117864", "#922b21", "#1f618d", "#6e2c00")
#: Rows of dose markers above the axes: height of the first row and between rows (points).
_DOSE_ROW_START = 7.0
_DOSE_ROW_STEP = 11.0
#: Widest range shown on a logarithmic axis (decades below the largest value).
_LOG_DECADES = 14
_GRID_COLOR = "#e6e9ef"


# --- checks and selections ----------------------------------------------------------------------


def _check_band(band: tuple[float, float] | None) -> tuple[float, float] | None:
    if band is None:
        return None
    try:
        lo, hi = (float(b) for b in band)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (0.0 <= lo < hi <= 100.0):
        raise ValidationError(
            [
                FieldProblem(
                    "band", band, "expected two percentiles (low, high) with 0 ≤ low < high ≤ 100"
                )
            ]
        )
    return lo, hi


def _default_states(model: Model) -> tuple[str, ...]:
    """The tumor and the effector states; every non-clock state when the model has neither."""
    chosen = tuple(
        s for s in ((model.tumor_state,) if model.tumor_state else ()) + model.effector_states
    )
    if chosen:
        return chosen
    clocks = {c.state for c in model.clocks}
    return tuple(s for s in model.state_names if s not in clocks)


def _select_states(model: Model, states: str | Sequence[str] | None) -> tuple[str, ...]:
    if states is None:
        names = _default_states(model)
    else:
        names = (states,) if isinstance(states, str) else tuple(states)
    if not names:
        raise ValidationError([FieldProblem("states", states, "name at least one state")])
    for name in names:
        model.state_index(name)  # ModelError naming the model's states
    return tuple(dict.fromkeys(names))


def _select_patients(
    tr: Trajectories, patients: Sequence[str | int] | str | int | None
) -> list[int]:
    if patients is None:
        return list(range(len(tr)))
    if isinstance(patients, str | int):
        patients = [patients]
    rows: list[int] = []
    problems: list[FieldProblem] = []
    index = {p: i for i, p in enumerate(tr.patients)}
    for p in patients:
        if isinstance(p, str) and p in index:
            rows.append(index[p])
        elif isinstance(p, int) and not isinstance(p, bool) and -len(tr) <= p < len(tr):
            rows.append(p % len(tr))
        else:
            shown = ", ".join(tr.patients[:10]) + (", …" if len(tr) > 10 else "")
            problems.append(
                FieldProblem("patients", p, f"no such patient id or row; patients: {shown}")
            )
    if problems:
        raise ValidationError(problems)
    if not rows:
        raise ValidationError([FieldProblem("patients", [], "select at least one patient")])
    return list(dict.fromkeys(rows))


# --- drawing helpers --------------------------------------------------------------------------


def _state_color(model: Model, name: str, others_seen: int) -> str:
    if name == model.tumor_state:
        return TUMOR_COLOR
    if name in model.effector_states:
        return _EFFECTOR_COLORS[model.effector_states.index(name) % len(_EFFECTOR_COLORS)]
    return _OTHER_COLORS[others_seen % len(_OTHER_COLORS)]


def _state_label(model: Model, name: str) -> str:
    state = model.states[model.state_index(name)]
    return f"{name}: {state.description} ({state.unit})"


def _quantiles(values: Array, q: Sequence[float]) -> Array:
    """Percentiles over patients (rows), ignoring the NaN of failed integrations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        return np.asarray(np.nanpercentile(values, q, axis=0), dtype=np.float64)


def _draw_series(
    ax: Axes,
    t: Array,
    values: Array,
    *,
    color: str,
    label: str,
    band: tuple[float, float] | None,
    band_label: str,
    gid: str,
    log: bool,
) -> list[float]:
    """One line (one patient) or a median line and a percentile band (several); the values drawn.

    On a logarithmic axis (``log``) the line's points at 0 or below are left out (masked as
    NaN): a state that starts at 0 (effectors before their dose) starts where it first is
    positive, instead of a vertical line from the bottom of the axis. A band whose lower
    percentile is 0 still reaches down to the bottom of the axis.
    """
    n = values.shape[0]
    if n == 1:
        line = _positive(values[0]) if log else values[0]
        ax.plot(t, line, color=color, linewidth=1.8, label=label, gid=gid)
        return [float(v) for v in line]
    median = _quantiles(values, [50.0])[0]
    if log:
        median = _positive(median)
    ax.plot(t, median, color=color, linewidth=1.8, label=f"{label}, median of {n}", gid=gid)
    drawn = [float(v) for v in median]
    if band is not None:
        low, high = _quantiles(values, band)
        ax.fill_between(
            t,
            low,
            high,
            color=color,
            alpha=0.18,
            linewidth=0,
            label=f"{band_label}: {band[0]:g}–{band[1]:g}th percentile",
            gid=f"band:{gid.partition(':')[2]}",
        )
        drawn += [float(v) for v in (*low, *high)]
    return drawn


def _positive(values: Array) -> Array:
    """The values with those at 0 or below as NaN (left out of a line on a logarithmic axis)."""
    return np.where(values > 0, values, np.nan)


def _doses(tr: Trajectories) -> dict[str, list[tuple[float, float | None]]]:
    """Agent → (start, end of an infusion or ``None`` for a bolus) within the simulated time."""
    t_end = float(tr.t[-1]) if tr.t.size else 0.0
    if tr.regimen is None:
        return {agent: [(d, None) for d in days] for agent, days in tr.dose_days.items()}
    out: dict[str, list[tuple[float, float | None]]] = {}
    for dose in tr.regimen.doses():
        if dose.start <= t_end:
            end = min(dose.end, t_end) if dose.is_infusion else None
            out.setdefault(dose.agent, []).append((dose.start, end))
    return out


def _draw_doses(
    ax: Axes,
    doses: Mapping[str, Sequence[tuple[float, float | None]]],
    *,
    row: int,
    color: str | None = None,
    prefix: str = "",
    markers: dict[str, int] | None = None,
) -> int:
    """Dose markers in rows above the axes, one row per agent; returns the next free row."""
    top = blended_transform_factory(ax.transData, ax.transAxes)
    markers = {} if markers is None else markers
    for agent, given in doses.items():
        k = markers.setdefault(agent, len(markers))
        lift = _DOSE_ROW_START + _DOSE_ROW_STEP * row
        trans = offset_copy(top, fig=root_figure(ax), y=lift, units="points")
        y = 1.0
        c = color or _AGENT_COLORS[k % len(_AGENT_COLORS)]
        starts = [s for s, _ in given]
        infusions = [(s, e) for s, e in given if e is not None]
        kind = "infusion" if infusions and len(infusions) == len(given) else "dose"
        ax.plot(
            starts,
            [y] * len(starts),
            transform=trans,
            linestyle="none",
            marker=_AGENT_MARKERS[k % len(_AGENT_MARKERS)],
            markersize=6,
            color=c,
            clip_on=False,
            label=f"{prefix}{agent} {kind} ({len(starts)}×)",
            gid=f"dose:{prefix}{agent}",
        )
        if infusions:
            xs: list[float] = []
            for s, e in infusions:
                xs += [s, float(e if e is not None else s), math.nan]
            ax.plot(
                xs,
                [y] * len(xs),
                transform=trans,
                color=c,
                linewidth=2.5,
                solid_capstyle="butt",
                clip_on=False,
                label="_infusion",
                gid=f"infusion:{prefix}{agent}",
            )
        row += 1
    return row


def _draw_eradication(
    ax: Axes, tr: Trajectories, rows: Sequence[int], *, color: str, gid: str = "eradication"
) -> str | None:
    """Mark eradication (tumor below one cell): a dashed line (one patient) or a rug (many).

    Returns a short text for legends (``None`` when no selected patient's tumor was eradicated).
    """
    days = tr.eradication_day[list(rows)]
    hit = days[np.isfinite(days)]
    if hit.size == 0:
        return None
    if len(rows) == 1:
        text = f"eradicated, day {hit[0]:.1f}"
        ax.axvline(float(hit[0]), color=color, linestyle="--", linewidth=1.0, label=text, gid=gid)
        return text
    text = f"eradicated {hit.size} of {len(rows)}, median day {float(np.median(hit)):.1f}"
    ax.plot(
        hit,
        np.zeros_like(hit),
        transform=blended_transform_factory(ax.transData, ax.transAxes),
        linestyle="none",
        marker="|",
        markersize=12,
        markeredgewidth=1.2,
        color=color,
        clip_on=False,
        label=text,
        gid=gid,
    )
    return text


def _scale(ax: Axes, log: bool, drawn: Sequence[float], *, one_cell: bool) -> None:
    """A logarithmic (or linear from 0) value axis fitted to what is drawn."""
    finite = np.asarray([v for v in drawn if math.isfinite(v)], dtype=np.float64)
    if not log:
        top = float(finite.max()) if finite.size else 1.0
        ax.set_ylim(bottom=0.0, top=(top * 1.05) or 1.0)
        return
    ax.set_yscale("log", nonpositive="clip")  # a state at 0 runs off the bottom of the axis
    positive = finite[finite > 0]
    if positive.size == 0:
        return
    top = float(positive.max())
    bottom = max(float(positive.min()), top * 10.0**-_LOG_DECADES)
    if one_cell:  # keep the eradication threshold, one tumor cell, in view
        bottom = min(bottom, 0.5)
    if bottom >= top:
        bottom, top = top / 10.0, top * 10.0
    ax.set_ylim(bottom=bottom / 2.0, top=top * 2.0)


def _finish(ax: Axes, *, xlabel: str, ylabel: str, title: str, dose_rows: int) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    pad = 6.0 + (_DOSE_ROW_START + _DOSE_ROW_STEP * dose_rows if dose_rows else 0.0)
    ax.set_title(textwrap.fill(title, 100), loc="left", parse_math=False, pad=pad)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color=_GRID_COLOR, linewidth=0.6)
    ax.set_xmargin(0.01)
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        frameon=False,
        borderaxespad=0.0,
    )
    for text in legend.get_texts():  # regimen labels and agents are text, not TeX
        text.set_parse_math(False)


def _regimen_text(tr: Trajectories) -> str:
    return str(tr.regimen) if tr.regimen is not None and tr.regimen.items else "no treatment"


def _axes(ax: Axes | None, label: str) -> tuple[Figure, Axes]:
    if ax is not None:
        return root_figure(ax), ax
    fig = new_figure(9.0, 4.6)
    fig.set_label(label)
    return fig, fig.add_subplot()


# --- public -----------------------------------------------------------------------------------


def trajectories(
    tr: Trajectories,
    *,
    states: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    patients: Sequence[str | int] | str | int | None = None,
    log: bool = True,
    band: tuple[float, float] | None = (5, 95),
    show_doses: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw simulated states over time: tumor and effectors, doses and eradication.

    Every state gets its own colour (tumor red, effectors blue and green) and a legend entry
    with its unit. One patient is drawn as lines; several as the median over patients with a
    shaded percentile band per state. Doses are marked above the plot, one row (and marker
    shape) per agent, with a bar over the days an infusion runs. Eradication — the tumor
    falling below one cell, after which it is 0 — is a dashed vertical line (one patient) or
    a tick per eradicated patient along the time axis (several). On the logarithmic axis,
    where 0 has no place, a line's points at 0 are left out: a state that starts at 0 (an
    effector before its dose) starts at its first positive value, and a tumor's line ends where
    it is eradicated.

    Parameters
    ----------
    tr
        A simulation result, e.g. from :func:`immunoprecise.simulate`.
    states
        State names to draw (a name or a list). Default: the tumor and the effector states
        (every state but the clocks for a model without them).
    ax
        Axes to draw into; a new figure when omitted.
    patients
        Patient ids (``tr.patients``) or row numbers to draw; default all.
    log
        Logarithmic value axis (default); linear from 0 otherwise.
    band
        Percentiles (low, high) of the band drawn for several patients; ``None`` for no band.
    show_doses
        Mark the doses of the regimen above the plot.
    title
        Title; default the model and the regimen.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the one holding ``ax`` when given); time in days on the x axis,
        the states in their units (``cells``, ``mg/L``, …) on the y axis.

    Raises
    ------
    ModelError
        For a state the model does not have (the message lists its states).
    ValidationError
        For an unknown patient or a band that is not two percentiles in increasing order.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import pl
    >>> tr = ip.simulate("cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42")
    >>> ax = pl.trajectories(tr).axes[0]
    >>> ax.get_yscale(), ax.get_xlabel(), ax.get_ylabel()
    ('log', 'time (days)', 'cells')
    >>> [t.get_text() for t in ax.get_legend().get_texts()]  # doctest: +NORMALIZE_WHITESPACE
    ['T: tumor cells (cells)', 'C_T: effector CAR-T cells (cells)',
     'eradicated, day 48.7', 'CAR-T dose (1×)']
    """
    model = tr.model
    names = _select_states(model, states)
    rows = _select_patients(tr, patients)
    chosen_band = _check_band(band)
    n = len(rows)
    fig, panel = _axes(ax, f"Simulated trajectories, model {model.id}")
    drawn: list[float] = []
    others = 0
    for name in names:
        color = _state_color(model, name, others)
        if name != model.tumor_state and name not in model.effector_states:
            others += 1
        values = tr.y[rows][:, :, model.state_index(name)]
        drawn += _draw_series(
            panel,
            tr.t,
            values,
            color=color,
            label=_state_label(model, name),
            band=chosen_band,
            band_label=name,
            gid=f"state:{name}",
            log=log,
        )
    if model.tumor_state is not None:
        _draw_eradication(panel, tr, rows, color=TUMOR_COLOR)
    dose_rows = _draw_doses(panel, _doses(tr), row=0) if show_doses else 0
    _scale(panel, log, drawn, one_cell=model.tumor_state in names)
    units = list(dict.fromkeys(model.states[model.state_index(s)].unit for s in names))
    default_title = f"{model.id} — {_regimen_text(tr)}"
    if n > 1:
        default_title += f" · {n} virtual patients"
    elif len(tr) > 1:
        default_title += f" · patient {tr.patients[rows[0]]}"
    _finish(
        panel,
        xlabel="time (days)",
        ylabel=units[0] if len(units) == 1 else "value (units in the legend)",
        title=default_title if title is None else title,
        dose_rows=dose_rows,
    )
    return fig


def regimen_comparison(
    results: Mapping[str, Trajectories],
    *,
    ax: Axes | None = None,
    log: bool = True,
    band: tuple[float, float] | None = (5, 95),
    show_doses: bool = True,
    title: str | None = None,
) -> Figure:
    """Compare candidate regimens on the tumor: one median line (and band) per regimen.

    Each regimen gets its own colour; its legend entry says how many patients' tumors were
    eradicated. With one patient per regimen the lines are that patient's tumor; with several,
    the median over patients and a shaded percentile band. Doses are marked above the plot,
    one row per regimen and agent, in the regimen's colour.

    Parameters
    ----------
    results
        Label → simulation result, all of the same model (e.g. the same virtual patients
        simulated under each candidate regimen).
    ax
        Axes to draw into; a new figure when omitted.
    log
        Logarithmic tumor axis (default), on which a line's points at 0 are left out (the
        line ends where the tumor is eradicated); linear from 0 otherwise.
    band
        Percentiles (low, high) of the band drawn for several patients; ``None`` for no band.
    show_doses
        Mark each regimen's doses above the plot.
    title
        Title; default the model and the number of regimens.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the one holding ``ax`` when given); time in days, tumor in the
        tumor state's unit (cells).

    Raises
    ------
    ValidationError
        For no results, a value that is not a :class:`~immunoprecise.dynamics.Trajectories`,
        or a bad band.
    ModelError
        For results of different models, or a model without a tumor state.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import pl
    >>> results = {
    ...     "no treatment": ip.simulate("cartmath2021", t_end=100),
    ...     "CAR-T d42": ip.simulate("cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42"),
    ... }
    >>> ax = pl.regimen_comparison(results, show_doses=False).axes[0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['no treatment', 'CAR-T d42 — eradicated, day 48.7']
    """
    if not isinstance(results, Mapping) or not results:
        raise ValidationError(
            [FieldProblem("results", None, "give at least one label → Trajectories mapping")]
        )
    bad = [
        FieldProblem(f"results[{label!r}]", type(tr).__name__, "must be a Trajectories")
        for label, tr in results.items()
        if not isinstance(tr, Trajectories)
    ]
    if bad:
        raise ValidationError(bad)
    models = list(dict.fromkeys(tr.model.id for tr in results.values()))
    if len(models) > 1:
        raise ModelError(f"regimen_comparison needs results of one model; got {', '.join(models)}")
    model = next(iter(results.values())).model
    if model.tumor_state is None:
        raise ModelError(f"model {model.id} has no tumor state to compare regimens on")
    chosen_band = _check_band(band)
    fig, panel = _axes(ax, f"Regimens compared on the tumor, model {model.id}")
    drawn: list[float] = []
    row = 0
    markers: dict[str, int] = {}
    tumor = model.state_index(model.tumor_state)
    for i, (label, tr) in enumerate(results.items()):
        color = _REGIMEN_COLORS[i % len(_REGIMEN_COLORS)]
        erad = tr.eradication_day[np.isfinite(tr.eradication_day)]
        if len(tr) == 1:
            note = f" — eradicated, day {erad[0]:.1f}" if erad.size else ""
        else:
            note = f" — eradicated {erad.size} of {len(tr)}" if erad.size else ""
        drawn += _draw_series(
            panel,
            tr.t,
            tr.y[:, :, tumor],
            color=color,
            label=f"{label}{note}",
            band=chosen_band,
            band_label=label,
            gid=f"regimen:{label}",
            log=log,
        )
        if show_doses:
            row = _draw_doses(
                panel, _doses(tr), row=row, color=color, prefix=f"{label}: ", markers=markers
            )
    _scale(panel, log, drawn, one_cell=True)
    unit = model.states[tumor].unit
    _finish(
        panel,
        xlabel="time (days)",
        ylabel=f"tumor ({unit})",
        title=f"{model.id} — tumor under {len(results)} regimens" if title is None else title,
        dose_rows=row,
    )
    return fig
