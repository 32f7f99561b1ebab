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
scales). It was chosen among a handful of rules (``CANDIDATE_RULES``) by looking at these eight
cohorts, so the benchmark also shows what that choice is worth on a cohort it did not see: for
each cohort in turn, the rule with the best mean AUC on the other seven is picked and scored on
the held-out one (leave-one-cohort-out selection).

These cohorts are few and small (13–39 patients), so the benchmark prints how uncertain each
comparison is: DeLong 95% intervals of every AUC, the paired DeLong test of icb_response against
TIDE in each cohort, random-effects pooled AUCs (DerSimonian–Laird, logit scale) and, from a
seeded bootstrap of patients within cohorts (responders and non-responders resampled
separately), how often icb_response would beat TIDE in six or more cohorts.

Run: .venv/bin/python benchmarks/icb_response.py [path/to/icb] [--seed N] [--boot N]
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

import immunoprecise as ip
from immunoprecise.cohort import (
    delong_test,
    evaluate_predictors_across_cohorts,
    pool_random_effects,
    read_icb_cohorts,
    roc_auc,
)
from immunoprecise.profile.expression.response import icb_response, ips_continuous

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "icb"
COLUMNS = ("icb_response", "CYT", "IFNG6", "GEP18", "IMPRES", "IPS")


def _impres(s: pd.DataFrame) -> np.ndarray:
    return s["IMPRES"].to_numpy() / 15.0


def _ips(s: pd.DataFrame) -> np.ndarray:
    return ips_continuous(s["IPS_AZ"]) / 10.0


def _part(s: pd.DataFrame, column: str) -> np.ndarray:
    return ips_continuous(s[column]) / 10.0


# Every rule looked at before ``icb_response`` was fixed, each a function of one sample's scores.
CANDIDATE_RULES: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "IMPRES alone": _impres,
    "IPS alone": _ips,
    "½ IMPRES + ½ IPS-MHC": lambda s: 0.5 * _impres(s) + 0.5 * s["IPS_MHC"].to_numpy(),
    "⅓ IMPRES + ⅓ MHC + ⅓ EC": lambda s: (
        (_impres(s) + _part(s, "IPS_MHC") + _part(s, "IPS_EC")) / 3.0
    ),
    "⅓ IMPRES + ⅓ IPS + ⅓ log2 CYT/10": lambda s: (
        (_impres(s) + _ips(s) + np.clip(np.log2(s["CYT"].to_numpy() + 1.0) / 10.0, 0.0, 1.0)) / 3.0
    ),
    "½ IMPRES + ½ rounded IPS": lambda s: 0.5 * _impres(s) + 0.5 * s["IPS"].to_numpy() / 10.0,
    "½ IMPRES + ½ IPS (icb_response)": lambda s: icb_response(s).to_numpy(),
}


def _three(v: float) -> str:
    return f"{v:.3f}"


def mann_whitney_auc(score: np.ndarray, responder: np.ndarray) -> float:
    """P(score of a responder > score of a non-responder), ties ½ (NaN scores left out)."""
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
        from tidepy.pred import TIDE  # type: ignore[import-untyped]
    except ImportError:
        return None
    tpm = (2.0**log2_tpm_001 - 0.001).clip(lower=0.0)
    x = pd.DataFrame(np.log2(tpm + 1.0))
    x = x.sub(x.mean(axis=1), axis=0)
    result = TIDE(
        x.copy(),
        cancer="Melanoma" if melanoma else "Other",
        pretreat=False,
        vthres=0.0,
        ignore_norm=True,
    )
    return pd.Series(-result["TIDE"].reindex(log2_tpm_001.columns))


def read_cohorts(root: Path) -> dict[str, pd.DataFrame]:
    """Each cohort's evaluable patients with their scores and, when tidepy is there, ``TIDE``."""
    frames = {}
    for name, frame in read_icb_cohorts(root).items():
        expression = pd.read_csv(root / name / "expression.tsv.gz", sep="\t", index_col=0)
        expression.columns = [str(c) for c in expression.columns]
        tide = tide_scores(expression, melanoma="melanoma" in name)
        frame["TIDE"] = tide.reindex(frame.index) if tide is not None else np.nan
        frames[name] = frame[frame["response"].notna() & frame["icb_response"].notna()].copy()
    return frames


