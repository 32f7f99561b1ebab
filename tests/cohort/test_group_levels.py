"""A continuous column taken for a group is refused; a column with few levels is a group."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from immunoprecise.cohort import (
    ResponseTable,
    Statistic,
    SurvivalCurves,
    kaplan_meier,
    log_rank,
    response_table,
)
from immunoprecise.cohort.frame import MAX_GROUP_LEVELS
from immunoprecise.errors import CohortError


def _table(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "os_days": rng.exponential(600.0, n).round(),
            "os_event": rng.integers(0, 2, n),
            "cd8_density": rng.lognormal(5.0, 1.0, n).round(1),  # cells/mm², continuous
            "stage": rng.integers(1, 5, n),  # 1–4, numeric with few levels
            "pdl1_positive": rng.integers(0, 2, n),
            "site": [f"centre-{i % 25:02d}" for i in range(n)],  # text, 25 levels
            "age_band": [f"{20 + 5 * (i % 15)}-{24 + 5 * (i % 15)}" for i in range(n)],  # 15
            "best_response": rng.choice(["CR", "PR", "SD", "PD"], n),
        },
        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id"),
    )


GROUPED: dict[str, Callable[[pd.DataFrame, str], object]] = {
    "kaplan_meier": lambda f, c: kaplan_meier(f, group=c),
    "log_rank": lambda f, c: log_rank(f, group=c),
    "log_rank_trend": lambda f, c: log_rank(f, group=c, trend=True),
    "response_table": lambda f, c: response_table(f, by=c),
}


@pytest.mark.parametrize("analysis", sorted(GROUPED))
def test_a_continuous_column_is_refused_with_what_to_do(analysis: str) -> None:
    frame = _table()
    distinct = frame["cd8_density"].nunique()
    with pytest.raises(CohortError) as err:
        GROUPED[analysis](frame, "cd8_density")
    message = str(err.value)
    assert "'cd8_density'" in message
    assert f"{distinct} distinct values" in message
    assert "optimal_cutpoint" in message
    assert "cohort cutpoint" in message
    assert "pandas.qcut" in message


@pytest.mark.parametrize("analysis", sorted(GROUPED))
def test_a_text_column_with_many_levels_is_refused(analysis: str) -> None:
    with pytest.raises(CohortError, match=r"'site' has 25 distinct values.*at most 20.*Merge"):
        GROUPED[analysis](_table(), "site")


@pytest.mark.parametrize("analysis", ["kaplan_meier", "log_rank", "response_table"])
def test_named_levels_beyond_the_numeric_limit_stay_groups(analysis: str) -> None:
    # 15 five-year age bands (18 to 90+ gives up to 16) are strata chosen on purpose
    frame = _table()
    assert frame["age_band"].nunique() == 15 > MAX_GROUP_LEVELS
    GROUPED[analysis](frame, "age_band")  # no error
    with pytest.raises(CohortError, match="15 distinct values"):
        GROUPED[analysis](frame.assign(age=frame["age_band"].str[:2].astype(int)), "age")


@pytest.mark.parametrize("analysis", sorted(GROUPED))
@pytest.mark.parametrize("column", ["stage", "pdl1_positive"])
def test_a_numeric_column_with_few_levels_stays_a_group(analysis: str, column: str) -> None:
    frame = _table()
    result = GROUPED[analysis](frame, column)
    levels = frame[column].nunique()
    if isinstance(result, SurvivalCurves):
        assert [c.label for c in result.curves] == [str(v) for v in sorted(frame[column].unique())]
    elif isinstance(result, ResponseTable):
        assert len(result.rows) == levels
    else:  # a log-rank test: k - 1 degrees of freedom, or 1 for the trend
        assert isinstance(result, Statistic)
        assert result.df == (1 if analysis == "log_rank_trend" else levels - 1)


def test_the_limit_is_counted_among_the_patients_analysed() -> None:
    frame = _table(60)
    frame["grade"] = [i % (MAX_GROUP_LEVELS + 1) for i in range(60)]  # 0–10: 11 levels
    with pytest.raises(CohortError, match="11 distinct values"):
        kaplan_meier(frame, group="grade")
    # the patients of the 11th level have no survival time: 10 levels are compared
    frame.loc[frame["grade"] == MAX_GROUP_LEVELS, "os_days"] = np.nan
    km = kaplan_meier(frame, group="grade")
    assert len(km.curves) == MAX_GROUP_LEVELS


def test_binned_groups_keep_the_order_of_their_bins() -> None:
    frame = _table()
    frame["cd8_group"] = pd.qcut(frame["cd8_density"], 3, labels=["low", "mid", "high"])
    km = kaplan_meier(frame, group="cd8_group")
    assert [c.label for c in km.curves] == ["low", "mid", "high"]
    assert sum(c.n for c in km.curves) == len(frame)
    strata = response_table(frame, by="cd8_group").rows
    assert [r.stratum for r in strata] == ["low", "mid", "high"]


def test_bins_without_labels_are_in_the_order_of_their_values() -> None:
    frame = _table()
    frame["cd8_bin"] = pd.cut(frame["cd8_density"], [0.0, 50.0, 200.0, 1000.0, 1e6])
    labels = [c.label for c in kaplan_meier(frame, group="cd8_bin").curves]
    # as text '(1000.0, 1000000.0]' would sort before '(200.0, 1000.0]'
    assert labels == [
        "(0.0, 50.0]", "(50.0, 200.0]", "(200.0, 1000.0]", "(1000.0, 1000000.0]"
    ]  # fmt: skip


def test_a_trend_across_bins_is_scored_in_their_order() -> None:
    frame = _table()
    frame["cd8_group"] = pd.qcut(frame["cd8_density"], 3, labels=["low", "mid", "high"])
    by_bins = log_rank(frame, group="cd8_group", trend=True)
    given = log_rank(frame, group="cd8_group", trend=True, order=["low", "mid", "high"])
    assert by_bins.method.endswith("scores low=1, mid=2, high=3")
    assert by_bins.estimate == pytest.approx(given.estimate, rel=1e-12)
    # a text column that is not an ordered categorical still needs its order
    with pytest.raises(CohortError, match="give their order"):
        log_rank(frame.assign(cd8_group=frame["cd8_group"].astype(str)), group="cd8_group",
                 trend=True)  # fmt: skip


def test_merging_many_levels_into_strata_stays_allowed() -> None:
    frame = _table()
    sites = sorted(frame["site"].unique())
    table = response_table(frame, by="site", groups={"first": sites[:12], "rest": sites[12:]})
    assert [r.stratum for r in table.rows] == ["first", "rest"]
    assert sum(r.n for r in table.rows) == len(frame)


@pytest.mark.parametrize("analysis", sorted(GROUPED))
def test_an_empty_group_column_name_is_no_column(analysis: str) -> None:
    with pytest.raises(CohortError, match="no column ''"):
        GROUPED[analysis](_table(), "")
