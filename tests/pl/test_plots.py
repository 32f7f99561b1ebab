"""Figures of ``immunoprecise.pl``: drawn with real matplotlib and inspected artist by artist."""

from __future__ import annotations

import datetime as dt
import math
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from immunoprecise import pl
from immunoprecise.pl._common import EFFECTOR_COLOR, SUPPRESSOR_COLOR
from immunoprecise.pl._immunogram import IMMUNOGRAM_AXES
from immunoprecise.profile import ImmuneProfile, ProfileValue
from immunoprecise.profile.immune_profile import DiseaseContext, KnowledgeBaseInfo
from immunoprecise.records import PatientRecord

AXES = [axis for axis, _ in IMMUNOGRAM_AXES]
NAMES = [name for _, name in IMMUNOGRAM_AXES]


def _value(key: str, value: float | None, unit: str) -> ProfileValue:
    if value is None:
        return ProfileValue(
            key=key, label=key, status="not_assessable", unit=unit, method="test", missing=("x",)
        )
    return ProfileValue(
        key=key, label=key, status="assessed", value=value, unit=unit, method="test"
    )


def _profile(values: Iterable[ProfileValue], patient_id: str = "PL-T") -> ImmuneProfile:
    return ImmuneProfile(
        patient_id=patient_id,
        disease=DiseaseContext(diagnosis="test disease", oncotree_code=None, groups=()),
        values={v.key: v for v in values},
        knowledge_base=KnowledgeBaseInfo(version="test", sha256="0" * 64),
    )


def _immunogram_profile(scores: list[float | None]) -> ImmuneProfile:
    return _profile(
        _value(f"immunogram.{axis}", s, "score (0–1)") for axis, s in zip(AXES, scores, strict=True)
    )


def _labels(ax: Axes) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]


def _outline(ax: Axes) -> Line2D:
    (line,) = [line for line in ax.get_lines() if line.get_label() == "assessed axes"]
    return line


def _ydata(line: Line2D) -> list[float]:
    return [float(r) for r in np.asarray(line.get_ydata(), dtype=float)]


def _bars(ax: Axes) -> dict[str, BarContainer]:
    return {str(c.get_label()): c for c in ax.containers if isinstance(c, BarContainer)}


def _heights(container: BarContainer) -> list[float]:
    return [p.get_height() for p in container.patches]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# --- immunogram -------------------------------------------------------------------------------


def test_immunogram_has_seven_labelled_spokes_with_radii_equal_to_the_scores() -> None:
    scores: list[float | None] = [0.9, 0.4, 0.7, 0.2, 1.0, 0.55, 0.3]
    fig = pl.immunogram(_immunogram_profile(scores))
    ax = fig.axes[0]
    assert ax.name == "polar"
    assert len(ax.get_xticks()) == 7
    assert _labels(ax) == NAMES
    radii = _ydata(_outline(ax))
    assert radii[:7] == scores
    assert radii[7] == radii[0]  # closed outline
    assert ax.get_title() == "Immunogram — PL-T"


def test_missing_axis_is_labelled_no_data_and_is_a_gap_not_a_zero() -> None:
    scores: list[float | None] = [0.8, None, 0.6, 0.5, None, 0.4, 0.9]
    fig = pl.immunogram(_immunogram_profile(scores))
    ax = fig.axes[0]
    labels = _labels(ax)
    for name, label, score in zip(NAMES, labels, scores, strict=True):
        assert label == (name if score is not None else f"{name} (no data)")
    radii = _ydata(_outline(ax))
    for r, score in zip(radii[:7], scores, strict=True):
        if score is None:
            assert math.isnan(r)  # a gap in the line: neither 0 nor any other radius
        else:
            assert r == score
    # shaded wedges only between neighbouring assessed axes, none reaching a missing axis
    angles = [2 * math.pi * i / 7 for i in range(7)]
    missing = [angles[i] for i, s in enumerate(scores) if s is None]
    wedges = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(wedges) == 3  # between axes 2-3, 5-6 and 6-0
    for wedge in wedges:
        thetas = [float(t) % (2 * math.pi) for t, r in wedge.get_xy() if r > 0]
        assert not any(math.isclose(t, m) for t in thetas for m in missing)


