"""Tumor values: mutational load, mismatch repair, PD-L1, MHC class I, drivers and antigens."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from immunoprecise.knowledge import ActionableDriver
from immunoprecise.profile.values import Array, Computed, Metric, ValueBuilder, labelled

__all__ = ["MHC_CLASS_I_CATEGORY", "tumor_values"]

_MSI_METHOD = "MSI-H (PCR/NGS) and dMMR (IHC) are read as equivalent; either one suffices"
#: The category of ``mhc_class_i`` for each value the record allows (the labels rules compare).
MHC_CLASS_I_CATEGORY = {
    "normal": "presentation intact",
    "reduced": "partial MHC-I loss",
    "lost": "MHC-I loss",
}


def _msi(build: ValueBuilder, only_if_assessed: bool) -> Computed:
    msi, mmr = build.cols.text("tumor.msi_status"), build.cols.text("tumor.mmr_status")
    high = (msi == "MSI-H") | (mmr == "dMMR")
    value = msi.copy()
    value[(msi == None) & (mmr == "pMMR")] = "MSS"  # noqa: E711 (element-wise)
    value[high] = "MSI-H"
    discordant = ((msi == "MSI-H") & (mmr == "pMMR")) | ((msi == "MSS") & (mmr == "dMMR"))
    note = labelled(
        discordant,
        "MSI and MMR results disagree; read as MSI-H/dMMR — confirm with a second assay",
    )
    metric = Metric(
        "msi_status",
        "Microsatellite / mismatch-repair status",
        _MSI_METHOD,
        kind="text",
        references=("le2017",),
        inputs=("tumor.msi_status", "tumor.mmr_status"),
        only_if_assessed=only_if_assessed,
    )
    return build.computed(metric, value, note=note)


def _matcher(build: ValueBuilder) -> Callable[[str, str], tuple[ActionableDriver, ...]]:
    """The knowledge base's actionable drivers an alteration matches (memoized: a table
    repeats the same few alterations)."""
    memo: dict[tuple[str, str], tuple[ActionableDriver, ...]] = {}

    def matches(gene: str, alteration: str) -> tuple[ActionableDriver, ...]:
        key = (gene, alteration)
        if key not in memo:
            memo[key] = tuple(d for d in build.kb.drivers if d.matches(gene, alteration))
        return memo[key]

    return matches


def _drivers(build: ValueBuilder) -> list[Computed]:
    rows = build.cols.text("tumor.driver_mutations")
    by_gene: dict[str, dict[int, list[str]]] = {}
    for i, mutations in enumerate(rows):
        for gene, alteration in mutations or ():
            by_gene.setdefault(gene, {}).setdefault(i, []).append(alteration)
    match = _matcher(build)
    out = []
    for gene, patients in by_gene.items():
        value = np.full(len(rows), None, dtype=object)
        category = np.full(len(rows), None, dtype=object)
        refs: dict[str, None] = {}
        relevance: dict[str, None] = {}
        for i, alterations in patients.items():
            value[i] = "; ".join(alterations)
            hits = [d for a in alterations for d in match(gene, a)]
            if hits:
                category[i] = ", ".join(dict.fromkeys(d.label for d in hits))
                refs.update(dict.fromkeys(r for d in hits for r in d.references))
                relevance.update(dict.fromkeys(d.relevance for d in hits))
        metric = Metric(
            f"driver.{gene}",
            f"{gene} alteration",
            "as reported by the assay; matched against the knowledge base's actionable drivers",
            kind="text",
            references=tuple(refs),
            inputs=("tumor.driver_mutations",),
            interpretation=" ".join(relevance) or None,
            only_if_assessed=True,
        )
        out.append(build.computed(metric, value, category=category))
    return out


def _immune_escape(build: ValueBuilder) -> Computed:
    rows = build.cols.text("tumor.driver_mutations")
    escape = [d for d in build.kb.drivers if d.immune_escape]
    value = np.full(len(rows), None, dtype=object)
    match = _matcher(build)
    for i, mutations in enumerate(rows):
        labels = [d.label for g, a in mutations or () for d in match(g, a) if d in escape]
        if labels:
            value[i] = ", ".join(dict.fromkeys(labels))
    metric = Metric(
        "immune_escape",
        "Immune-escape alteration (IFN-γ signalling or antigen presentation)",
        "loss-of-function JAK1/JAK2 (interferon-γ insensitivity) or B2M (no MHC class I) among "
        "the reported alterations",
        kind="text",
        references=tuple(dict.fromkeys(r for d in escape for r in d.references)),
        inputs=("tumor.driver_mutations",),
        interpretation="Found in primary and acquired resistance to PD-1 blockade.",
        only_if_assessed=True,
    )
    category = labelled(np.asarray(value != None, dtype=bool), "impaired")  # noqa: E711
    return build.computed(metric, value, category=category)


def _antigens(build: ValueBuilder) -> list[Computed]:
    rows = build.cols.text("tumor.antigens")
    kinds: dict[str, str] = {}
    values: dict[str, Array] = {}
    for i, antigens in enumerate(rows):
        for name, kind, status in antigens or ():
            key = name.upper()
            if key not in kinds:
                kinds[key] = f"{name} ({kind})"
                values[key] = np.full(len(rows), None, dtype=object)
            if values[key][i] is None:  # the first entry of an antigen counts
                values[key][i] = status
    out = []
    for key, label in kinds.items():
        value = values[key]
        metric = Metric(
            f"antigen.{key}",
            label,
            "as reported (IHC or flow cytometry)",
            kind="text",
            inputs=("tumor.antigens",),
            only_if_assessed=True,
        )
        out.append(build.computed(metric, value))
    return out


def tumor_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """TMB, MSI, PD-L1 TPS and CPS (categorized by the disease's thresholds), MHC class I,
    drivers with their actionable category, immune-escape alterations and antigens.

    TMB, MSI and PD-L1 guide solid-tumour immunotherapy; for haematological malignancies they are
    reported only when measured.
    """
    heme = not build.solid
    out = [
        build.recorded(
            Metric(
                "tmb",
                "Tumor mutational burden",
                "as measured by the sequencing assay",
                unit="mut/Mb",
                inputs=("tumor.tmb",),
                only_if_assessed=heme,
            )
        ),
        _msi(build, heme),
        build.recorded(
            Metric(
                "pdl1_tps",
                "PD-L1 tumor proportion score",
                "IHC, as reported",
                unit="%",
                inputs=("tumor.pdl1_tps",),
                only_if_assessed=heme,
            )
        ),
        build.recorded(
            Metric(
                "pdl1_cps",
                "PD-L1 combined positive score",
                "IHC, as reported: PD-L1+ tumour cells, lymphocytes and macrophages per 100 "
                "tumour cells (capped at 100)",
                unit="score",
                inputs=("tumor.pdl1_cps",),
                only_if_assessed=True,
            )
        ),
    ]
    mhc = build.cols.text("tumor.mhc_class_i")
    category: Array = np.array(
        [MHC_CLASS_I_CATEGORY.get(v) if v else None for v in mhc], dtype=object
    )
    out.append(
        build.computed(
            Metric(
                "mhc_class_i",
                "MHC class I expression (antigen presentation)",
                "IHC, as reported",
                kind="text",
                references=("sadefeldman2017",),
                inputs=("tumor.mhc_class_i",),
                interpretation="Loss of MHC class I (or of B2M) hides the tumour from CD8+ T "
                "cells and TCR-T cells; NK cells still recognize it.",
            ),
            mhc,
            category=category,
        )
    )
    return [*out, *_drivers(build), _immune_escape(build), *_antigens(build)]
