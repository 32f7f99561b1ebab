"""A ratio and its CI are written with the same digits in a forest plot as in the tables
(``cohort.format_ratio``): a hazard ratio near 1 with a narrow CI never reads
"1.00 (1.00–1.00)" in one place and with its telling digits in another."""

from __future__ import annotations

from matplotlib.figure import Figure

from immunoprecise import pl
from immunoprecise.cohort import format_ratio
from immunoprecise.cohort.meta import pool_random_effects
from immunoprecise.cohort.statistic import Statistic


def _stat(name: str, estimate: float, low: float, high: float) -> Statistic:
    return Statistic(
        name=name, estimate=estimate, ci_low=low, ci_high=high, ci_level=0.95, n=300, method="Cox"
    )


def _right_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts if t.get_position()[0] == 1.02]


def test_a_hazard_ratio_near_one_reads_as_in_the_tables() -> None:
    rows = [
        ("CD8 density", _stat("hazard ratio", 1.0032, 1.0003, 1.0061)),
        ("CRP", _stat("hazard ratio", 0.7215, 0.553, 0.941)),
    ]
    texts = _right_texts(pl.forest(rows, log_scale=True))
    assert texts == [format_ratio(s.estimate, s.ci_low, s.ci_high) for _, s in rows]
    assert texts[0] == "1.0032 (1.0003–1.0061)"


def test_ratios_on_a_log_axis_are_ratios_whatever_their_name() -> None:
    rows = [
        ("trial A", _stat("HR", 0.99968, 0.99941, 0.99995)),
        ("trial B", _stat("OS HR per 100 cells/mm²", 0.9983, 0.9976, 0.9989)),
    ]
    texts = _right_texts(pl.forest(rows, log_scale=True))
    assert texts == [format_ratio(s.estimate, s.ci_low, s.ci_high) for _, s in rows]
    assert "1.00 (1.00–1.00)" not in texts


def test_a_pooled_ratio_reads_as_in_the_tables() -> None:
    studies = [_stat("HR", 1.0030, 1.0001, 1.0059), _stat("hazard ratio", 1.0036, 1.0004, 1.0068)]
    pooled = pool_random_effects(studies, labels=["A", "B"], scale="log")
    texts = _right_texts(pl.forest(pooled, log_scale=True))
    p = pooled.pooled
    assert texts[-1] == format_ratio(p.estimate, p.ci_low, p.ci_high)
    assert texts[-1] != "1.00 (1.00–1.01)"


def test_an_auc_keeps_two_decimals() -> None:
    rows = [("cohort 1", _stat("AUC", 0.7215, 0.61, 0.83))]
    assert _right_texts(pl.forest(rows)) == ["0.72 (0.61–0.83)"]
