"""The cancer immunogram as a radar chart."""

from __future__ import annotations

import math
import textwrap

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from immunoprecise.pl._common import MISSING_COLOR, new_figure, number, root_figure
from immunoprecise.profile import ImmuneProfile

__all__ = ["IMMUNOGRAM_AXES", "immunogram"]

#: The seven immunogram axes (profile keys ``immunogram.<axis>``), in the order of Blank et al.
IMMUNOGRAM_AXES: tuple[tuple[str, str], ...] = (
    ("tumor_foreignness", "Tumor foreignness"),
    ("general_immune_status", "General immune status"),
    ("immune_cell_infiltration", "Immune cell infiltration"),
    ("absence_of_checkpoints", "Absence of checkpoints"),
    ("absence_of_soluble_inhibitors", "Absence of soluble inhibitors"),
    ("absence_of_inhibitory_metabolism", "Absence of inhibitory tumor metabolism"),
    ("tumor_sensitivity_to_immune_effectors", "Tumor sensitivity to immune effectors"),
)

NO_DATA = "(no data)"
_COLOR = "#2f6db5"
_TOLERANCE = 1e-9


def immunogram(profile: ImmuneProfile, *, ax: Axes | None = None) -> Figure:
    """Draw the patient's cancer immunogram as a radar chart.

    The seven axes of the cancer immunogram of Blank, Haanen, Ribas and Schumacher
    (Science 2016;352:658–660, doi:10.1126/science.aaf2834) — tumor foreignness, general immune
    status, immune cell infiltration, absence of checkpoints, absence of soluble inhibitors,
    absence of inhibitory tumor metabolism and tumor sensitivity to immune effectors — are the
    spokes; each is read from the profile value ``immunogram.<axis>``, a score in [0, 1] where
    1 is favourable for an anti-tumor immune response.

    An axis without data (missing from the profile, or ``not_assessable``) is never drawn as 0:
    the outline has a gap there, the spoke is dashed and grey, and its label ends in
    ``(no data)``. Only wedges between two neighbouring assessed axes are shaded.

    Parameters
    ----------
    profile
        The patient's immune profile.
    ax
        Polar axes to draw into (``projection="polar"``); a new figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the one holding ``ax`` when given).

    Raises
    ------
    ValueError
        If ``ax`` is not polar, or an assessed axis has a score that is not a number in [0, 1].

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise import pl
    >>> prof = ip.profile(ip.read_patient(ip.data.example_path("melanoma_braf.json")))
    >>> fig = pl.immunogram(prof)
    >>> len(fig.axes[0].get_xticklabels())
    7
    >>> fig.axes[0].get_title()
    'Immunogram — SYN-MEL-001'
    """
    if ax is None:
        fig = new_figure(8.0, 6.0)
        fig.set_label(f"Immunogram of patient {profile.patient_id}")
        polar = fig.add_subplot(projection="polar")
    else:
        fig = root_figure(ax)
        polar = ax
    if not isinstance(polar, PolarAxes):
        raise ValueError("immunogram needs polar axes: create them with projection='polar'")

    n = len(IMMUNOGRAM_AXES)
    angles = [2 * math.pi * i / n for i in range(n)]
    scores: list[float | None] = []
    for axis, _ in IMMUNOGRAM_AXES:
        key = f"immunogram.{axis}"
        value = profile.get(key)
        score = number(value)
        if value is not None and value.status == "assessed" and score is None:
            raise ValueError(f"{key} is assessed but its value {value.value!r} is not a number")
        if score is not None and not -_TOLERANCE <= score <= 1 + _TOLERANCE:
            raise ValueError(f"{key} is {score}, outside the immunogram scale [0, 1]")
        scores.append(score)

    polar.set_theta_offset(math.pi / 2)
    polar.set_theta_direction(-1)
    polar.set_ylim(0.0, 1.06)  # a score of 1 stays visible inside the outer circle
    polar.set_yticks([0.25, 0.5, 0.75, 1.0], ["0.25", "0.5", "0.75", "1"], fontsize=7)
    polar.set_rlabel_position(180 / n)
    labels = [
        textwrap.fill(name + ("" if s is not None else f" {NO_DATA}"), 22)
        for (_, name), s in zip(IMMUNOGRAM_AXES, scores, strict=True)
    ]
    polar.set_xticks(angles, labels, fontsize=8)
    polar.tick_params(axis="x", pad=8)
    for tick, angle, score in zip(polar.get_xticklabels(), angles, scores, strict=True):
        tick.set_parse_math(False)
        side = math.sin(angle)  # clockwise from the top: > 0 on the right
        tick.set_horizontalalignment("left" if side > 0.1 else "right" if side < -0.1 else "center")
        if score is None:
            tick.set_color(MISSING_COLOR)
            tick.set_fontstyle("italic")
    polar.xaxis.grid(False)
    for angle, score in zip(angles, scores, strict=True):
        polar.plot(
            [angle, angle],
            [0.0, 1.0],
            color="#c9d0db" if score is not None else MISSING_COLOR,
            linestyle="-" if score is not None else (0, (3, 3)),
            linewidth=0.8,
            zorder=1,
        )

    # The outline: closed, with NaN where an axis has no data, so the line breaks there.
    radii = [math.nan if s is None else s for s in scores]
    polar.plot(
        [*angles, angles[0]],
        [*radii, radii[0]],
        color=_COLOR,
        linewidth=2.0,
        marker="o",
        markersize=6,
        label="assessed axes",
        zorder=3,
    )
    for i in range(n):
        j = (i + 1) % n
        first, second = scores[i], scores[j]
        if first is not None and second is not None:
            polar.fill(
                [0.0, angles[i], angles[j] if j else 2 * math.pi],
                [0.0, first, second],
                color=_COLOR,
                alpha=0.18,
                linewidth=0,
                zorder=2,
            )
    assessed = sum(s is not None for s in scores)
    polar.set_title(f"Immunogram — {profile.patient_id}", pad=18, parse_math=False)
    if assessed < n:
        polar.text(
            0.5,
            -0.12,
            f"{assessed} of {n} axes assessed; axes marked {NO_DATA} are gaps, not zeros",
            transform=polar.transAxes,
            ha="center",
            fontsize=7,
            color=MISSING_COLOR,
            parse_math=False,
        )
    return fig