def auc_table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Cohort × predictor ROC AUCs (R vs NR), with ``n (R)``."""
    rows = []
    for name, frame in frames.items():
        responder = frame["response"].to_numpy(dtype=bool)
        row: dict[str, object] = {"cohort": name, "n (R)": f"{len(frame)} ({responder.sum()})"}
        for column in (*COLUMNS, "TIDE"):
            row[column] = mann_whitney_auc(frame[column].to_numpy(dtype=float), responder)
        rows.append(row)
    return pd.DataFrame(rows).set_index("cohort")


def paired_with_tide(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, str]:
    """Per cohort: both AUCs with DeLong 95% CIs and the paired DeLong test of the difference.

    Also returns the per-cohort differences pooled by random effects (identity scale), the
    one-number answer to "is icb_response better than TIDE across these cohorts".
    """
    rows, differences = [], []
    for name, frame in frames.items():
        y = frame["response"].to_numpy(dtype=int)
        ours = roc_auc(y, frame["icb_response"])
        theirs = roc_auc(y, frame["TIDE"])
        diff = delong_test(y, frame["icb_response"], frame["TIDE"], names=("icb_response", "TIDE"))
        differences.append(diff)
        rows.append(
            {
                "cohort": name,
                "icb_response": f"{ours.estimate:.3f} ({ours.ci_low:.2f}–{ours.ci_high:.2f})",
                "TIDE": f"{theirs.estimate:.3f} ({theirs.ci_low:.2f}–{theirs.ci_high:.2f})",
                "difference": f"{diff.estimate:+.3f} ({diff.ci_low:+.2f} to {diff.ci_high:+.2f})",
                "p (DeLong)": f"{diff.p_value:.2f}",
            }
        )
    pooled = pool_random_effects(differences, labels=list(frames), scale="identity").pooled
    assert pooled.ci_low is not None
    assert pooled.ci_high is not None
    z = pooled.estimate / ((pooled.ci_high - pooled.ci_low) / (2.0 * norm.ppf(0.975)))
    summary = (
        f"pooled difference icb_response − TIDE (random effects): {pooled.estimate:+.3f} "
        f"(95% CI {pooled.ci_low:+.2f} to {pooled.ci_high:+.2f}), p = {2.0 * norm.sf(abs(z)):.2f}"
    )
    return pd.DataFrame(rows).set_index("cohort"), summary


def pooled_aucs(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Random-effects pooled AUC of each predictor across the cohorts (logit scale)."""
    evaluation = evaluate_predictors_across_cohorts(frames, [*COLUMNS, "TIDE"])
    rows = []
    for column in (*COLUMNS, "TIDE"):
        pooled = evaluation.pooled(column)
        if pooled is None:
            continue
        p = pooled.pooled
        rows.append(
            {
                "predictor": column,
                "pooled AUC (95% CI)": f"{p.estimate:.3f} ({p.ci_low:.2f}–{p.ci_high:.2f})",
                "I²": f"{pooled.i2:.0%}",
                "cohorts": len(pooled.studies),
            }
        )
    return pd.DataFrame(rows).set_index("predictor")


