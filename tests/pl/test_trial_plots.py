"""Trial figures: waterfall bars, spider lines and effector:tumor summaries from the result."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from immunoprecise import pl
from immunoprecise.dynamics.trials import TrialDesign, TrialResult, run_trial
from immunoprecise.pl._trial import RESPONSE_COLORS

KEEP = 24


def _design(**changes: Any) -> TrialDesign:
    data: dict[str, Any] = {
        "name": "plots",
        "model": "kuznetsov1994+cells",
        "seed": 1,
        "n_per_arm": 300,
        "chunk_size": 100,
        "follow_up_days": 365,
        "keep_trajectories": KEEP,
        "endpoints": ["orr", "cr_rate", "pfs"],
        "arms": [
            {"id": "none", "regimen": ""},
            {"id": "cells", "label": "effector cells", "regimen": "effector-cells 1e7 cells d0"},
        ],
        "population": {"initial": {"T": 1e6}},
    }
    data.update(changes)
    return TrialDesign.model_validate(data)


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(_design(), scheduler="synchronous")


@pytest.fixture(scope="module")
def lugano() -> TrialResult:
    # Lugano needs a measurable node at baseline (> 15 mm: more than 1.77e9 cells), which the
    # kuznetsov1994 tumor (carrying capacity 5e8 cells) never is: CAR-T against 5e9 cells
    arms = [
        {"id": "none", "regimen": ""},
        {"id": "cells", "label": "CAR-T cells", "regimen": "CAR-T 1e7 cells d0"},
    ]
    return run_trial(
        _design(
            response_criteria="lugano",
            n_per_arm=100,
            follow_up_days=400,
            model="cartmath2021",
            arms=arms,
            population={"initial": {"T": 5e9}},
        ),
        scheduler="synchronous",
    )


def _arm(result: TrialResult, arm: str) -> Any:
    out = result.outcomes
    return out[out["arm"] == arm].sort_values("patient")


def _dashed(ax: Any) -> dict[str, float]:
    return {
        line.get_gid(): float(line.get_ydata()[0])
        for line in ax.get_lines()
        if str(line.get_gid()).startswith("threshold-")
    }


def _patient_lines(ax: Any) -> dict[int, Any]:
    return {
        int(line.get_gid().split("-")[1]): line
        for line in ax.get_lines()
        if str(line.get_gid()).startswith("patient-")
    }


def test_waterfall_bars_are_the_first_patients_sorted_and_coloured(result: TrialResult) -> None:
    fig = pl.waterfall(result, max_patients=120)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    for ax, arm in zip(fig.axes, result.design.arms, strict=True):
        first = _arm(result, arm.id).head(120)
        finite = first[np.isfinite(first["best_change_percent"])]
        bars = list(ax.patches)
        assert len(bars) == len(finite) > 0
        drawn = [int(b.get_gid().split("-")[1]) for b in bars]
        assert sorted(drawn) == sorted(finite["patient"].tolist())  # the first 120 patients
        heights = np.array([b.get_height() for b in bars])
        assert np.all(np.diff(heights) <= 0)  # high → low
        expected = np.sort(finite["best_change_percent"].to_numpy())[::-1]
        np.testing.assert_allclose(heights, np.minimum(expected, 100.0))
        best = dict(zip(finite["patient"], finite["best_response"], strict=True))
        for bar, patient in zip(bars, drawn, strict=True):
            assert bar.get_facecolor() == pytest.approx(to_rgba(RESPONSE_COLORS[best[patient]]))
        assert _dashed(ax) == {"threshold-progression": 20.0, "threshold-response": -30.0}
        clipped = [line for line in ax.get_lines() if line.get_gid() == "clipped"]
        n_clipped = int((expected > 100.0).sum())
        if n_clipped:
            assert len(clipped[0].get_xdata()) == n_clipped
            bars_cut = f"{n_clipped} bar{'' if n_clipped == 1 else 's'} cut"
            assert any(bars_cut in t.get_text() for t in ax.texts)
        else:
            assert not clipped
        assert ax.get_title().startswith(f"{arm.name}: n = {len(finite)}")
        assert "(first 120 of 300)" in ax.get_title()
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert {"CR", "PR", "SD", "PD", "NE"} <= {t.get_text() for t in legend.get_texts()}


def test_waterfall_one_arm_by_id_or_label(result: TrialResult) -> None:
    by_id = pl.waterfall(result, arm="cells")
    by_label = pl.waterfall(result, arm="effector cells")
    assert len(by_id.axes) == len(by_label.axes) == 1
    assert by_id.axes[0].get_title() == by_label.axes[0].get_title()
    assert by_id.axes[0].get_title().startswith("effector cells: n = 300")
    with pytest.raises(ValueError, match="no arm 'nope'"):
        pl.waterfall(result, arm="nope")


def test_waterfall_into_given_axes_splits_them(result: TrialResult) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert pl.waterfall(result, ax=ax) is fig
    assert not ax.axison  # the given axes are hidden, divided into one inset per arm
    insets = ax.child_axes
    assert len(insets) == 2
    assert [len(inset.patches) for inset in insets] == [300, 300]


def test_lugano_thresholds_differ_from_recist(result: TrialResult, lugano: TrialResult) -> None:
    recist_lines = _dashed(pl.waterfall(result, arm="none").axes[0])
    lugano_lines = _dashed(pl.waterfall(lugano, arm="none").axes[0])
    assert lugano_lines == {"threshold-progression": 50.0, "threshold-response": -50.0}
    assert lugano_lines != recist_lines
    assert "SPD" in pl.waterfall(lugano, arm="none").axes[0].get_ylabel()
    assert _dashed(pl.spider(lugano, arm="none").axes[0]) == lugano_lines


def test_spider_one_line_per_kept_patient_coloured_by_response(result: TrialResult) -> None:
    fig = pl.spider(result)
    assert len(fig.axes) == 2
    for ax, arm in zip(fig.axes, result.design.arms, strict=True):
        lines = _patient_lines(ax)
        assert sorted(lines) == list(range(KEEP))
        best = _arm(result, arm.id).set_index("patient")["best_response"]
        for patient, line in lines.items():
            assert to_rgba(line.get_color()) == pytest.approx(
                to_rgba(RESPONSE_COLORS[best[patient]])
            )
        assert _dashed(ax) == {"threshold-progression": 20.0, "threshold-response": -30.0}
        assert ax.get_xlabel() == "Time (days)"


def test_spider_reads_cells_as_the_waterfall_measure(result: TrialResult) -> None:
    """Without progression, the lowest value at an assessment is the waterfall number."""
    ax = pl.spider(result, arm="cells").axes[0]
    lines = _patient_lines(ax)
    outcomes = _arm(result, "cells").set_index("patient")
    visits = np.asarray(result.design.assessment_days()[1:])
    checked = 0
    for patient, line in lines.items():
        row = outcomes.loc[patient]
        if row["best_response"] not in ("CR", "PR") or row["pfs_event"]:
            continue
        t = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        at_visits = y[np.isin(t, visits)]
        assert at_visits.min() == pytest.approx(row["best_change_percent"], abs=1e-6)
        checked += 1
    assert checked >= 3


def test_spider_uses_months_beyond_a_year(lugano: TrialResult) -> None:
    ax = pl.spider(lugano, arm="cells").axes[0]
    assert ax.get_xlabel() == "Time (months)"
    assert ax.get_xlim()[1] == pytest.approx(400 / 30.4375)


def test_effector_tumor_median_is_the_median_of_finite_ratios(result: TrialResult) -> None:
    fig = pl.effector_tumor(result)
    assert len(fig.axes) == 2
    traj = result.trajectories
    for ax, arm in zip(fig.axes, result.design.arms, strict=True):
        assert ax.get_yscale() == "log"
        assert "eradicated" in ax.get_ylabel()
        best = _arm(result, arm.id).set_index("patient")["best_response"]
        part = traj[traj["arm"] == arm.id]
        medians = {line.get_gid(): line for line in ax.get_lines()}
        for gid, group in (
            ("median-responders", ("CR", "PR")),
            ("median-non-responders", ("SD", "PD")),
        ):
            rows = part[part["patient"].map(best).isin(group)]
            if rows.empty:
                assert gid not in medians
                continue
            line = medians[gid]
            t, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            for k in (1, len(t) // 2):
                at = rows[rows["t"] == t[k]]["et_ratio"].to_numpy(dtype=float)
                at = at[np.isfinite(at)]
                assert y[k] == pytest.approx(float(np.median(at)))
            assert f"n = {rows['patient'].nunique()}" in line.get_label()
    # the responders of the cells arm are eradicated late: fewer times than the grid
    cells = fig.axes[1]
    responders = next(line for line in cells.get_lines() if line.get_gid() == "median-responders")
    assert len(responders.get_xdata()) <= traj["t"].nunique()


def test_trial_figures_without_kept_trajectories() -> None:
    res = run_trial(_design(n_per_arm=100, keep_trajectories=0), scheduler="synchronous")
    for fig in (pl.spider(res), pl.effector_tumor(res)):
        assert all(not ax.get_lines() for ax in fig.axes)
        assert any("no trajectories kept" in t.get_text() for ax in fig.axes for t in ax.texts)
    assert len(pl.waterfall(res).axes[0].patches) == 100
