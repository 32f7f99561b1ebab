"""``pl.trajectories`` and ``pl.regimen_comparison``: drawn for real, inspected artist by artist."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import immunoprecise as ip
from immunoprecise import pl
from immunoprecise.dynamics import Trajectories
from immunoprecise.errors import ModelError, ValidationError
from immunoprecise.pl._trajectories import TUMOR_COLOR

CAR_T = "CAR-T 1e6 cells d42"
GAMMAS = np.linspace(2.5e-6, 5e-6, 9)


@pytest.fixture(scope="module")
def car_t() -> Trajectories:
    return ip.simulate("cartmath2021", t_end=100, regimen=CAR_T)


@pytest.fixture(scope="module")
def cohort() -> Trajectories:
    return ip.simulate("cartmath2021", t_end=100, regimen=CAR_T, params={"gamma": GAMMAS})


def _ax(fig: Figure) -> Axes:
    (ax,) = fig.axes
    return ax


def _by_gid(ax: Axes, prefix: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if str(line.get_gid() or "").startswith(prefix)]


def _bands(ax: Axes) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _legend(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def _y(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


def _on_log(values: np.ndarray) -> np.ndarray:
    """The values as a line on a log axis draws them: those at 0 left out (NaN)."""
    return np.where(values > 0, values, np.nan)


# --- one patient ------------------------------------------------------------------------------


def test_one_patient_is_drawn_as_one_line_per_state_on_a_log_axis(car_t: Trajectories) -> None:
    ax = _ax(pl.trajectories(car_t))
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "time (days)"
    assert ax.get_ylabel() == "cells"
    states = _by_gid(ax, "state:")
    assert [line.get_gid() for line in states] == ["state:T", "state:C_T"]
    tumor, effector = states
    np.testing.assert_array_equal(np.asarray(tumor.get_xdata(), dtype=float), car_t.t)
    np.testing.assert_array_equal(_y(tumor), _on_log(car_t.tumor[0]))
    np.testing.assert_array_equal(_y(effector), _on_log(car_t.state("C_T")[0]))
    assert tumor.get_color() != effector.get_color()
    assert tumor.get_color() == TUMOR_COLOR
    assert not _bands(ax)  # one patient: lines, no band
    # the 1-cell eradication threshold stays in view
    assert ax.get_ylim()[0] < 1.0
    assert ax.get_title(loc="left") == f"cartmath2021 — {CAR_T}"


def test_legend_names_every_state_with_its_unit_the_dose_and_the_eradication(
    car_t: Trajectories,
) -> None:
    ax = _ax(pl.trajectories(car_t))
    day = float(car_t.eradication_day[0])
    assert _legend(ax) == [
        "T: tumor cells (cells)",
        "C_T: effector CAR-T cells (cells)",
        f"eradicated, day {day:.1f}",
        "CAR-T dose (1×)",
    ]
    (erad,) = _by_gid(ax, "eradication")
    assert list(np.asarray(erad.get_xdata(), dtype=float)) == [day, day]  # a vertical line
    assert 45 < day < 50


def test_doses_are_marked_at_their_days_above_the_plot_one_row_per_agent() -> None:
    tr = ip.simulate("depillis2006", t_end=60, regimen="chemo 1 mg/kg q21d x3; IL2 5e6 IU/d d8-12")
    ax = _ax(pl.trajectories(tr))
    chemo, il2 = _by_gid(ax, "dose:")
    assert chemo.get_label() == "chemo dose (3×)"
    assert list(np.asarray(chemo.get_xdata(), dtype=float)) == [0.0, 21.0, 42.0]
    assert il2.get_label() == "IL2 infusion (1×)"
    assert list(np.asarray(il2.get_xdata(), dtype=float)) == [8.0]
    assert chemo.get_marker() != il2.get_marker()
    assert not chemo.get_clip_on()  # drawn above the axes
    # the infusion runs over [8, 13): a bar from its start to its end
    (bar,) = _by_gid(ax, "infusion:")
    assert list(np.asarray(bar.get_xdata(), dtype=float))[:2] == [8.0, 13.0]
    # rows above the top of the axes, the second above the first
    top = ax.transAxes.transform((0.0, 1.0))[1]
    ys = [line.get_transform().transform((0.0, 1.0))[1] for line in (chemo, il2)]
    assert top < ys[0] < ys[1]
    no_doses = _ax(pl.trajectories(tr, show_doses=False))
    assert not _by_gid(no_doses, "dose:")
    assert not any("dose" in t for t in _legend(no_doses))


def test_chosen_states_of_different_units_are_labelled_with_their_units() -> None:
    tr = ip.simulate("depillis2006", t_end=30, regimen="chemo 1 mg/kg d0; IL2 5e6 IU/d d8-12")
    ax = _ax(pl.trajectories(tr, states=["T", "M", "I"]))
    assert [line.get_gid() for line in _by_gid(ax, "state:")] == ["state:T", "state:M", "state:I"]
    assert ax.get_ylabel() == "value (units in the legend)"
    texts = _legend(ax)
    assert "M: chemotherapy drug concentration in blood (mg/L)" in texts
    assert "I: IL-2 concentration in blood (IU/L)" in texts
    colors = {line.get_color() for line in _by_gid(ax, "state:")}
    assert len(colors) == 3
    one = _ax(pl.trajectories(tr, states="M", log=False))
    assert one.get_ylabel() == "mg/L"
    assert one.get_yscale() == "linear"
    assert one.get_ylim()[0] == 0.0


def test_default_states_of_a_model_without_tumor_skip_the_clock() -> None:
    tr = ip.simulate("stein2019", t_end=30, regimen="CAR-T 1e8 cells d0")
    ax = _ax(pl.trajectories(tr))
    assert [line.get_gid() for line in _by_gid(ax, "state:")] == ["state:E", "state:M"]
    assert ax.get_ylabel() == "copies/µg"
    assert not _by_gid(ax, "eradication")


# --- many patients ----------------------------------------------------------------------------


def test_many_patients_give_a_median_line_and_a_percentile_band(cohort: Trajectories) -> None:
    ax = _ax(pl.trajectories(cohort))
    tumor, _ = _by_gid(ax, "state:")
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(_y(tumor), _on_log(np.median(cohort.tumor, axis=0)))
    bands = _bands(ax)
    assert [b.get_gid() for b in bands] == ["band:T", "band:C_T"]
    assert [b.get_label() for b in bands] == ["T: 5–95th percentile", "C_T: 5–95th percentile"]
    # the band spans the 5th to 95th percentile of the patients' tumors
    vertices = np.concatenate([p.vertices for p in bands[0].get_paths()])
    assert math.isclose(vertices[:, 1].max(), np.percentile(cohort.tumor, 95, axis=0).max())
    texts = _legend(ax)
    assert "T: tumor cells (cells), median of 9" in texts
    assert "T: 5–95th percentile" in texts
    # every patient eradicated: one tick per patient along the time axis
    (rug,) = _by_gid(ax, "eradication")
    np.testing.assert_allclose(np.sort(rug.get_xdata()), np.sort(cohort.eradication_day))
    assert rug.get_label().startswith("eradicated 9 of 9, median day")
    assert ax.get_title(loc="left").endswith("· 9 virtual patients")
    assert not _bands(_ax(pl.trajectories(cohort, band=None)))


def test_other_percentiles_and_a_subset_of_patients(cohort: Trajectories) -> None:
    ax = _ax(pl.trajectories(cohort, band=(25, 75), patients=["2", "5", "7"]))
    assert _bands(ax)[0].get_label() == "T: 25–75th percentile"
    assert "T: tumor cells (cells), median of 3" in _legend(ax)
    single = _ax(pl.trajectories(cohort, patients=["4"]))
    assert not _bands(single)
    np.testing.assert_array_equal(_y(_by_gid(single, "state:T")[0]), _on_log(cohort.tumor[3]))
    assert single.get_title(loc="left").endswith("· patient 4")
    by_row = _ax(pl.trajectories(cohort, patients=[3]))
    np.testing.assert_array_equal(_y(_by_gid(by_row, "state:T")[0]), _on_log(cohort.tumor[3]))


# --- errors and axes --------------------------------------------------------------------------


def test_unknown_state_is_an_error_naming_the_states(car_t: Trajectories) -> None:
    with pytest.raises(ModelError, match=r"no state 'X'; states: C_T, C_M, T"):
        pl.trajectories(car_t, states=["T", "X"])


def test_unknown_patient_and_bad_band_are_errors(car_t: Trajectories) -> None:
    with pytest.raises(ValidationError, match="no such patient"):
        pl.trajectories(car_t, patients=["nobody"])
    with pytest.raises(ValidationError, match="band"):
        pl.trajectories(car_t, band=(95, 5))
    with pytest.raises(ValidationError, match="band"):
        pl.trajectories(car_t, band=(0, 120))


def test_draws_into_given_axes_and_renders_as_svg(car_t: Trajectories) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert pl.trajectories(car_t, ax=ax, title="my run") is fig
    assert ax.get_title(loc="left") == "my run"
    assert len(_by_gid(ax, "state:")) == 2
    svg = pl.figure_svg(pl.trajectories(car_t), id_prefix="tr")
    assert svg.startswith("<svg")
    assert 'aria-label="Simulated trajectories, model cartmath2021"' in svg


# --- regimen comparison -----------------------------------------------------------------------


def test_regimen_comparison_draws_the_tumor_of_each_regimen(cohort: Trajectories) -> None:
    untreated = ip.simulate("cartmath2021", t_end=100, params={"gamma": GAMMAS})
    early = ip.simulate(
        "cartmath2021", t_end=100, regimen="CAR-T 1e5 cells d20", params={"gamma": GAMMAS}
    )
    results = {"no treatment": untreated, "CAR-T 1e5 d20": early, "CAR-T 1e6 d42": cohort}
    ax = _ax(pl.regimen_comparison(results))
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "tumor (cells)"
    assert ax.get_xlabel() == "time (days)"
    lines = _by_gid(ax, "regimen:")
    assert [line.get_gid() for line in lines] == [f"regimen:{k}" for k in results]
    assert len({line.get_color() for line in lines}) == 3
    for line, tr in zip(lines, results.values(), strict=True):
        np.testing.assert_allclose(_y(line), _on_log(np.median(tr.tumor, axis=0)))
    assert len(_bands(ax)) == 3
    texts = _legend(ax)
    assert "no treatment, median of 9" in texts
    assert "CAR-T 1e6 d42 — eradicated 9 of 9, median of 9" in texts
    doses = _by_gid(ax, "dose:")
    assert [d.get_label() for d in doses] == [
        "CAR-T 1e5 d20: CAR-T dose (1×)",
        "CAR-T 1e6 d42: CAR-T dose (1×)",
    ]
    assert [d.get_color() for d in doses] == [lines[1].get_color(), lines[2].get_color()]


def test_regimen_comparison_of_single_patients_draws_lines(car_t: Trajectories) -> None:
    untreated = ip.simulate("cartmath2021", t_end=100)
    ax = _ax(pl.regimen_comparison({"none": untreated, "CAR-T": car_t}, show_doses=False))
    assert not _bands(ax)
    assert _legend(ax) == ["none", f"CAR-T — eradicated, day {car_t.eradication_day[0]:.1f}"]


def test_regimen_comparison_errors(car_t: Trajectories) -> None:
    with pytest.raises(ValidationError, match="at least one"):
        pl.regimen_comparison({})
    with pytest.raises(ValidationError, match="must be a Trajectories"):
        pl.regimen_comparison({"x": "not a result"})  # type: ignore[dict-item]
    other = ip.simulate("kuznetsov1994", t_end=10)
    with pytest.raises(ModelError, match="one model"):
        pl.regimen_comparison({"a": car_t, "b": other})
    kinetics = ip.simulate("stein2019", t_end=10)
    with pytest.raises(ModelError, match="no tumor state"):
        pl.regimen_comparison({"a": kinetics})


def test_trajectory_plots_never_import_pyplot() -> None:
    code = (
        "import sys\n"
        "import immunoprecise as ip\n"
        "from immunoprecise import pl\n"
        "tr = ip.simulate('cartmath2021', t_end=60, regimen='CAR-T 1e6 cells d42')\n"
        "pl.figure_svg(pl.trajectories(tr))\n"
        "pl.figure_svg(pl.regimen_comparison({'a': tr}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_regimen_comparison_draws_labels_as_written(car_t: Trajectories) -> None:
    """Regimen labels are text, never TeX: '$a^$' used to stop the figure from being drawn."""
    untreated = ip.simulate("cartmath2021", t_end=100)
    fig = pl.regimen_comparison({"$a^$ none": untreated, "$5-$10": car_t})
    assert pl.figure_svg(fig).startswith("<svg")
    texts = _legend(_ax(fig))
    assert any(t.startswith("$a^$ none") for t in texts), texts
    assert any(t.startswith("$5-$10") for t in texts), texts
