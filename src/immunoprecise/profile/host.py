"""Host values: systemic inflammation, lymphopenia, NLR, LDH and autoimmunity."""

from __future__ import annotations

import functools

from immunoprecise.profile.values import ProfileValue, ValueBuilder
from immunoprecise.records import PatientRecord

__all__ = ["host_values"]

# Modified Glasgow Prognostic Score (McMillan, Cancer Treat Rev 2013;39:534): CRP > 10 mg/L and
# albumin < 35 g/L; the cut-offs are the knowledge-base thresholds crp_mgps and albumin_mgps.
_MGPS_FORMULA = (
    "0: CRP ≤ 10 mg/L; 1: CRP > 10 mg/L and albumin ≥ 35 g/L; 2: CRP > 10 and albumin < 35"
)


def _mgps(record: PatientRecord, build: ValueBuilder) -> ProfileValue:
    host = record.host
    unknown = functools.partial(
        build.not_assessable,
        "mgps",
        "Modified Glasgow Prognostic Score",
        method="mGPS from CRP and albumin",
        formula=_MGPS_FORMULA,
        inputs=["host.crp", "host.albumin"],
        references=["mcmillan2013"],
    )
    if host.crp is None:
        return unknown(missing=["host.crp"])
    crp_t, alb_t = build.required_threshold("crp"), build.required_threshold("albumin")
    if crp_t.categorize(host.crp.value) != crp_t.labels[1]:
        score = 0
    elif host.albumin is None:
        return unknown(missing=["host.albumin"])
    else:
        score = 2 if alb_t.categorize(host.albumin.value) == alb_t.labels[0] else 1
    meaning = {
        0: "no systemic inflammation",
        1: "systemic inflammation",
        2: "systemic inflammation with hypoalbuminaemia",
    }
    return build.assessed(
        "mgps",
        "Modified Glasgow Prognostic Score",
        score,
        method="mGPS from CRP and albumin",
        formula=_MGPS_FORMULA,
        inputs=["host.crp", "host.albumin"],
        references=["mcmillan2013"],
        category=f"mGPS {score}",
        interpretation=meaning[score] + "; higher scores mark poorer "
        "prognosis across cancers (McMillan 2013)",
    )


def host_values(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    """CRP, albumin, mGPS, lymphocyte count (CTCAE grade), NLR, LDH vs ULN, autoimmunity."""
    host, blood = record.host, record.host.blood
    out: list[ProfileValue] = []
    for key, label, q, unit in (
        ("crp", "C-reactive protein", host.crp, "mg/L"),
        ("albumin", "Albumin", host.albumin, "g/L"),
        ("lymphocytes", "Absolute lymphocyte count", blood.lymphocytes, "cells/µL"),
    ):
        field = f"host.blood.{key}" if key == "lymphocytes" else f"host.{key}"
        out.append(
            build.recorded(
                key,
                label,
                q.value if q else None,
                field=field,
                method="laboratory, as measured",
                unit=unit,
            )
        )
    out.append(_mgps(record, build))

    out.append(
        build.ratio(
            "nlr",
            "Neutrophil-to-lymphocyte ratio",
            blood.neutrophils.value if blood.neutrophils else None,
            blood.lymphocytes.value if blood.lymphocytes else None,
            fields=("host.blood.neutrophils", "host.blood.lymphocytes"),
            method="neutrophil-to-lymphocyte ratio from absolute counts",
            formula="ANC / ALC",
            zero_note="lymphocyte count is 0: the ratio is undefined",
            digits=3,
            references=["templeton2014"],
            interpretation="a high NLR is associated with shorter overall survival in solid "
            "tumours (meta-analysis, Templeton 2014); no single cut-off is established",
        )
    )

    if host.ldh is not None and host.ldh_uln is not None:
        out.append(
            build.assessed(
                "ldh_above_uln",
                "LDH above upper limit of normal",
                host.ldh.value > host.ldh_uln.value,
                method="LDH compared with the assay's ULN",
                formula="LDH > ULN",
                inputs=["host.ldh", "host.ldh_uln"],
                references=["solalceligny2004"],
            )
        )
    else:
        out.append(
            build.not_assessable(
                "ldh_above_uln",
                "LDH above upper limit of normal",
                method="LDH compared with the assay's ULN",
                formula="LDH > ULN",
                inputs=["host.ldh", "host.ldh_uln"],
                missing=[
                    f
                    for f, q in (("host.ldh", host.ldh), ("host.ldh_uln", host.ldh_uln))
                    if q is None
                ],
                references=["solalceligny2004"],
            )
        )
    out.append(
        build.assessed(
            "autoimmune_disease",
            "Autoimmune disease",
            bool(record.patient.autoimmune_diseases),
            method="any recorded active or past autoimmune disease",
            inputs=["patient.autoimmune_diseases"],
        )
    )
    return out
