"""Microenvironment values: effector/suppressor (CD8/FOXP3) balance and threshold densities."""

from __future__ import annotations

from immunoprecise.profile.values import ProfileValue, ValueBuilder
from immunoprecise.records import PatientRecord, Region

__all__ = ["microenvironment_values"]

_RATIO_METHOD = "ratio of CD8+ to FOXP3+ cell densities (IHC) in the same region"


def _ratio(record: PatientRecord, region: str, build: ValueBuilder) -> ProfileValue:
    key = f"cd8_foxp3_ratio.{region}"
    label = f"CD8/FOXP3 ratio, {region.replace('_', ' ')}"
    tme = record.microenvironment
    return build.ratio(
        key,
        label,
        tme.density("CD8", region),
        tme.density("FOXP3", region),
        fields=(
            f"microenvironment.densities[CD8, {region}]",
            f"microenvironment.densities[FOXP3, {region}]",
        ),
        method=_RATIO_METHOD,
        formula="CD8 density / FOXP3 density (cells/mm² ÷ cells/mm²)",
        zero_note="FOXP3 density is 0 cells/mm²: the ratio is undefined",
        digits=4,
    )


def microenvironment_values(record: PatientRecord, build: ValueBuilder) -> list[ProfileValue]:
    """CD8/FOXP3 ratio per region measured, and densities that have a disease threshold.

    Regions named by an applicable knowledge-base threshold are always reported, as not
    assessable when their densities are missing.
    """
    kb, code = build.kb, build.disease_code
    measured = {
        d.region.value for d in record.microenvironment.densities if d.marker in {"CD8", "FOXP3"}
    }
    wanted = {t.value for t in kb.thresholds if kb.applies(t.diseases, code)}
    regions = measured | {k.split(".", 1)[1] for k in wanted if k.startswith("cd8_foxp3_ratio.")}
    out = [_ratio(record, r, build) for r in Region if r.value in regions]
    for key in sorted(k for k in wanted if k.startswith("density.")):
        _, marker, region = key.split(".")
        value = record.microenvironment.density(marker, region)
        label = f"{marker} density, {region.replace('_', ' ')}"
        field = f"microenvironment.densities[{marker}, {region}]"
        out.append(
            build.recorded(
                key, label, value, field=field, method="IHC, as measured", unit="cells/mm²"
            )
        )
    return out