def test_profile_without_any_immunogram_value_is_drawn_with_every_axis_no_data() -> None:
    fig = pl.immunogram(_profile([]))
    ax = fig.axes[0]
    assert _labels(ax) == [f"{name} (no data)" for name in NAMES]
    assert all(math.isnan(r) for r in _ydata(_outline(ax)))
    assert not [p for p in ax.patches if isinstance(p, Polygon)]
    assert any("0 of 7 axes assessed" in t for t in _texts(fig))


def test_immunogram_draws_into_given_polar_axes_and_refuses_cartesian_ones() -> None:
    fig = Figure()
    polar = fig.add_subplot(1, 2, 1, projection="polar")
    assert pl.immunogram(_immunogram_profile([0.5] * 7), ax=polar) is fig
    assert _ydata(_outline(polar))[:7] == [0.5] * 7
    with pytest.raises(ValueError, match="polar"):
        pl.immunogram(_immunogram_profile([0.5] * 7), ax=fig.add_subplot(1, 2, 2))


@pytest.mark.parametrize("bad", [1.5, -0.2])
def test_immunogram_refuses_scores_off_the_scale(bad: float) -> None:
    with pytest.raises(ValueError, match=r"tumor_foreignness .* outside .*\[0, 1\]"):
        pl.immunogram(_immunogram_profile([bad, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]))


# --- effector / suppressor --------------------------------------------------------------------


DENSITIES = {
    ("CD3", "tumor_core"): 900.0,
    ("CD8", "tumor_core"): 410.0,
    ("FOXP3", "tumor_core"): 85.0,
    ("CD8", "invasive_margin"): 620.0,
    ("FOXP3", "invasive_margin"): 140.0,
    ("CD56", "invasive_margin"): 35.0,
}


def _densities() -> list[ProfileValue]:
    return [_value(f"density.{m}.{r}", v, "cells/mm²") for (m, r), v in DENSITIES.items()]


def test_bar_heights_equal_the_densities_grouped_by_region() -> None:
    fig = pl.effector_suppressor(_profile(_densities()))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["tumor core", "invasive margin"]
    assert ax.get_ylabel() == "density (cells/mm²)"
    bars = _bars(ax)
    assert set(bars) == {
        "CD3 (effector)",
        "CD8 (effector)",
        "CD56 (effector)",
        "FOXP3 (suppressor)",
    }
    assert _heights(bars["CD8 (effector)"]) == [410.0, 620.0]
    assert _heights(bars["FOXP3 (suppressor)"]) == [85.0, 140.0]
    assert _heights(bars["CD3 (effector)"]) == [900.0]
    assert _heights(bars["CD56 (effector)"]) == [35.0]
    # each bar sits in its region's group: x centre within ±0.5 of the region tick
    for (marker, region), value in DENSITIES.items():
        kind = "suppressor" if marker == "FOXP3" else "effector"
        patches = bars[f"{marker} ({kind})"].patches
        (patch,) = [p for p in patches if p.get_height() == value]
        centre = patch.get_x() + patch.get_width() / 2
        assert abs(centre - ["tumor_core", "invasive_margin"].index(region)) < 0.5
    # suppressors red, effectors blue
    assert to_hex(bars["FOXP3 (suppressor)"].patches[0].get_facecolor()) == SUPPRESSOR_COLOR
    for label in ("CD3 (effector)", "CD8 (effector)", "CD56 (effector)"):
        red, _, blue, _ = to_rgba(bars[label].patches[0].get_facecolor())
        assert blue > red


