"""Tumor values: mutational load, mismatch repair, PD-L1, MHC class I, drivers and antigens."""

from __future__ import annotations

from immunoprecise.profile.values import ProfileValue, ValueBuilder
from immunoprecise.records import MMRStatus, MSIStatus, PatientRecord

__all__ = ["tumor_values"]


def _msi(record: PatientRecord, build: ValueBuilder) -> ProfileValue:
    msi, mmr = record.tumor.msi_status, record.tumor.mmr_status
    method = "MSI-H (PCR/NGS) and dMMR (IHC) are read as equivalent; either one suffices"
    inputs = ["tumor.msi_status", "tumor.mmr_status"]
    if msi is None and mmr is None:
        return build.not_assessable(
            "msi_status",
            "Microsatellite / mismatch-repair status",
            method=method,
            missing=inputs,
            references=["le2017"],
        )
    if msi is MSIStatus.MSI_H or mmr is MMRStatus.dMMR:
        value = "MSI-H"
    elif msi is not None:
        value = msi.value
    else:
        value = "MSS"  # pMMR by IHC
    note = None
    if (msi is MSIStatus.MSI_H and mmr is MMRStatus.pMMR) or (
        msi is MSIStatus.MSS and mmr is MMRStatus.dMMR
    ):
        note = "MSI and MMR results disagree; read as MSI-H/dMMR — confirm with a second assay"
    result = build.assessed(
        "msi_status",
        "Microsatellite / mismatch-repair status",
        value,
        method=method,
        inputs=inputs,
        references=["le2017"],
    )
    return result.model_copy(update={"note": note}) if note else result


def tumor_values(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    """TMB with its category, MSI status, PD-L1 TPS, MHC class I, drivers and antigens."""
    out: list[ProfileValue] = []
    # TMB, MSI and PD-L1 guide solid-tumour immunotherapy; for haematological malignancies they
    # are reported only when measured.
    solid = "HEME" not in build.kb.lineage(build.disease_code)
    markers = _solid_markers(record, build)
    out += markers if solid else [v for v in markers if v.status == "assessed"]
    out += _presentation_and_targets(record, build)
    return out


def _solid_markers(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    tumor = record.tumor
    out: list[ProfileValue] = []
    out.append(
        build.recorded(
            "tmb",
            "Tumor mutational burden",
            tumor.tmb.value if tumor.tmb else None,
            field="tumor.tmb",
            method="as measured by the sequencing assay",
            unit="mut/Mb",
        )
    )
    out.append(_msi(record, build))
    out.append(
        build.recorded(
            "pdl1_tps",
            "PD-L1 tumor proportion score",
            tumor.pdl1_tps.value if tumor.pdl1_tps else None,
            field="tumor.pdl1_tps",
            method="IHC, as reported",
            unit="%",
        )
    )
    return out


def _presentation_and_targets(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    tumor = record.tumor
    out: list[ProfileValue] = []
    mhc = tumor.mhc_class_i
    out.append(
        build.recorded(
            "mhc_class_i",
            "MHC class I expression",
            mhc.value if mhc else None,
            field="tumor.mhc_class_i",
            method="IHC, as reported",
        )
    )
    for i, mutation in enumerate(tumor.driver_mutations):
        out.append(
            build.assessed(
                f"driver.{mutation.gene}",
                f"{mutation.gene} alteration",
                mutation.alteration,
                method="as reported by the assay",
                inputs=[f"tumor.driver_mutations[{i}]"],
            )
        )
    for i, antigen in enumerate(tumor.antigens):
        out.append(
            build.assessed(
                f"antigen.{antigen.name.upper()}",
                f"{antigen.name} ({antigen.kind.value})",
                antigen.status.value,
                method="as reported (IHC or flow cytometry)",
                inputs=[f"tumor.antigens[{i}]"],
            )
        )
    return out
