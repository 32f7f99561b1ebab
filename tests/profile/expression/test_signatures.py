"""Each signature against a hand computation, and the coverage rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoprecise.data import example_path
from immunoprecise.profile.expression import read_expression, score_expression
from immunoprecise.profile.expression import signatures as sig
from immunoprecise.profile.expression.response import explain_icb_response, icb_response


def _matrix(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(values).T.rename(columns=lambda i: f"p{i}")


def test_cyt_is_the_geometric_mean_of_gzma_and_prf1() -> None:
    m = read_expression(_matrix({"GZMA": [10.0, 0.0], "PRF1": [40.0, 3.0]}), units="tpm")
    cyt = sig.cytolytic_activity(m).values["CYT"].to_numpy()
    np.testing.assert_allclose(cyt, [np.sqrt(10.01 * 40.01), np.sqrt(0.01 * 3.01)])


def test_ifng6_is_the_mean_log2_tpm() -> None:
    genes = ["IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA"]
    m = read_expression(_matrix({g: [2.0**i - 1.0] for i, g in enumerate(genes)}), units="tpm")
    assert sig.ifng6(m).values["IFNG6"].iloc[0] == pytest.approx(np.mean(range(6)))


def test_gep18_weights_genes_against_housekeeping() -> None:
    definition = sig.signature_data()["signatures"]["GEP18"]
    weights = definition["weights"]
    housekeeping = [g if g != "C14orf102" else "NRDE2" for g in definition["housekeeping"]]
    rng = np.random.default_rng(4)
    log2 = {g: [rng.uniform(0, 10)] for g in [*weights, *housekeeping]}
    m = read_expression(_matrix({g: [2.0 ** v[0] - 1.0] for g, v in log2.items()}), units="tpm")
    hk = np.mean([log2[g][0] for g in housekeeping])
    expected = sum(w * (log2[g][0] - hk) for g, w in weights.items())
    assert sig.gep18(m).values["GEP18"].iloc[0] == pytest.approx(expected)


def test_impres_counts_pairs_in_the_published_direction() -> None:
    pairs = sig.signature_data()["signatures"]["IMPRES"]["pairs"]
    genes = sorted({("VSIR" if g == "C10orf54" else g) for pair in pairs for g in pair})
    # every gene at 1 TPM except PDCD1 at 100: pairs with PDCD1 first win, with PDCD1 second lose
    values = {g: [1.0] for g in genes}
    values["PDCD1"] = [100.0]
    m = read_expression(_matrix(values), units="tpm")
    first = sum(1 for a, _b in pairs if a == "PDCD1")
    assert first >= 1
    assert sig.impres(m).values["IMPRES"].iloc[0] == first


def test_impres_rescales_when_a_pair_is_missing() -> None:
    pairs = sig.signature_data()["signatures"]["IMPRES"]["pairs"]
    genes = sorted({("VSIR" if g == "C10orf54" else g) for pair in pairs for g in pair})
    values = {g: [float(i + 1)] for i, g in enumerate(genes) if g != "TNFSF9"}
    full = read_expression(_matrix(values), units="tpm")
    result = sig.impres(full)
    usable = sum(1 for a, b in pairs if "TNFSF9" not in (a, b))
    wins = sum(
        1
        for a, b in pairs
        if "TNFSF9" not in (a, b)
        and values["VSIR" if a == "C10orf54" else a][0]
        > values["VSIR" if b == "C10orf54" else b][0]
    )
    assert result.values["IMPRES"].iloc[0] == pytest.approx(wins * 15 / usable)
    assert result.coverage.missing == ("TNFSF9",)


def test_ips_follows_the_published_procedure_by_hand() -> None:
    table = pd.DataFrame(sig.signature_data()["signatures"]["IPS"]["genes"])
    updates = sig.signature_data()["signatures"]["IPS"].get("symbol_updates") or {}
    table["gene"] = [updates.get(g, g) for g in table["gene"]]
    rng = np.random.default_rng(9)
    genes = sorted(set(table["gene"]) | {f"OR{i}A1" for i in range(1, 9)})
    log2 = pd.Series(rng.uniform(0, 12, len(genes)), index=genes)
    m = read_expression(pd.DataFrame({"p": 2.0**log2 - 1.0}), units="tpm")
    x = m.log2()["p"]  # every gene of the sample, under its current symbol
    z = (x - x.mean()) / x.std(ddof=1)
    groups = table.groupby(["category", "group"], sort=False)
    category: dict[str, list[float]] = {}
    for (cat, _g), rows in groups:
        zs = [z[g] for g in rows["gene"] if g in z.index]
        category.setdefault(cat, []).append(float(np.mean(zs)) * float(rows["weight"].mean()))
    az = sum(float(np.mean(v)) for v in category.values())
    ips = 0 if az <= 0 else 10 if az >= 3 else round(az * 10 / 3)
    result = sig.immunophenoscore(m).values.iloc[0]
    assert result["IPS_AZ"] == pytest.approx(az)
    assert result["IPS"] == ips


def test_a_signature_with_too_few_genes_is_refused_with_the_missing_named() -> None:
    m = read_expression(_matrix({"IFNG": [5.0], "STAT1": [3.0], "ACTB": [900.0]}), units="tpm")
    result = sig.ifng6(m)
    assert np.isnan(result.values["IFNG6"].iloc[0])
    assert not result.coverage.scored
    message = result.coverage.message()
    assert "2/6 genes: not scored" in message
    for gene in ("IDO1", "CXCL9", "CXCL10", "HLA-DRA"):
        assert gene in message


def test_icb_response_is_the_mean_of_its_two_parts_and_never_imputed() -> None:
    scores = pd.DataFrame({"IMPRES": [15.0, 0.0, np.nan], "IPS_AZ": [5.0, -1.0, 2.0]})
    np.testing.assert_allclose(icb_response(scores).to_numpy()[:2], [1.0, 0.0])
    assert np.isnan(icb_response(scores).iloc[2])
    assert "not assessable: IMPRES" in explain_icb_response(scores.iloc[2])


def _gep18_genes() -> tuple[dict[str, float], list[str]]:
    definition = sig.signature_data()["signatures"]["GEP18"]
    updates = definition.get("symbol_updates") or {}
    weights = {updates.get(g, g): float(w) for g, w in definition["weights"].items()}
    housekeeping = [updates.get(g, g) for g in definition["housekeeping"]]
    return weights, housekeeping


def test_gep18_leaves_missing_values_out_and_is_nan_when_a_sample_lacks_its_genes() -> None:
    weights, housekeeping = _gep18_genes()
    genes = [*weights, *housekeeping]
    rng = np.random.default_rng(11)
    log2 = pd.DataFrame(rng.uniform(0, 10, (len(genes), 4)), index=genes, columns=list("abcd"))
    log2.loc["STAT1", "b"] = np.nan  # one signature gene without a value
    log2.loc[housekeeping[0], "b"] = np.nan  # and one housekeeping gene
    log2.loc[housekeeping, "c"] = np.nan  # no housekeeping gene measured
    log2.loc[list(weights)[:10], "d"] = np.nan  # 8 of 18 signature genes measured
    m = read_expression(2.0**log2 - 1.0, units="tpm")
    got = sig.gep18(m).values["GEP18"]
    for sample in ("a", "b"):
        x = log2[sample]
        reference = x[housekeeping].dropna().mean()
        expected = sum(w * (x[g] - reference) for g, w in weights.items() if np.isfinite(x[g]))
        assert got[sample] == pytest.approx(expected)
    assert np.isnan(got["c"])
    assert np.isnan(got["d"])


def test_cyt_and_ifng6_need_half_of_their_genes_measured_in_the_sample() -> None:
    genes = ["IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA"]
    log2 = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, index=genes)
    log2["b"] = log2["a"]
    log2.loc["IFNG", "b"] = np.nan  # 5 of 6 measured: the mean of those five
    log2["c"] = log2["a"]
    log2.loc[genes[:4], "c"] = np.nan  # 2 of 6 measured: not scored
    m = read_expression(2.0**log2 - 1.0, units="tpm")
    got = sig.ifng6(m).values["IFNG6"]
    assert got["a"] == pytest.approx(3.5)
    assert got["b"] == pytest.approx(np.mean([2.0, 3.0, 4.0, 5.0, 6.0]))
    assert np.isnan(got["c"])
    both = pd.DataFrame({"a": [np.nan, 3.0], "b": [np.nan, np.nan]}, index=["GZMA", "PRF1"])
    cyt = sig.cytolytic_activity(read_expression(both, units="tpm")).values["CYT"]
    assert cyt["a"] == pytest.approx(3.01)  # one of two genes: the geometric mean of one
    assert np.isnan(cyt["b"])


def _impres_pairs() -> tuple[list[tuple[str, str]], list[str]]:
    definition = sig.signature_data()["signatures"]["IMPRES"]
    updates = definition.get("symbol_updates") or {}
    pairs = [(updates.get(a, a), updates.get(b, b)) for a, b in definition["pairs"]]
    return pairs, sorted({g for pair in pairs for g in pair})


def test_impres_does_not_count_a_pair_with_a_missing_value() -> None:
    pairs, genes = _impres_pairs()
    rng = np.random.default_rng(5)
    tpm = pd.DataFrame(rng.uniform(1, 100, (len(genes), 2)), index=genes, columns=["a", "b"])
    missing = pairs[0][0]
    tpm.loc[missing, "b"] = np.nan
    got = sig.impres(read_expression(tpm, units="tpm")).values["IMPRES"]
    for sample in ("a", "b"):
        x = tpm[sample]
        compared = [(a, b) for a, b in pairs if np.isfinite(x[a]) and np.isfinite(x[b])]
        wins = sum(1 for a, b in compared if x[a] > x[b])
        assert got[sample] == pytest.approx(wins * len(pairs) / len(compared))
    assert len([p for p in pairs if missing not in p]) < len(pairs)


def test_impres_is_nan_for_a_sample_with_no_pair_left() -> None:
    pairs, genes = _impres_pairs()
    tpm = pd.DataFrame({"a": np.arange(1.0, len(genes) + 1.0)}, index=genes)
    tpm["b"] = tpm["a"]
    firsts = sorted({a for a, _b in pairs})
    tpm.loc[firsts, "b"] = np.nan  # every pair has a missing value in sample b
    got = sig.impres(read_expression(tpm, units="tpm")).values["IMPRES"]
    assert np.isfinite(got["a"])
    assert np.isnan(got["b"])


def test_icb_response_is_nan_for_a_sample_whose_impres_is_missing() -> None:
    frame = pd.read_csv(example_path("expression_examples.tsv"), sep="\t", index_col=0)
    pairs, _genes = _impres_pairs()
    sample = frame.columns[0]
    frame.loc[sorted({a for a, _b in pairs if a in frame.index}), sample] = np.nan
    scores = score_expression(frame, units="tpm", deconvolution=False)
    assert np.isnan(scores.loc[sample, "IMPRES"])
    assert np.isnan(scores.loc[sample, "icb_response"])
    assert "not assessable: IMPRES" in scores.loc[sample, "icb_response_explanation"]
    others = scores.drop(index=sample)
    assert others["icb_response"].notna().all()
