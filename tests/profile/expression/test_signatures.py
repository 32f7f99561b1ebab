"""Each signature against a hand computation, and the coverage rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunoprecise.profile.expression import read_expression
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
