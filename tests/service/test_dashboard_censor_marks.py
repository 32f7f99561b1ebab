"""The dashboard's Kaplan–Meier figures mark each curve's censoring times: ticks on the curve in
its colour, "censored" once in the legend, the number censored as hover text; thinned like the
steps for a large cohort. Over a real server, and on the figure itself."""

from __future__ import annotations

import html
import json
import re
from contextlib import closing
from typing import Any

import numpy as np
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise import pl
from immunoprecise.cohort import kaplan_meier
from immunoprecise.pl._survival import MAX_CENSOR_MARKS, MAX_STEPS
from immunoprecise.service.dashboard_cohorts import km_figure
from service.service_server import Server
from service.test_dashboard import _login
from service.test_dashboard_cohorts import _import_example

FIGURE = re.compile(r"data-plotly-figure='([^']+)'")
MONTH = 30.4375
COUNT = re.compile(r"^(\d+) censored (?:at|from) ")


def _marks(figure: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in figure["data"] if t.get("mode") == "markers"]


def test_the_survival_figure_marks_each_curves_censoring_times(server: Server) -> None:
    _import_example(server)
    client, _ = _login(server, "researcher")
    with closing(client):
        fragment = client.get(
            "/cohorts/FL%20example/survival",
            params={"endpoint": "os", "by": "risk.flipi:category"},
            headers={"HX-Request": "true"},
        )
    assert fragment.status_code == 200, fragment.text[:500]
    figure = json.loads(html.unescape(FIGURE.search(fragment.text).group(1)))  # type: ignore[union-attr]
    direct = kaplan_meier(
        ip.data.example_path("fl_cohort.csv"), endpoint="os", group="risk.flipi:category"
    )
    lines = [t for t in figure["data"] if t.get("name", "").endswith(")")]
    marks = _marks(figure)
    assert len(marks) == len(direct.curves) == len(lines)
    assert [m["showlegend"] for m in marks] == [True] + [False] * (len(marks) - 1)
    assert {m["name"] for m in marks} == {"censored"}
    for curve, line, mark in zip(direct.curves, lines, marks, strict=True):
        assert curve.censor_times  # the example has censored patients in each group
        assert mark["marker"]["color"] == line["line"]["color"]
        assert mark["x"] == pytest.approx([t / MONTH for t in curve.censor_times])
        at = np.searchsorted(curve.times, curve.censor_times, side="right") - 1
        expected = [curve.survival[i] if i >= 0 else 1.0 for i in at]
        assert mark["y"] == pytest.approx(expected)
        assert [int(COUNT.match(t).group(1)) for t in mark["text"]] == list(curve.censored)  # type: ignore[union-attr]


def test_a_large_cohort_has_its_censoring_marks_thinned_with_every_count_kept() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    frame = pd.DataFrame(
        {
            "os_days": np.round(rng.exponential(1200.0, n), 2) + 0.01,
            "os_event": rng.integers(0, 2, n),
        }
    )
    curve = kaplan_meier(frame).curves[0]
    assert len(curve.censor_times) > 2 * MAX_STEPS  # large enough to thin
    (mark,) = _marks(km_figure(kaplan_meier(frame), title="OS"))
    assert len(mark["x"]) <= MAX_STEPS
    counts = [int(COUNT.match(t).group(1)) for t in mark["text"]]  # type: ignore[union-attr]
    assert sum(counts) == sum(curve.censored) == int((frame["os_event"] == 0).sum())
    assert any(" from " in t for t in mark["text"])


def test_a_curve_without_censoring_has_no_marks_and_no_legend_entry() -> None:
    frame = pd.DataFrame({"os_days": [10.0, 20.0, 30.0], "os_event": [1, 1, 1]})
    figure = km_figure(kaplan_meier(frame), title="OS")
    assert _marks(figure) == []
    assert "censored" not in [t.get("name") for t in figure["data"]]


@pytest.mark.parametrize("count", [MAX_STEPS + 500, MAX_CENSOR_MARKS, MAX_CENSOR_MARKS + 1])
def test_the_dashboard_thins_its_marks_at_the_same_count_as_the_figure(count: int) -> None:
    days = np.concatenate([np.arange(1.0, count + 1), np.linspace(5.5, count - 0.5, 10)])
    events = np.concatenate([np.zeros(count, dtype=int), np.ones(10, dtype=int)])
    km = kaplan_meier(pd.DataFrame({"os_days": days, "os_event": events}))
    (mark,) = _marks(km_figure(km, title="OS"))
    figure = pl.kaplan_meier(km, time_unit="months")
    (ticks,) = [line for line in figure.axes[0].get_lines() if line.get_marker() == "|"]
    drawn = np.asarray(ticks.get_xdata(), dtype=float)
    assert len(mark["x"]) == drawn.size
    assert mark["x"] == pytest.approx(drawn.tolist())
    assert (len(mark["x"]) < count) == (count > MAX_CENSOR_MARKS)