def test_circulating_counts_get_their_own_panel_with_treg_as_suppressor() -> None:
    counts = [
        _value("effector_count.nk", 210.0, "cells/µL"),
        _value("effector_count.cd8", 380.0, "cells/µL"),
        _value("effector_count.gamma_delta", 45.0, "cells/µL"),
        _value("treg_count", 22.0, "cells/µL"),
    ]
    fig = pl.effector_suppressor(_profile([*_densities(), *counts]))
    tissue, blood = fig.axes
    assert tissue.get_ylabel() == "density (cells/mm²)"
    assert blood.get_ylabel() == "count (cells/µL)"
    assert [t.get_text() for t in blood.get_xticklabels()] == ["CD8⁺ T", "NK", "γδ T", "Treg"]
    bars = _bars(blood)
    assert {label: _heights(c) for label, c in bars.items()} == {
        "CD8⁺ T": [380.0],
        "NK": [210.0],
        "γδ T": [45.0],
        "Treg": [22.0],
    }
    assert to_hex(bars["Treg"].patches[0].get_facecolor()) == SUPPRESSOR_COLOR
    assert to_hex(bars["NK"].patches[0].get_facecolor()) == EFFECTOR_COLOR


def test_counts_alone_are_drawn_without_a_tissue_panel() -> None:
    fig = pl.effector_suppressor(_profile([_value("effector_count.cd8", 300.0, "cells/µL")]))
    (ax,) = fig.axes
    assert _heights(_bars(ax)["CD8⁺ T"]) == [300.0]


def test_not_assessable_density_is_marked_na_and_gets_no_bar() -> None:
    values = [*_densities(), _value("density.CD4.tumor_core", None, "cells/mm²")]
    fig = pl.effector_suppressor(_profile(values))
    (ax,) = fig.axes
    assert _heights(_bars(ax)["CD4 (effector)"]) == []
    assert "n/a" in _texts(fig)


def test_tumor_and_lineage_markers_are_named_but_not_drawn_as_effectors() -> None:
    values = [
        *_densities(),
        _value("density.CD138.tumor_core", 3900.0, "cells/mm²"),
        _value("density.CD68.tumor_core", 150.0, "cells/mm²"),
    ]
    fig = pl.effector_suppressor(_profile(values))
    (ax,) = fig.axes
    assert not [label for label in _bars(ax) if "CD138" in label or "CD68" in label]
    heights = [h for c in _bars(ax).values() for h in _heights(c)]
    assert 3900.0 not in heights
    assert 150.0 not in heights
    note = ax.get_xlabel().replace("\n", " ")
    assert "not shown (neither effector nor suppressor): CD138, CD68" in note


def test_profile_without_effector_or_suppressor_data_says_so() -> None:
    fig = pl.effector_suppressor(_profile([_value("tmb", 4.0, "mut/Mb")]))
    assert "no effector or suppressor data" in _texts(fig)
    assert not any(ax.containers for ax in fig.axes)


def test_effector_suppressor_divides_a_given_axes_into_two_panels() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    counts = [_value("effector_count.cd8", 300.0, "cells/µL")]
    assert pl.effector_suppressor(_profile([*_densities(), *counts]), ax=ax) is fig
    assert not ax.axison
    assert len(ax.child_axes) == 2


# --- tumor burden -----------------------------------------------------------------------------


def _record(burden: list[dict[str, Any]]) -> PatientRecord:
    return PatientRecord.model_validate(
        {
            "patient": {"id": "BURDEN-T"},
            "disease": {"diagnosis": "test disease", "burden": burden},
        }
    )


def _dates(line: Line2D) -> list[dt.date]:
    return list(np.asarray(line.get_xdata()).astype(object))