def bootstrap_wins(
    frames: dict[str, pd.DataFrame], *, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cohorts in which icb_response beats TIDE, per bootstrap replicate, and P(win) per cohort.

    Patients are resampled with replacement within each cohort, responders and non-responders
    separately (so every replicate keeps the cohort's n and responder count).
    """
    rng = np.random.default_rng(seed)
    wins = np.zeros((n_boot, len(frames)), dtype=bool)
    for j, frame in enumerate(frames.values()):
        responder = frame["response"].to_numpy(dtype=bool)
        ours = frame["icb_response"].to_numpy(dtype=float)
        theirs = frame["TIDE"].to_numpy(dtype=float)
        r_idx, n_idx = np.flatnonzero(responder), np.flatnonzero(~responder)
        for b in range(n_boot):
            pick = np.concatenate([rng.choice(r_idx, r_idx.size), rng.choice(n_idx, n_idx.size)])
            y = responder[pick]
            wins[b, j] = mann_whitney_auc(ours[pick], y) > mann_whitney_auc(theirs[pick], y)
    return wins.sum(axis=1), wins.mean(axis=0)


def held_out_selection(
    frames: dict[str, pd.DataFrame], tide_auc: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each candidate rule's AUC per cohort, and the leave-one-cohort-out choice among them.

    Returns the cohort × rule AUC table and, per held-out cohort, the rule picked on the other
    seven (best mean AUC there), its AUC on the held-out cohort and TIDE's (``tide_auc``, by
    cohort, as :func:`auc_table` gives it).
    """
    aucs = pd.DataFrame(
        {
            rule: {
                name: mann_whitney_auc(
                    np.asarray(f(frame), dtype=float), frame["response"].to_numpy(dtype=bool)
                )
                for name, frame in frames.items()
            }
            for rule, f in CANDIDATE_RULES.items()
        }
    )
    rows = []
    for name in frames:
        chosen = str(aucs.drop(index=name).mean().idxmax())
        rows.append(
            {
                "held out": name,
                "rule chosen on the other seven": chosen,
                "AUC": aucs.loc[name, chosen],
                "TIDE": tide_auc[name],
            }
        )
    return aucs, pd.DataFrame(rows).set_index("held out")


def main(root: Path = DEFAULT, *, seed: int = 20261121, n_boot: int = 2000) -> None:
    """Print the AUC tables, the comparison with TIDE, its uncertainty and the held-out choice."""
    if not root.is_dir():
        sys.exit(f"ICB cohorts not found at {root}")
    frames = read_cohorts(root)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, "
        f"immunoprecise {ip.__version__}; cohorts: {root}; seed {seed}, {n_boot} bootstraps"
    )
    table = auc_table(frames)
    numeric = table.drop(columns="n (R)").astype(float)
    print(table.to_string(float_format=_three))
    print("mean AUC: " + ", ".join(f"{c} {v:.3f}" for c, v in numeric.mean().items()))
    mean = numeric["icb_response"].mean()
    print(f"icb_response mean AUC {mean:.3f} (target >= 0.65)")
    if not numeric["TIDE"].notna().all():
        print("TIDE not run (install tidepy: make bench)")
        return
    wins = int((numeric["icb_response"] > numeric["TIDE"]).sum())
    print(f"icb_response above TIDE in {wins} of {len(numeric)} cohorts (target >= 6)\n")

    print("icb_response vs TIDE, AUC (DeLong 95% CI) and paired DeLong test:")
    paired, pooled_difference = paired_with_tide(frames)
    print(paired.to_string())
    print(pooled_difference)
    print("\nrandom-effects pooled AUC across the cohorts:")
    print(pooled_aucs(frames).to_string())

    boot_wins, p_win = bootstrap_wins(frames, n_boot=n_boot, seed=seed)
    print(
        f"\nbootstrap ({n_boot} replicates, seed {seed}): icb_response above TIDE in "
        f"median {np.median(boot_wins):.0f} cohorts (5th–95th percentile "
        f"{np.percentile(boot_wins, 5):.0f}–{np.percentile(boot_wins, 95):.0f}); "
        f"P(>= 6 of {len(frames)}) = {np.mean(boot_wins >= 6):.2f}"
    )
    print(
        "P(icb_response above TIDE) per cohort: "
        + ", ".join(f"{name.split('_')[0]} {p:.2f}" for name, p in zip(frames, p_win, strict=True))
    )

    aucs, held_out = held_out_selection(frames, numeric["TIDE"])
    print("\ncandidate rules, mean AUC over the eight and cohorts above TIDE:")
    for rule in aucs.columns:
        above = int((aucs[rule] > numeric["TIDE"].reindex(aucs.index)).sum())
        print(f"  {rule}: {aucs[rule].mean():.3f}; {above}")
    print("leave-one-cohort-out choice of the rule:")
    print(held_out.to_string(float_format=_three))
    print(
        f"held-out mean AUC {held_out['AUC'].mean():.3f}; above TIDE in "
        f"{int((held_out['AUC'] > held_out['TIDE']).sum())} of {len(held_out)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap replicates")
    args = parser.parse_args()
    main(args.root, seed=args.seed, n_boot=args.boot)
