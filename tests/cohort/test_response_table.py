"""Response tables: the follicular lymphoma FLIPI table of the review, exact CIs, tests."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

import immunoprecise as ip
from immunoprecise.cohort import clopper_pearson, response_table
from immunoprecise.errors import CohortError


def _flipi_phase2() -> pd.DataFrame:
    """The γδ T-cell phase II (relapsed FL) counts by FLIPI group as reported in the review.

    Low FLIPI: 21 patients, 11 responders of whom 7 CR; intermediate/poor: 17 patients, 6
    responders of whom 3 CR. Non-responders are split between SD and PD arbitrarily (the table
    reports only ORR and CR).
    """
    low = ["CR"] * 7 + ["PR"] * 4 + ["SD"] * 6 + ["PD"] * 4
    high = ["CR"] * 3 + ["PR"] * 3 + ["SD"] * 6 + ["PD"] * 5
    flipi = ["low"] * 21 + ["intermediate"] * 9 + ["high"] * 8
    return pd.DataFrame({"best_response": low + high, "flipi": flipi})


def _exact(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson bounds from the beta quantiles (Clopper & Pearson 1934)."""
    a = 1 - level
    lo = 0.0 if k == 0 else stats.beta.ppf(a / 2, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(1 - a / 2, k + 1, n - k)
    return float(lo), float(hi)


def test_review_flipi_table_is_reproduced_with_exact_cis() -> None:
    table = response_table(
        _flipi_phase2(),
        by="flipi",
        groups={"low": ["low"], "intermediate/poor": ["intermediate", "high"]},
    )
    low, rest = table.rows
    assert (low.stratum, low.n, low.responders, low.complete) == ("low", 21, 11, 7)
    assert (rest.stratum, rest.n, rest.responders, rest.complete) == ("intermediate/poor", 17, 6, 3)
    shown = table.table()
    assert shown.loc["low", "ORR %"] == 52.4
    assert shown.loc["low", "CR %"] == 33.3
    # the review prints 35.2% (6/17 = 35.29% truncated); rounded it is 35.3%
    assert shown.loc["intermediate/poor", "ORR %"] == 35.3
    assert shown.loc["intermediate/poor", "CR %"] == 17.6
    for row, k, n in ((low, 11, 21), (rest, 6, 17)):
        assert (row.orr.ci_low, row.orr.ci_high) == pytest.approx(_exact(k, n), abs=1e-9)
    assert (rest.cr_rate.ci_low, rest.cr_rate.ci_high) == pytest.approx(_exact(3, 17), abs=1e-9)
    assert table.orr_test is not None
    assert table.orr_test.p_value == pytest.approx(stats.fisher_exact([[11, 10], [6, 11]]).pvalue)
    assert table.orr_test.method.startswith("Fisher")
    overall = response_table(_flipi_phase2()).rows[0]
    assert overall.responders == 17
    assert overall.n == 38


def test_three_strata_use_chi_square_and_warn_about_small_counts() -> None:
    table = response_table(_flipi_phase2(), by="flipi")
    assert [r.stratum for r in table.rows] == ["high", "intermediate", "low"]
    assert table.orr_test is not None
    assert table.orr_test.df == 2
    counts = [[r.responders, r.n - r.responders] for r in table.rows]
    assert table.orr_test.estimate == pytest.approx(
        stats.chi2_contingency(counts, correction=False).statistic
    )
    assert "expected counts below 5" in table.orr_test.method


def test_ne_counts_in_the_denominator_and_missing_responses_are_listed() -> None:
    frame = pd.DataFrame(
        {"best_response": ["CR", "NE", None, "PD"]}, index=pd.Index(["a", "b", "c", "d"])
    )
    table = response_table(frame)
    assert table.rows[0].n == 3
    assert table.rows[0].responders == 1
    assert table.excluded == ("c",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": "stage"}, "no column 'stage'"),
        ({"by": "flipi", "groups": {"low": ["low"]}}, r"levels \['high', 'intermediate'\]"),
        (
            {"by": "flipi", "groups": {"a": ["low"], "b": ["low", "high", "intermediate"]}},
            "more than one",
        ),
    ],
)
def test_response_table_refuses_bad_strata(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CohortError, match=message):
        response_table(_flipi_phase2(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("members", [([0, 1], [2]), ([0.0, 1.0], [2.0]), (["0", "1"], ["2"])])
def test_numeric_levels_may_be_grouped_by_number_or_text(
    members: tuple[list[object], list[object]],
) -> None:
    frame = pd.DataFrame(
        {"best_response": ["CR", "PD", "PR", "SD", "PD", "CR"], "score": [0, 1, 1, 2, 2.0, 0]}
    )
    table = response_table(frame, by="score", groups={"0-1": members[0], "2": members[1]})
    assert [(r.stratum, r.n, r.responders) for r in table.rows] == [("0-1", 4, 3), ("2", 2, 0)]


def test_unknown_best_response_is_named() -> None:
    frame = pd.DataFrame({"best_response": ["CR", "partial"]}, index=["p1", "p2"])
    with pytest.raises(CohortError, match="patient p2: best_response = 'partial'"):
        response_table(frame)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (1, 1), (33, 200), (11, 21)])
def test_clopper_pearson_edges(k: int, n: int) -> None:
    s = clopper_pearson(k, n, ci_level=0.9)
    assert (s.ci_low, s.ci_high) == pytest.approx(_exact(k, n, 0.9), abs=1e-9)
    assert s.ci_low is not None
    assert s.ci_high is not None
    assert s.ci_low <= s.estimate <= s.ci_high


def test_example_cohort_response_by_flipi() -> None:
    table = response_table(ip.data.example_path("fl_cohort.csv"), by="risk.flipi:category")
    frame = pd.read_csv(ip.data.example_path("fl_cohort.csv"))
    for row in table.rows:
        part = frame[frame["risk_flipi_category"] == row.stratum]
        assert row.n == len(part)
        assert row.responders == int(part["best_response"].isin(["CR", "PR"]).sum())


def test_numeric_levels_are_in_the_order_of_their_values_as_in_kaplan_meier() -> None:
    frame = pd.DataFrame(
        {"best_response": ["CR", "PD", "PR", "SD", "PD", "CR"], "dose": [10, 2, 2, 10, 1.5, 1.5]}
    )
    table = response_table(frame, by="dose")
    assert [r.stratum for r in table.rows] == ["1.5", "2", "10"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        # another case than the data's: the group would be empty, or its level left out
        (
            {"low": ["Low"], "intermediate/poor": ["intermediate", "high"]},
            r"level\(s\) \['Low'\] given in groups are not levels of 'flipi' among the patients "
            r"with a best response \(did you mean 'low'\?\); its levels are",
        ),
        (
            {"low": ["low", "hihg"], "intermediate/poor": ["intermediate", "high"]},
            r"level\(s\) \['hihg'\] given in groups are not levels of 'flipi'",
        ),
    ],
)
def test_a_group_level_the_column_lacks_is_named(
    groups: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(CohortError, match=message):
        response_table(_flipi_phase2(), by="flipi", groups=groups)
