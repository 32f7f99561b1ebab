"""ssGSEA: the closed form against the running sum, against gseapy, and its basic behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from immunoprecise.profile.expression.ssgsea import _bucket_ranks, _member_ranks, ssgsea


def _running_sum_es(values: list[float], members: set[int], alpha: float) -> float:
    """ES by the definition, in plain loops: walk the genes from the highest, accumulate the
    weighted hit and the miss fractions, and add up their difference at every step."""
    n = len(values)
    order = sorted(range(n), key=lambda i: -values[i])  # highest first (values distinct)
    rank = {gene: n - position for position, gene in enumerate(order)}  # 1 = lowest
    weight_total = sum(rank[g] ** alpha for g in members)
    n_miss = n - len(members)
    p_hit = p_miss = es = 0.0
    for gene in order:
        if gene in members:
            p_hit += rank[gene] ** alpha / weight_total
        else:
            p_miss += 1.0 / n_miss
        es += p_hit - p_miss
    return es


def _random(n_genes: int, n_samples: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.gamma(2.0, 2.0, size=(n_genes, n_samples)),
        index=pd.Index([f"G{i}" for i in range(n_genes)]),
        columns=pd.Index([f"s{j}" for j in range(n_samples)]),
    )


@pytest.mark.parametrize("alpha", [0.0, 0.25, 1.0])
def test_closed_form_equals_the_running_sum(alpha: float) -> None:
    values = {
        "s1": [5.0, 1.0, 3.5, 0.2, 8.0, 2.0, 7.0],
        "s2": [0.1, 6.0, 2.5, 9.0, 1.5, 4.0, 3.0],
    }
    genes = ["A", "B", "C", "D", "E", "F", "G"]
    expression = pd.DataFrame(values, index=genes)
    sets = {"ACE": ["A", "C", "E"], "BDX": ["B", "D", "X"], "G": ["G"]}
    es = ssgsea(expression, sets, alpha=alpha)
    for sample, column in values.items():
        for name, members in sets.items():
            rows = {genes.index(g) for g in members if g in genes}
            expected = _running_sum_es(column, rows, alpha)
            assert es.loc[sample, name] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert es.attrs["set_sizes"] == {"ACE": 3, "BDX": 2, "G": 1}


def test_top_genes_score_higher_than_bottom_genes() -> None:
    expression = _random(500, 6, seed=3)
    for sample in expression.columns:
        column = expression[sample].sort_values(ascending=False)
        sets = {"top": list(column.index[:25]), "bottom": list(column.index[-25:])}
        es = ssgsea(expression[[sample]], sets)
        assert es.loc[sample, "top"] > 0 > es.loc[sample, "bottom"]


def test_scale_free_missing_values_and_small_sets() -> None:
    expression = _random(300, 5, seed=5)
    sets = {"a": [f"G{i}" for i in range(0, 60, 3)], "tiny": ["G1", "nope"], "none": ["nope"]}
    es = ssgsea(expression, sets, min_size=2)
    # only the order within a sample matters: a monotone transform changes nothing
    pd.testing.assert_frame_equal(ssgsea(np.log2(expression + 1.0), sets, min_size=2), es)
    assert es["tiny"].isna().all()
    assert es["none"].isna().all()
    assert es.attrs["set_sizes"] == {"a": 20, "tiny": 1, "none": 0}
    # a missing value ranks lowest: the same as the sample's minimum minus one
    holed = expression.copy()
    holed.iloc[0, 0] = np.nan
    lowered = expression.copy()
    lowered.iloc[0, 0] = expression.iloc[:, 0].min() - 1.0
    pd.testing.assert_frame_equal(ssgsea(holed, sets), ssgsea(lowered, sets))


def test_chunks_do_not_change_the_result() -> None:
    expression = _random(400, 23, seed=7)
    sets = {"a": [f"G{i}" for i in range(40)], "b": [f"G{i}" for i in range(100, 300, 2)]}
    pd.testing.assert_frame_equal(ssgsea(expression, sets, chunk=5), ssgsea(expression, sets))


def _cases() -> dict[str, tuple[np.ndarray, bool]]:
    """Matrices (genes × samples) and whether the bucket path should handle them."""
    rng = np.random.default_rng(17)
    log2 = np.maximum(rng.normal(3.0, 2.0, (3000, 12)), 0.0)  # about 7% zeros
    constant = log2.copy()
    constant[:, 2] = 5.0
    adjacent = log2.copy()
    adjacent[:, 1] = np.nextafter(3.0, 4.0)
    adjacent[:100, 1] = 3.0
    holed = log2.copy()
    holed[::7, 3] = np.nan
    infinite = log2.copy()
    infinite[5, 4] = np.inf
    return {
        "log2, Fortran order": (np.asfortranarray(log2), True),
        "log2, C order": (np.ascontiguousarray(log2), True),
        "rounded to 0.1 (many ties)": (np.round(log2, 1), True),
        "rounded to 0.001": (np.round(log2, 3), True),
        "wide range (scale < 1)": (log2 * 1e6, True),
        "tiny values": (rng.normal(size=(3000, 12)) * 1e-300, True),
        "differences of 1e-12": (log2 + rng.integers(0, 2, log2.shape) * 1e-12, True),
        "five levels": (rng.integers(0, 5, log2.shape).astype(float), True),
        "a constant sample": (constant, True),
        "adjacent doubles": (adjacent, True),
        "linear TPM (skewed)": (np.exp2(log2) - 1.0, False),
        "missing values": (holed, False),
        "infinite value": (infinite, False),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_bucket_ranks_equal_sorted_ranks(case: str) -> None:
    values, fast = _cases()[case]
    union = np.unique(np.random.default_rng(3).choice(values.shape[0], 300, replace=False))
    expected = _member_ranks(values, union, buckets=False)
    np.testing.assert_array_equal(_member_ranks(values, union), expected)
    assert (_bucket_ranks(np.ascontiguousarray(values.T), union) is not None) == fast
    # the sorted path against scipy's average ranks (missing values lowest)
    filled = np.where(np.isnan(values), -np.inf, values)
    np.testing.assert_array_equal(expected, rankdata(filled, axis=0)[union].T)


def test_ties_take_the_average_rank() -> None:
    # A and B tie: ES is the mean of the two orderings of the tie
    expression = pd.DataFrame({"s": [2.0, 2.0, 1.0, 3.0]}, index=["A", "B", "C", "D"])
    es = ssgsea(expression, {"A": ["A"]}, alpha=0.0).iloc[0, 0]
    first = _running_sum_es([2.1, 2.0, 1.0, 3.0], {0}, 0.0)
    second = _running_sum_es([1.9, 2.0, 1.0, 3.0], {0}, 0.0)
    assert es == pytest.approx((first + second) / 2)


def test_invalid_input_is_refused() -> None:
    expression = pd.DataFrame({"s": [1.0, 2.0]}, index=["A", "A"])
    with pytest.raises(ValueError, match="duplicated gene names"):
        ssgsea(expression, {"x": ["A"]})
    with pytest.raises(ValueError, match="alpha"):
        ssgsea(_random(5, 1, seed=1), {"x": ["G1"]}, alpha=-1.0)


def test_matches_gseapy_ssgsea() -> None:
    gseapy = pytest.importorskip("gseapy")
    rng = np.random.default_rng(20261121)
    expression = _random(2000, 40, seed=11)
    genes = list(expression.index)
    sizes = (5, 12, 30, 75, 150, 200)
    sets = {
        f"set{size}": [*rng.choice(genes, size=size, replace=False), "ABSENT1", "ABSENT2"]
        for size in sizes
    }
    result = gseapy.ssgsea(
        data=expression,
        gene_sets=sets,
        outdir=None,
        sample_norm_method="rank",
        permutation_num=0,
        no_plot=True,
        min_size=1,
        max_size=1000,
        threads=1,
    )
    theirs = (
        result.res2d.pivot(index="Name", columns="Term", values="ES")
        .astype(float)
        .loc[list(expression.columns), list(sets)]
    )
    ours = ssgsea(expression, sets)
    assert ours.attrs["set_sizes"] == {name: int(name[3:]) for name in sets}
    for name in sets:
        r = np.corrcoef(ours[name].to_numpy(), theirs[name].to_numpy())[0, 1]
        assert r >= 0.999, name
    # not only correlated: the same number (gseapy's (10000 r / N)^alpha weights cancel)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-8)
