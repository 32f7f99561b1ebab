"""Validation on eight public immune-checkpoint-blockade cohorts (``../shared/data/icb/``).

For each cohort: ROC AUC of ``icb_response``, CYT, IFN-γ6 and GEP18 for responders vs
non-responders, with the scores recomputed independently from the raw file as a check of the
implementation. ``icb_response`` has nothing fitted, so nothing is tuned on these cohorts; its
rule is the mean of two published scores (see ``immunoprecise.profile.expression.response``).
The table of AUCs, with TIDE side by side, is printed by ``benchmarks/icb_response.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immunoprecise as ip
from icb_data import COHORTS, ICB, needs_icb
from immunoprecise.cohort import evaluate_predictors_across_cohorts

pytestmark = needs_icb


def roc_auc(score: np.ndarray, responder: np.ndarray) -> float:
    """Mann–Whitney AUC: P(score of a responder > score of a non-responder), ties count ½."""
    r, n = score[responder], score[~responder]
    greater = (r[:, None] > n[None, :]).sum()
    ties = (r[:, None] == n[None, :]).sum()
    return float((greater + 0.5 * ties) / (r.size * n.size))


_cache: dict[str, tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = {}


def cohort(name: str) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Raw log2 expression, scores and responder flags of the evaluable patients."""
    if name not in _cache:
        expression = pd.read_csv(ICB / name / "expression.tsv.gz", sep="\t", index_col=0)
        clinical = pd.read_csv(ICB / name / "clinical.tsv", sep="\t", index_col=0)
        scores = ip.score_expression(expression, deconvolution=False)
        response = clinical["response"].reindex(scores.index)
        keep = response.isin(["R", "NR"]).to_numpy()
        _cache[name] = (
            expression.loc[:, keep],
            scores.loc[keep],
            (response[keep] == "R").to_numpy(),
        )
    return _cache[name]


@pytest.mark.parametrize("name", list(COHORTS))
def test_cohort_auc(name: str) -> None:
    expression, scores, responder = cohort(name)
    assert (responder.size, int(responder.sum())) == COHORTS[name]
    # the implementation, checked against a direct computation from the raw log2(TPM + 0.001)
    tpm = np.clip(2.0**expression - 0.001, 0.0, None)
    cyt = np.sqrt((tpm.loc["GZMA"] + 0.01) * (tpm.loc["PRF1"] + 0.01)).to_numpy()
    np.testing.assert_allclose(scores["CYT"].to_numpy(), cyt, rtol=1e-9)
    ifng = ["IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA"]
    np.testing.assert_allclose(
        scores["IFNG6"].to_numpy(), np.log2(tpm.loc[ifng] + 1).mean().to_numpy(), rtol=1e-9
    )
    aucs = {c: roc_auc(scores[c].to_numpy(), responder) for c in ("icb_response", "CYT", "IFNG6")}
    aucs["GEP18"] = roc_auc(scores["GEP18"].to_numpy(), responder)
    assert all(0.0 <= a <= 1.0 for a in aucs.values())
    # icb_response ranks responders above non-responders more often than chance in each cohort
    assert aucs["icb_response"] > 0.5, aucs


def test_mean_auc_across_the_eight_cohorts_meets_the_target() -> None:
    aucs = [
        roc_auc(cohort(name)[1]["icb_response"].to_numpy(), cohort(name)[2]) for name in COHORTS
    ]
    assert np.mean(aucs) >= 0.65, dict(zip(COHORTS, np.round(aucs, 3), strict=True))


def test_pooled_auc_across_the_eight_cohorts_is_above_chance() -> None:
    # random-effects pooling of the per-cohort AUCs (DeLong SEs, logit scale): the 95% interval
    # of the pooled AUC lies above 0.5, i.e. the score carries signal beyond any one cohort
    frames = {}
    for name in COHORTS:
        _, scores, responder = cohort(name)
        frames[name] = pd.DataFrame(
            {"response": responder.astype(int), "icb_response": scores["icb_response"].to_numpy()}
        )
    pooled = evaluate_predictors_across_cohorts(frames, ["icb_response"]).pooled("icb_response")
    assert pooled is not None
    assert len(pooled.studies) == len(COHORTS)
    assert pooled.pooled.ci_low is not None
    assert pooled.pooled.ci_low > 0.5, pooled.pooled
