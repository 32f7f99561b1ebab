"""Benchmark: response prediction on eight public checkpoint-blockade cohorts.

For each cohort of ``../shared/data/icb/`` (pre-treatment RNA-seq, log2(TPM + 0.001); responders
R vs non-responders NR), the ROC AUC of ``icb_response`` and of the single signatures CYT,
IFN-γ6, GEP18, IMPRES and IPS, side by side with TIDE (Jiang et al., Nat Med 2018,
doi:10.1038/s41591-018-0136-1; the ``tidepy`` package, run here when installed — ``make bench``
installs it — and never a dependency of immunoprecise).

TIDE is run as its authors describe for RNA-seq: log2(TPM + 1), each gene centred on the
cohort mean, ``cancer="Melanoma"`` for melanoma and ``"Other"`` otherwise, ``pretreat=False``;
its score is negated so that higher = response, like every other column.

Target: ``icb_response`` mean AUC ≥ 0.65 over the eight, and above TIDE in at least six.
Nothing in ``icb_response`` is fitted (it is the mean of IMPRES and IPS on their published
scales), so no cross-validation is needed; these cohorts are few and small (13–39 patients), so
differences of a few hundredths are noise.

Run: .venv/bin/python benchmarks/icb_response.py [path/to/icb]
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import immunoprecise as ip

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "icb"
COLUMNS = ("icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS")


def roc_auc(score: np.ndarray, responder: np.ndarray) -> float:
    """Mann–Whitney AUC with ties counted ½ (NaN scores left out)."""
    ok = np.isfinite(score)
    r, n = score[ok & responder], score[ok & ~responder]
    if not r.size or not n.size:
        return float("nan")
    greater = (r[:, None] > n[None, :]).sum()
    ties = (r[:, None] == n[None, :]).sum()
    return float((greater + 0.5 * ties) / (r.size * n.size))


def tide_scores(log2_tpm_001: pd.DataFrame, melanoma: bool) -> pd.Series | None:
    """−TIDE per sample (higher = response), or None when tidepy is not installed."""
    try:
        from tidepy.pred import TIDE
    except ImportError:
        return None
    tpm = (2.0**log2_tpm_001 - 0.001).clip(lower=0.0)
    x = np.log2(tpm + 1.0)
    x = x.sub(x.mean(axis=1), axis=0)
    result = TIDE(
        x.copy(),
        cancer="Melanoma" if melanoma else "Other",
        pretreat=False,
        vthres=0.0,
        ignore_norm=True,
    )
    return -result["TIDE"].reindex(log2_tpm_001.columns)


def main(root: Path = DEFAULT) -> None:
    """Print the AUC table, the means and the comparison with TIDE."""
    if not root.is_dir():
        sys.exit(f"ICB cohorts not found at {root}")
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        expression = pd.read_csv(folder / "expression.tsv.gz", sep="\t", index_col=0)
        clinical = pd.read_csv(folder / "clinical.tsv", sep="\t", index_col=0)
        scores = ip.score_expression(expression, deconvolution=False)
        response = clinical["response"].reindex(scores.index)
        keep = response.isin(["R", "NR"]).to_numpy()
        responder = (response[keep] == "R").to_numpy()
        row: dict[str, object] = {
            "cohort": folder.name,
            "n (R)": f"{keep.sum()} ({responder.sum()})",
        }
        for column in COLUMNS:
            row[column] = roc_auc(scores.loc[keep, column].to_numpy(), responder)
        tide = tide_scores(expression, melanoma="melanoma" in folder.name)
        row["TIDE"] = (
            roc_auc(tide.to_numpy()[keep], responder) if tide is not None else float("nan")
        )
        rows.append(row)
    table = pd.DataFrame(rows).set_index("cohort")
    numeric = table.drop(columns="n (R)").astype(float)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, "
        f"immunoprecise {ip.__version__}; cohorts: {root}"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print("mean AUC: " + ", ".join(f"{c} {v:.3f}" for c, v in numeric.mean().items()))
    if numeric["TIDE"].notna().all():
        wins = int((numeric["icb_response"] > numeric["TIDE"]).sum())
        print(f"icb_response above TIDE in {wins} of {len(numeric)} cohorts (target >= 6)")
    else:
        print("TIDE not run (install tidepy: make bench)")
    mean = numeric["icb_response"].mean()
    print(f"icb_response mean AUC {mean:.3f} (target >= 0.65)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
