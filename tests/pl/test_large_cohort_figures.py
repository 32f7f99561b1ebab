"""Figures of a large cohort (the cut-point scan, Kaplan–Meier curves): a thinned drawing that
says so, every number from all the cuts and steps."""

from __future__ import annotations

import re
from html import escape as html_escape

import numpy as np
import pandas as pd
import pytest

from immunoprecise import pl
from immunoprecise.cohort import cohort_frame, kaplan_meier
from immunoprecise.cohort.cutpoint import Cutpoint, optimal_cutpoint
from immunoprecise.data import example_path
from immunoprecise.pl._cutpoint import MAX_SCAN_POINTS, scan_points
from immunoprecise.pl._survival import MAX_STEPS, steps_drawn
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html

N = 6000


def _large() -> pd.DataFrame:
    """A continuous biomarker (every value distinct), exponential survival, censoring."""
    rng = np.random.default_rng(7)
    x = rng.lognormal(0.5, 0.6, N)
    t = rng.exponential(np.where(x > 1.7, 8.0, 5.0))
    c = rng.uniform(0.0, 10.0, N)
    return pd.DataFrame(
        {
            "os_days": np.minimum(t, c) * 365.25,
            "os_event": (t <= c).astype(int),
            "ratio": x,
        },
        index=pd.Index([f"P{i:05d}" for i in range(N)], name="patient_id"),
    )


@pytest.fixture(scope="module")
def large() -> pd.DataFrame:
    return _large()


@pytest.fixture(scope="module")
def scan(large: pd.DataFrame) -> Cutpoint:
    return optimal_cutpoint(large, "ratio", n_boot=20, seed=0)


def test_a_long_scan_is_drawn_through_at_most_the_limit(scan: Cutpoint) -> None:
    total = len(scan.scan_cuts)
    assert total > 2 * MAX_SCAN_POINTS
    ax = pl.cutpoint_scan(scan).axes[0]
    line = ax.lines[0]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert x.size <= MAX_SCAN_POINTS
    assert line.get_marker() in ("None", "", None)  # no marker stands for a single cut
    # every point drawn is a candidate cut with its own |Z|
    position = np.searchsorted(np.asarray(scan.scan_cuts), x)
    np.testing.assert_array_equal(np.asarray(scan.scan_cuts)[position], x)
    np.testing.assert_array_equal(np.abs(np.asarray(scan.scan_statistics))[position], y)
    # the chosen cut and its maximum are drawn, and the legend says the line is thinned
    assert scan.cutpoint.estimate in x
    assert y.max() == scan.max_statistic.estimate
    box = ax.get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert f"|Z| drawn at {x.size:,} of {total:,} candidate cuts" in legend


def test_the_thinned_line_keeps_every_peak_and_trough(scan: Cutpoint) -> None:
    cuts = np.asarray(scan.scan_cuts)
    z = np.abs(np.asarray(scan.scan_statistics))
    x, y = scan_points(scan)
    runs = np.array_split(np.arange(cuts.size), MAX_SCAN_POINTS // 4)
    for run in runs:
        inside = (x >= cuts[run[0]]) & (x <= cuts[run[-1]])
        assert y[inside].max() == z[run].max()
        assert y[inside].min() == z[run].min()
    everything, _ = scan_points(scan, max_points=None)
    assert everything.size == cuts.size


def test_a_short_scan_is_drawn_cut_by_cut() -> None:
    res = optimal_cutpoint(
        example_path("fl_cohort.csv"), "cd8_foxp3_ratio.interfollicular", n_boot=0
    )
    line = pl.cutpoint_scan(res).axes[0].lines[0]
    assert np.asarray(line.get_xdata()).size == len(res.scan_cuts)
    assert line.get_marker() == "o"
    with pytest.raises(ValueError, match="max_points must be at least 4"):
        scan_points(res, max_points=2)


def test_the_report_says_when_the_scan_is_thinned(large: pd.DataFrame, scan: Cutpoint) -> None:
    options = CohortReportOptions(biomarkers=("ratio",), n_boot=20, seed=0)
    html = render_cohort_html(large, options)
    drawn, _ = scan_points(scan)
    total = len(scan.scan_cuts)
    caption = re.search(r"Points thinned for drawing:[^<]*", html)
    assert caption is not None
    assert f"{drawn.size:,} of the {total:,} candidate cuts" in caption.group(0)
    assert f"computed from all {total:,}" in caption.group(0)
    # the numbers are the unthinned analysis's
    assert html_escape(scan.summary(), quote=False) in html
    # the scan figure draws no marker per cut: far fewer path elements than cuts
    figure = html.split('id="svg-cut-0"', 1)[1].split("</svg>", 1)[0]
    assert figure.count("<use ") < MAX_SCAN_POINTS // 4


def test_a_small_report_has_no_thinning_caption() -> None:
    path = example_path("fl_cohort.csv")
    options = CohortReportOptions(biomarkers=("cd8_foxp3_ratio.interfollicular",), n_boot=0)
    html = render_cohort_html(cohort_frame(path), options, source=path)
    assert "Points thinned" not in html


def test_a_long_kaplan_meier_curve_is_drawn_through_fewer_steps(large: pd.DataFrame) -> None:
    km = kaplan_meier(large)
    curve = km.curves[0]
    drawn, total = steps_drawn(curve)
    assert total > 2 * MAX_STEPS
    assert drawn <= 2 * MAX_STEPS + 2
    ax = pl.kaplan_meier(km, time_unit="days").axes[0]
    x, y = (np.asarray(v) for v in ax.lines[0].get_data())
    assert x.size == drawn
    # every corner drawn is one of the curve's, from time 0 to its last follow-up
    times = np.array([0.0, *curve.times])
    survival = np.array([1.0, *curve.survival])
    position = np.searchsorted(times, x)
    np.testing.assert_array_equal(times[position], x)
    np.testing.assert_array_equal(survival[position], y)
    assert (x[0], x[-1]) == (0.0, curve.times[-1])
    # no drawn step is more than one bin (a thousandth of the follow-up) from the true one
    grid = np.linspace(0.0, curve.times[-1], 5001)
    bin_width = curve.times[-1] / MAX_STEPS
    drawn_at = y[np.searchsorted(x, grid, side="right") - 1]
    earlier = np.maximum(grid - bin_width, 0.0)
    true_before = survival[np.searchsorted(times, earlier, side="right") - 1]
    true_at = survival[np.searchsorted(times, grid, side="right") - 1]
    assert np.all((drawn_at <= true_before + 1e-12) & (drawn_at >= true_at - 1e-12))
    every = pl.kaplan_meier(km, time_unit="days", max_steps=None).axes[0].lines[0]
    assert np.asarray(every.get_xdata()).size == total


def test_the_report_says_when_curves_are_thinned(large: pd.DataFrame) -> None:
    html = render_cohort_html(large, CohortReportOptions(biomarkers=("ratio",), n_boot=0))
    survival = html.split('id="survival"', 1)[1].split("</figure>", 1)[0]
    assert "Steps thinned for drawing:" in survival
    small = render_cohort_html(
        cohort_frame(example_path("fl_cohort.csv")), CohortReportOptions(n_boot=0)
    )
    assert "Steps thinned" not in small
