"""Synthetic patient tables for tests and benchmarks — random, not real patients.

:func:`synthetic_table` draws a table in the layout of :func:`immunoprecise.records.read_table`
covering every input of the immune profile across solid and haematological diseases, with
values missing at random (so the not-assessable paths are exercised) and edge cases included
(zero FOXP3 densities, discordant MSI/MMR results, immune-escape mutations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["synthetic_table"]

_DISEASES = (
    "SKCM",
    "COAD",
    "READ",
    "LUAD",
    "LUSC",
    "HNSC",
    "STAD",
    "BRCA",
    "HCC",
    "RCC",
    "UCEC",
    "PRAD",
    "UM",
    "SYNS",
    "GB",
    "NBL",
    "FL",
    "DLBCLNOS",
    "CLLSLL",
    "PCM",
    "BLL",
    "AML",
)
_DRIVERS = (
    "BRAF V600E",
    "EGFR L858R",
    "ALK EML4-ALK fusion",
    "KRAS G12C",
    "KRAS G12D",
    "JAK1 Q503*",
    "B2M loss",
    "TP53 R273H",
    "STK11 Q37*",
)
_ANTIGENS = (
    "CD19:lineage:positive",
    "CD20:lineage:dim",
    "BCMA:lineage:positive",
    "NY-ESO-1:TAA:negative",
    "MAGE-A4:TAA:positive",
    "CD19:lineage:negative",
    "CD20:lineage:positive",
    "CD123:lineage:positive",
    "GPRC5D:lineage:positive",
    "BCMA:lineage:negative",
)
_PRIOR = (
    "chemotherapy:PR",
    "anti-PD-1:SD",
    "R-CHOP:CR",
    "bortezomib-lenalidomide-dexamethasone:VGPR",
    "high-dose melphalan + ASCT:CR",
    "daratumumab:PR",
)
_HLA = ("A*02:01", "A*02:06", "A*01:01", "A*03:01", "B*07:02", "B*08:01", "C*07:01")


def synthetic_table(n: int, *, seed: int, missing: float = 0.2) -> pd.DataFrame:
    """Draw ``n`` synthetic patients.

    Parameters
    ----------
    n
        Number of rows.
    seed
        Seed of the random generator (the same seed gives the same table).
    missing
        Probability that any measured value is missing.

    Returns
    -------
    pandas.DataFrame
        Text cells (as a CSV would give), units in the column names.

    Examples
    --------
    >>> frame = synthetic_table(5, seed=1)
    >>> frame.shape[0], frame["patient_id"].iloc[0]
    (5, 'SYN-000001')
    """
    rng = np.random.default_rng(seed)

    def maybe(values: np.ndarray, fmt: str = "{:.4g}") -> list[str]:
        gone = rng.random(n) < missing
        return ["" if g else fmt.format(v) for v, g in zip(values, gone, strict=True)]

    def lognormal(median: float, sd: float = 1.0) -> np.ndarray:
        # capped at 20× the median so every value stays within its field's plausible range
        return np.round(np.minimum(median * np.exp(sd * rng.standard_normal(n)), 20 * median), 1)

    def choice(options: tuple[str, ...], p_missing: float = missing) -> list[str]:
        picks = rng.choice(options, n)
        return ["" if rng.random() < p_missing else str(x) for x in picks]

    def listed(options: tuple[str, ...], most: int) -> list[str]:
        out = []
        for _ in range(n):
            k = int(rng.integers(0, most + 1))
            out.append("; ".join(rng.choice(options, k, replace=False)))
        return out

    foxp3_core = lognormal(40)
    foxp3_core[rng.random(n) < 0.02] = 0.0
    frame = {
        "patient_id": [f"SYN-{i + 1:06d}" for i in range(n)],
        "age_years": maybe(rng.integers(25, 90, n).astype(float), "{:.0f}"),
        "ecog": maybe(rng.integers(0, 4, n).astype(float), "{:.0f}"),
        "diagnosis": ["synthetic"] * n,
        "oncotree_code": list(rng.choice(_DISEASES, n)),
        "disease_status": choice(
            ("newly_diagnosed", "relapsed", "refractory", "relapsed_refractory", "remission")
        ),
        "prior_therapies": listed(_PRIOR, 4),
        "hla_type": listed(_HLA, 2),
        "autoimmune_diseases": ["psoriasis" if x < 0.05 else "" for x in rng.random(n)],
        "tmb_mut_per_Mb": maybe(lognormal(6, 1.2)),
        "msi_status": choice(("MSI-H", "MSS", "MSS", "MSS", "MSI-L")),
        "mmr_status": choice(("dMMR", "pMMR", "pMMR"), 0.6),
        "pdl1_tps_percent": maybe(np.round(rng.uniform(0, 100, n))),
        "pdl1_cps": maybe(np.round(rng.uniform(0, 100, n))),
        "mhc_class_i": choice(("normal", "normal", "reduced", "lost")),
        "driver_mutations": listed(_DRIVERS, 2),
        "antigens": listed(_ANTIGENS, 2),
        "burden_date": ["2026-01-15"] * n,
        "burden_sum_of_diameters_mm": maybe(np.round(rng.uniform(10, 200, n)), "{:.0f}"),
        "burden_spd_mm2": maybe(np.round(rng.uniform(100, 6000, n)), "{:.0f}"),
        "burden_marrow_blasts_percent": maybe(np.round(rng.uniform(0, 90, n)), "{:.0f}"),
    }
    for marker, median in (("cd3", 400.0), ("cd8", 150.0)):
        for region, scale in (("tumor_core", 1.0), ("invasive_margin", 3.0)):
            frame[f"ihc_{marker}_{region}_cells_per_mm2"] = maybe(lognormal(median * scale))
    frame["ihc_foxp3_tumor_core_cells_per_mm2"] = maybe(foxp3_core)
    frame["ihc_cd8_interfollicular_cells_per_mm2"] = maybe(lognormal(100))
    frame["ihc_foxp3_interfollicular_cells_per_mm2"] = maybe(lognormal(90))
    host = {
        "crp_mg_per_L": lognormal(6, 1.2),
        "albumin_g_per_L": np.round(rng.uniform(22, 50, n), 1),
        "il6_pg_per_mL": lognormal(5, 0.8),
        "lymphocytes_cells_per_uL": lognormal(1100, 0.6),
        "neutrophils_cells_per_uL": lognormal(4200, 0.5),
        "ldh_U_per_L": lognormal(230, 0.5),
        "ldh_uln_U_per_L": np.full(n, 250.0),
        "flow_cd4_cells_per_uL": lognormal(600, 0.5),
        "flow_cd8_cells_per_uL": lognormal(350, 0.6),
        "flow_treg_cells_per_uL": lognormal(40, 0.5),
        "flow_nk_cd56bright_cells_per_uL": lognormal(15, 0.5),
        "flow_nk_cd56dim_cells_per_uL": lognormal(180, 0.5),
        "flow_gamma_delta_vg9vd2_cells_per_uL": lognormal(45, 0.7),
        "flow_nkt_cells_per_uL": lognormal(30, 0.7),
    }
    for column, values in host.items():
        frame[column] = maybe(values)
    measures = [c for c in frame if c.startswith("burden_") and c != "burden_date"]
    frame["burden_date"] = [
        date if any(frame[c][i] for c in measures) else ""
        for i, date in enumerate(frame["burden_date"])
    ]
    return pd.DataFrame(frame)
