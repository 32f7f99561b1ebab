"""Host values: inflammation, lymphopenia, NLR, LDH, immunosenescence, effector counts, Tregs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from immunoprecise.profile.values import Computed, Metric, ValueBuilder, labelled

__all__ = ["MGPS_CATEGORY", "host_values"]

# Modified Glasgow Prognostic Score (McMillan, Cancer Treat Rev 2013;39:534): CRP > 10 mg/L and
# albumin < 35 g/L; the cut-offs are the knowledge-base thresholds crp_mgps and albumin_mgps.
_MGPS_FORMULA = (
    "0: CRP ≤ 10 mg/L; 1: CRP > 10 mg/L and albumin ≥ 35 g/L; 2: CRP > 10 and albumin < 35"
)
#: The category of each modified Glasgow Prognostic Score (the scores 0–2 and the labels rules
#: compare).
MGPS_CATEGORY = {0: "mGPS 0", 1: "mGPS 1", 2: "mGPS 2"}
_LAB = "laboratory, as measured"
_FLOW = "flow cytometry, absolute count"
_COUNTS = (
    ("cd8", "CD8+ T cells", ("host.flow.cd8",)),
    ("nk", "NK cells (CD56bright + CD56dim)", ("host.flow.nk_cd56bright", "host.flow.nk_cd56dim")),
    ("gamma_delta", "γδ T cells (Vγ9Vδ2)", ("host.flow.gamma_delta_vg9vd2",)),
    ("nkt", "NKT cells (CD3+CD56+)", ("host.flow.nkt",)),
)


def _mgps(build: ValueBuilder) -> Computed:
    crp, albumin = build.cols.number("host.crp"), build.cols.number("host.albumin")
    crp_t, alb_t = build.required_threshold("crp"), build.required_threshold("albumin")
    inflamed = crp > crp_t.cutoffs[0]
    low_albumin = albumin < alb_t.cutoffs[0]
    score = np.where(inflamed, np.where(low_albumin, 2.0, 1.0), 0.0)
    score[np.isnan(crp) | (inflamed & np.isnan(albumin))] = np.nan
    # albumin is needed only when CRP is high
    missing = build.missing(
        score, lambda i: ("host.crp",) if np.isnan(crp[i]) else ("host.albumin",)
    )
    meaning = np.array(
        [
            "no systemic inflammation",
            "systemic inflammation",
            "systemic inflammation with hypoalbuminaemia",
        ],
        dtype=object,
    )
    category = np.array(
        [None if np.isnan(s) else MGPS_CATEGORY[int(s)] for s in score], dtype=object
    )
    note = np.array([None if np.isnan(s) else meaning[int(s)] for s in score], dtype=object)
    metric = Metric(
        "mgps",
        "Modified Glasgow Prognostic Score",
        "mGPS from CRP and albumin",
        kind="int",
        formula=_MGPS_FORMULA,
        references=("mcmillan2013",),
        inputs=("host.crp", "host.albumin"),
        interpretation="higher scores mark poorer prognosis across cancers (McMillan 2013)",
    )
    return build.computed(metric, score, category=category, note=note, missing=missing)


def _ldh(build: ValueBuilder) -> list[Computed]:
    ldh, uln = build.cols.number("host.ldh"), build.cols.number("host.ldh_uln")
    inputs = ("host.ldh", "host.ldh_uln")
    with np.errstate(invalid="ignore"):
        above = np.where(np.isnan(ldh) | np.isnan(uln), np.nan, (ldh > uln).astype(float))
    ratio = build.ratio(
        Metric(
            "ldh_ratio",
            "LDH relative to the upper limit of normal",
            "LDH divided by the assay's upper limit of normal",
            unit="× ULN",
            formula="LDH / ULN",
            inputs=inputs,
        ),
        ldh,
        uln,
        zero_note="ULN is 0",
        digits=3,
    )
    flag = build.computed(
        Metric(
            "ldh_above_uln",
            "LDH above upper limit of normal",
            "LDH compared with the assay's ULN",
            kind="bool",
            formula="LDH > ULN",
            references=("solalceligny2004",),
            inputs=inputs,
        ),
        above,
    )
    return [ratio, flag]


def _flow(build: ValueBuilder) -> list[Computed]:
    out = []
    for key, label, fields in _COUNTS:
        parts = [build.cols.number(f) for f in fields]
        value = np.sum(parts, axis=0)
        # a subset recorded without the other is shown as not assessable, never hidden
        partial = np.isnan(value) & ~np.all([np.isnan(p) for p in parts], axis=0)
        note = labelled(
            partial, f"{label}: every subset is needed ({', '.join(fields)}); one is not recorded"
        )
        metric = Metric(
            f"effector_count.{key}",
            f"Blood {label}",
            _FLOW + ("; the two NK subsets summed" if len(fields) > 1 else ""),
            unit="cells/µL",
            inputs=fields,
            only_if_assessed=True,
        )
        out.append(build.computed(metric, value, note=note))
    out.append(
        build.recorded(
            Metric(
                "treg_count",
                "Blood regulatory T cells",
                _FLOW,
                unit="cells/µL",
                inputs=("host.flow.treg",),
                only_if_assessed=True,
            )
        )
    )
    treg, cd4, cd8 = (build.cols.number(f"host.flow.{s}") for s in ("treg", "cd4", "cd8"))
    fraction = build.ratio(
        Metric(
            "treg_fraction",
            "Treg fraction of CD4+ T cells",
            "regulatory T cells as a percentage of CD4+ T cells (flow cytometry)",
            unit="% of CD4+",
            formula="100 × Treg / CD4",
            inputs=("host.flow.treg", "host.flow.cd4"),
            only_if_assessed=True,
        ),
        100 * treg,
        cd4,
        zero_note="CD4 count is 0",
        digits=2,
    )
    cd4_cd8 = build.ratio(
        Metric(
            "cd4_cd8_ratio",
            "CD4/CD8 ratio (immunosenescence)",
            "blood CD4+ / CD8+ T-cell counts (flow cytometry); < 1 is the immune risk profile",
            unit="ratio",
            formula="CD4 / CD8",
            inputs=("host.flow.cd4", "host.flow.cd8"),
            only_if_assessed=True,
        ),
        cd4,
        cd8,
        zero_note="CD8 count is 0",
        digits=3,
    )
    return [*out, fraction, cd4_cd8]


def host_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """CRP, albumin, IL-6, mGPS, lymphocyte count (CTCAE grade), NLR, LDH, autoimmunity,
    blood effector counts, Treg fraction and the CD4/CD8 ratio."""
    out = [
        build.recorded(Metric(key, label, _LAB, unit=unit, inputs=(field,)))
        for key, label, field, unit in (
            ("crp", "C-reactive protein", "host.crp", "mg/L"),
            ("albumin", "Albumin", "host.albumin", "g/L"),
            ("il6", "Interleukin-6", "host.il6", "pg/mL"),
            ("lymphocytes", "Absolute lymphocyte count", "host.blood.lymphocytes", "cells/µL"),
        )
    ]
    out.append(_mgps(build))
    out.append(
        build.ratio(
            Metric(
                "nlr",
                "Neutrophil-to-lymphocyte ratio",
                "neutrophil-to-lymphocyte ratio from absolute counts",
                unit="ratio",
                formula="ANC / ALC",
                references=("templeton2014",),
                inputs=("host.blood.neutrophils", "host.blood.lymphocytes"),
                interpretation="a high NLR is associated with shorter overall survival in solid "
                "tumours (meta-analysis, Templeton 2014); no single cut-off is established",
            ),
            build.cols.number("host.blood.neutrophils"),
            build.cols.number("host.blood.lymphocytes"),
            zero_note="lymphocyte count is 0: the ratio is undefined",
            digits=3,
        )
    )
    out += _ldh(build)
    out.append(
        build.recorded(
            Metric(
                "autoimmune_disease",
                "Autoimmune disease",
                "any recorded active or past autoimmune disease",
                kind="bool",
                inputs=("patient.autoimmune_diseases",),
            )
        )
    )
    return out + _flow(build)
