"""``icb_response``: a transparent composite of two published response predictors.

Rule (nothing fitted): the mean of two per-sample scores, each on its published scale:

    icb_response = ½ · IMPRES / 15  +  ½ · IPS_c / 10,     0 (unfavourable) … 1 (favourable)

- IMPRES (Auslander et al., Nat Med 2018, doi:10.1038/s41591-018-0157-9): how many of 15
  checkpoint gene pairs are in the order seen in responders; built for ICB response in melanoma.
- IPS_c: the immunophenoscore (Charoentong et al., Cell Rep 2017,
  doi:10.1016/j.celrep.2016.12.019) before its rounding to an integer, ``clip(IPS_AZ · 10/3, 0,
  10)``; it summarises antigen presentation (MHC), checkpoints, effector and suppressor cells, and
  predicted response to CTLA-4 and PD-1 blockade in melanoma.

Both are computed within a sample (gene-pair order; z-scores against the sample's own genes), so
``icb_response`` of a patient does not depend on the other samples in the matrix. Why these two:
they are the published scores that rest on different biology (checkpoint gene order vs. the
immune contexture) and each predicted ICB response in its own validation; CYT, IFN-γ6 and GEP18
measure one axis (IFN-γ / cytotoxic inflammation) that is also inside IPS. Equal weights keep the
rule free of fitting; its performance on the eight public cohorts is in ``benchmarks/RESULTS.md``.
A score is research decision support, not a validated test.

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"IMPRES": [12.0, 3.0], "IPS_AZ": [2.4, 0.3]}, index=["a", "b"])
>>> icb_response(scores).round(3).tolist()
[0.8, 0.15]
>>> print(explain_icb_response(scores.loc["a"]))
icb_response 0.80 = ½·IMPRES 12/15 (0.40) + ½·IPS 8.0/10 (0.40)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["explain_icb_response", "icb_response", "ips_continuous"]


def ips_continuous(ips_az: pd.Series | np.ndarray) -> np.ndarray:
    """The immunophenoscore on 0–10 without rounding: ``clip(AZ · 10/3, 0, 10)``."""
    return np.asarray(np.clip(np.asarray(ips_az, dtype=np.float64) * 10.0 / 3.0, 0.0, 10.0))


def icb_response(scores: pd.DataFrame) -> pd.Series:
    """The composite response score, one value per sample (0–1, higher = more likely response).

    Parameters
    ----------
    scores
        Samples × scores with columns ``IMPRES`` (0–15) and ``IPS_AZ`` (raw IPS sum).

    Returns
    -------
    pandas.Series
        ``icb_response``; NaN where either input is missing (never imputed).
    """
    value = 0.5 * scores["IMPRES"].to_numpy() / 15.0 + 0.5 * ips_continuous(scores["IPS_AZ"]) / 10.0
    return pd.Series(value, index=scores.index, name="icb_response")


def explain_icb_response(row: pd.Series) -> str:
    """One sentence showing how a sample's ``icb_response`` was built from its parts.

    Parameters
    ----------
    row
        One sample's scores (``IMPRES``, ``IPS_AZ``).
    """
    impres = float(row["IMPRES"])
    ips = float(ips_continuous(np.array([row["IPS_AZ"]]))[0])
    if not (np.isfinite(impres) and np.isfinite(ips)):
        missing = [n for n, v in (("IMPRES", impres), ("IPS", ips)) if not np.isfinite(v)]
        return f"icb_response not assessable: {' and '.join(missing)} not scored"
    a, b = 0.5 * impres / 15.0, 0.5 * ips / 10.0
    return (
        f"icb_response {a + b:.2f} = ½·IMPRES {impres:.0f}/15 ({a:.2f}) + "
        f"½·IPS {ips:.1f}/10 ({b:.2f})"
    )
