"""Immune phenotype — inflamed / immune-excluded / immune-desert (hot / altered / cold).

From the CD8+ density in the tumour core and at the invasive margin, with the cut-offs as
knowledge-base thresholds (``density.CD8.tumor_core``, ``density.CD8.invasive_margin``): a high
core density is inflamed; a low core with a high margin is excluded; both low is a desert
(Chen & Mellman, Nature 2017; hot/altered/cold after Galon & Bruni, Nat Rev Drug Discov 2019).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from immunoprecise.profile.values import Computed, Metric, ValueBuilder
from immunoprecise.records.columns import density_key

__all__ = ["PHENOTYPE_CATEGORY", "phenotype_values"]

PHENOTYPE_CATEGORY = {
    "inflamed": "hot",
    "immune-excluded": "altered (excluded)",
    "immune-desert": "cold",
}


def phenotype_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """The immune phenotype, where the knowledge base has the two cut-offs for the disease."""
    core_t = build.threshold("density.CD8.tumor_core")
    margin_t = build.threshold("density.CD8.invasive_margin")
    if core_t is None or margin_t is None:
        return []
    core_f, margin_f = density_key("CD8", "tumor_core"), density_key("CD8", "invasive_margin")
    core, margin = build.cols.number(core_f), build.cols.number(margin_f)
    core_high = core >= core_t.cutoffs[0]
    margin_high = margin >= margin_t.cutoffs[0]
    value = np.where(
        core_high,
        "inflamed",
        np.where(margin_high, "immune-excluded", "immune-desert"),
    ).astype(object)
    unknown = np.isnan(core) | (~core_high & np.isnan(margin))
    value[unknown] = None
    missing = build.missing(
        value,
        lambda i: tuple(f for f, v in ((core_f, core[i]), (margin_f, margin[i])) if np.isnan(v)),
    )
    category = np.array([PHENOTYPE_CATEGORY.get(v) if v else None for v in value], dtype=object)
    metric = Metric(
        "immune_phenotype",
        "Immune phenotype",
        f"CD8+ density in the tumour core ≥ {core_t.cutoffs[0]:g} cells/mm²: inflamed; below it, "
        f"at the invasive margin ≥ {margin_t.cutoffs[0]:g} cells/mm²: immune-excluded; "
        "otherwise immune-desert",
        kind="text",
        references=tuple(dict.fromkeys((*core_t.references, *margin_t.references, "galon2019"))),
        inputs=(core_f, margin_f),
        interpretation="Inflamed (hot) tumours respond best to checkpoint inhibitors; excluded "
        "and desert (altered, cold) tumours may need T-cell recruitment or priming first.",
    )
    return [build.computed(metric, value, category=category, missing=missing)]