def test_burden_is_plotted_against_the_sorted_dates_one_panel_per_measure() -> None:
    record = _record(
        [
            {"date": "2026-06-01", "sum_of_diameters": 70, "cell_count": 2e9},
            {"date": "2026-01-15", "sum_of_diameters": 95, "cell_count": 8e9},
            {"date": "2026-03-20", "sum_of_diameters": 81},
        ]
    )
    fig = pl.tumor_burden(record)
    diameters, cells = fig.axes
    assert diameters.get_ylabel() == "Sum of diameters (mm)"
    assert cells.get_ylabel() == "Tumor cells (cells)"
    (line,) = diameters.get_lines()
    assert _dates(line) == [dt.date(2026, 1, 15), dt.date(2026, 3, 20), dt.date(2026, 6, 1)]
    assert _ydata(line) == [95.0, 81.0, 70.0]
    # a measure missing on a date is not interpolated there
    (line,) = cells.get_lines()
    assert _dates(line) == [dt.date(2026, 1, 15), dt.date(2026, 6, 1)]
    assert _ydata(line) == [8e9, 2e9]
    assert cells.get_yscale() == "log"
    assert diameters.get_yscale() == "linear"


def test_each_recorded_measure_has_its_panel_and_unit() -> None:
    record = _record(
        [
            {"date": "2026-02-01", "spd": 1200, "marrow_blasts": 12, "m_protein": 9.5},
            {"date": "2026-01-01", "spd": 1500, "marrow_blasts": 30, "m_protein": 14},
        ]
    )
    fig = pl.tumor_burden(record)
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "SPD (mm²)",
        "Marrow blasts (%)",
        "M-protein (g/L)",
    ]
    for ax in fig.axes:
        assert _dates(ax.get_lines()[0]) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]


def test_zero_tumor_cells_stay_on_the_logarithmic_panel() -> None:
    record = _record(
        [{"date": "2026-01-01", "cell_count": 1e10}, {"date": "2026-04-01", "cell_count": 0}]
    )
    (ax,) = pl.tumor_burden(record).axes
    assert ax.get_yscale() == "symlog"
    assert _ydata(ax.get_lines()[0]) == [1e10, 0.0]


def test_record_without_burden_says_so() -> None:
    fig = pl.tumor_burden(_record([]))
    assert "no tumor burden measurements" in _texts(fig)
    assert not any(ax.get_lines() for ax in fig.axes)


# --- SVG --------------------------------------------------------------------------------------


def test_figure_svg_is_an_inline_self_contained_svg_element() -> None:
    svg = pl.figure_svg(pl.immunogram(_immunogram_profile([0.5, None, 0.5, 0.5, 0.5, 0.5, 0.5])))
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg
    assert "<script" not in svg.lower()
    assert 'aria-label="Immunogram of patient PL-T"' in svg
    # only in-document references, and every one resolves
    ids = re.findall(r'\bid="([^"]*)"', svg)
    assert len(ids) == len(set(ids))
    references = re.findall(r'href="([^"]*)"', svg) + re.findall(r"url\(([^)]*)\)", svg)
    assert references
    assert all(r.startswith("#") and r[1:] in ids for r in references)
    assert "http" not in re.sub(r'xmlns(:xlink)?="[^"]*"', "", svg)


def test_figure_svg_ids_take_the_prefix_and_output_is_reproducible() -> None:
    def draw() -> Figure:
        return pl.effector_suppressor(_profile(_densities()))

    first = pl.figure_svg(draw(), id_prefix="one")
    assert first == pl.figure_svg(draw(), id_prefix="one")
    assert all(i == "one" or i.startswith("one-") for i in re.findall(r'\bid="([^"]*)"', first))
    assert pl.figure_svg(draw()) == pl.figure_svg(draw())
    with pytest.raises(ValueError, match="id_prefix"):
        pl.figure_svg(draw(), id_prefix="1 bad")


def test_figure_svg_closes_a_pyplot_figure() -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()
    number = fig.number
    pl.tumor_burden(_record([{"date": "2026-01-01", "spd": 100}]), ax=fig.add_subplot())
    assert pl.figure_svg(fig).startswith("<svg")
    assert not plt.fignum_exists(number)


def test_plotting_never_imports_pyplot() -> None:
    code = (
        "import sys\n"
        "from immunoprecise import pl\n"
        "from immunoprecise.profile import ImmuneProfile\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "p = ImmuneProfile.model_construct(patient_id='X', values={})\n"
        "for f in (pl.immunogram(p), pl.effector_suppressor(p)):\n"
        "    pl.figure_svg(f)\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
