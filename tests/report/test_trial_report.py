"""The virtual-trial HTML report: design, endpoints, observed gaps, figures and provenance."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from markupsafe import escape

from immunoprecise.dynamics.trials import TrialDesign, TrialResult, run_trial
from immunoprecise.report import render_trial_html
from immunoprecise.report.trial import gap_sentence

DESIGN = {
    "name": "Effector cells <vs> none",
    "model": "kuznetsov1994+cells",
    "seed": 11,
    "n_per_arm": 300,
    "chunk_size": 100,
    "follow_up_days": 365,
    "keep_trajectories": 20,
    "endpoints": ["orr", "cr_rate", "pfs", "os"],
    "arms": [
        {"id": "none", "regimen": ""},
        {"id": "cells", "label": "effector cells", "regimen": "effector-cells 1e7 cells d0"},
    ],
    "population": {
        "initial": {"T": 1e6},
        "strata": [
            {"name": "low burden", "proportion": 0.5},
            {
                "name": "high burden",
                "proportion": 0.5,
                "scale": {"T": 3},
                "source": "assumed for the test",
            },
        ],
    },
    "observed": [
        {
            "arm": "cells",
            "endpoint": "orr",
            "responders": 30,
            "n": 60,
            "source": "Doe 2020, J Test Oncol 1:1",
            "note": "investigator-assessed",
        },
        {
            "arm": "none",
            "endpoint": "orr",
            "responders": 5,
            "n": 60,
            "stratum": "low burden",
            "source": "Roe 2021",
        },
    ],
}


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialDesign.model_validate(DESIGN), scheduler="synchronous")


@pytest.fixture(scope="module")
def html(result: TrialResult) -> str:
    return render_trial_html(result)


def _interval(s: object) -> str:
    est, lo, hi = (getattr(s, k) for k in ("estimate", "ci_low", "ci_high"))
    return f"{100 * est:.1f}% ({100 * lo:.1f}–{100 * hi:.1f}%)"


def test_design_and_provenance(result: TrialResult, html: str) -> None:
    assert "<title>Virtual trial — Effector cells &lt;vs&gt; none</title>" in html
    assert "<vs>" not in html  # the name is escaped
    assert html.count(result.design_hash) >= 2  # design and provenance
    assert "<dt>Seed</dt><dd>11</dd>" in html
    assert "<code>effector-cells 1e7 cells d0</code>" in html
    assert "RECIST 1.1 (sum of diameters), assessed every 56 days" in html
    assert "<dd>ORR, CR rate, PFS, OS</dd>" in html
    assert "<details><summary>The design as YAML</summary>" in html
    assert "n_per_arm: 300" in html
    assert "seed: 11" in html
    assert f"numpy {result.versions['numpy']}" in html
    assert f"lifelines {result.versions['lifelines']}" in html
    assert "scheduler synchronous, 1 worker, 3 chunks: 3 computed, 0 reused" in html
    assert escape(result.disclaimer) in html
    assert "not a medical device" in html


def test_arm_table_shows_each_arm_and_stratum(result: TrialResult, html: str) -> None:
    whole = [a for a in result.arms if a.stratum is None]
    strata = [a for a in result.arms if a.stratum is not None]
    assert len(whole) == 2
    assert len(strata) == 4
    for a in result.arms:
        assert _interval(a.orr) in html
        assert _interval(a.cr_rate) in html
        cells = "".join(f'<td class="num">{a.counts[r]}</td>' for r in ("CR", "PR", "SD", "PD"))
        assert cells in html
    assert "<h3>By stratum</h3>" in html
    assert "<td>effector cells</td><td>high burden</td>" in html


def test_observed_gap_is_reported_honestly(result: TrialResult, html: str) -> None:
    assert len(result.observed) == 2
    for c in result.observed:
        assert f"{c.gap_points:+.1f}</td>" in html
        assert _interval(c.observed) in html
        sentence = gap_sentence(c, {"cells": "effector cells", "none": "none"}[c.arm])
        assert escape(sentence) in html
        side = "above" if c.gap_points > 0 else "below"
        assert f"{abs(c.gap_points):.1f} points {side} the observed" in sentence
    cells = next(c for c in result.observed if c.arm == "cells")
    assert "30/60" in html
    assert "Doe 2020, J Test Oncol 1:1" in html
    assert "investigator-assessed" in html
    # the cells arm responds far more often than the published 50 %: not compatible
    assert cells.gap_points > 20
    assert not cells.consistent
    assert "do not reproduce this result" in gap_sentence(cells)
    assert "[low burden]" in html


def test_gap_sentence_direction_and_compatibility(result: TrialResult) -> None:
    c = result.observed[0]
    below = c.model_copy(update={"gap_points": -4.3, "p_value": 0.4})
    text = gap_sentence(below)
    assert "is 4.3 points below the observed" in text
    assert "compatible" in text
    assert "p = 0.40" in text
    assert "equals the observed" in gap_sentence(c.model_copy(update={"gap_points": 0.0}))


def test_survival_hazard_ratios_and_figures(result: TrialResult, html: str) -> None:
    assert result.pfs is not None
    assert result.pfs.log_rank is not None
    assert escape(str(result.pfs.log_rank)) in html
    pfs = [h for h in result.hazard_ratios if h.endpoint == "pfs"]
    assert pfs
    hr = pfs[0].hr
    assert hr.ci_low is not None
    assert hr.ci_high is not None
    assert f"{hr.estimate:.2f} ({hr.ci_low:.2f}–{hr.ci_high:.2f})" in html
    if result.os is None:
        assert "OS: not estimable" in html
    svgs = re.findall(r"<svg\b", html)
    expected = 3 + (result.pfs is not None) + (result.os is not None)  # + waterfall, spider, E:T
    assert len(svgs) == expected
    for prefix in ("svg-waterfall", "svg-spider", "svg-et", "svg-km-pfs"):
        assert f'id="{prefix}"' in html
    for note in result.notes:
        assert f"<li>{escape(note)}</li>" in html


def test_self_contained_without_external_resources(html: str) -> None:
    for tag in ("<script", "<link", "<img", "<iframe", "@import"):
        assert tag not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)


def test_rejections_notes_and_no_trajectories(result: TrialResult) -> None:
    empty = result.trajectories.iloc[0:0]
    other = dataclasses.replace(
        result,
        rejected={"tumor below 1e5 cells": 1234},
        notes=("a note <b>escaped</b>",),
        trajectories=pd.DataFrame(empty),
    )
    html = render_trial_html(other)
    assert '<section id="rejected">' in html
    assert '<td>tumor below 1e5 cells</td><td class="num">1,234</td>' in html
    assert "<li>a note &lt;b&gt;escaped&lt;/b&gt;</li>" in html
    assert 'id="svg-spider"' not in html
    assert 'id="svg-et"' not in html
    assert "No trajectories were kept" in html
    assert '<section id="rejected">' not in render_trial_html(result)
