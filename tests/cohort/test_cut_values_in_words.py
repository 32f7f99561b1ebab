"""A cut-point of a biomarker measured in the thousands (LDH 1234 U/L) is named with its integer
digits in the summary, the figure legend and the report, not in powers of ten (``1.23e+03``,
which also reads as 1230)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunoprecise import pl
from immunoprecise.cohort import optimal_cutpoint
from immunoprecise.cohort.statistic import Statistic, format_cut


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 120
    ldh = rng.choice(np.arange(900, 2400), size=n, replace=False).astype(float)
    high = ldh > 1500
    time = rng.exponential(np.where(high, 300.0, 1200.0))
    return pd.DataFrame(
        {"ldh": ldh, "os_days": time, "os_event": (rng.random(n) < 0.8).astype(float)},
        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id"),
    )


def test_format_cut_keeps_integer_digits() -> None:
    assert format_cut(1234.0) == "1234"
    assert format_cut(1234.5) == "1234.5"
    assert format_cut(1.6666) == "1.67"
    assert format_cut(0.000214) == "0.000214"
    stat = Statistic(name="ldh cut-point", estimate=1234.0, n=120, method="log-rank scan")
    assert str(stat).startswith("ldh cut-point 1234 "), str(stat)


def test_a_cut_in_the_thousands_is_named_with_its_digits() -> None:
    result = optimal_cutpoint(_frame(), "ldh", n_boot=50, seed=1)
    cut = result.cutpoint.estimate
    assert cut >= 1000
    summary = result.summary()
    assert f"> {cut:.0f} vs ≤ {cut:.0f}" in summary, summary
    assert "e+03" not in summary
    figure = pl.cutpoint_scan(result)
    texts = [
        t.get_text() for ax in figure.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]
    assert not any("e+03" in t for t in texts), texts
    assert any(f"cut-point {cut:.0f}" in t for t in texts), texts
