"""Microenvironment values: IHC densities and the effector/suppressor (CD8/FOXP3) balance."""

from __future__ import annotations

from collections.abc import Mapping

from immunoprecise.profile.values import Computed, Metric, ValueBuilder
from immunoprecise.records import Region
from immunoprecise.records.columns import density_key

__all__ = ["microenvironment_values"]

_PREFIX = "microenvironment.densities["


def _measured(build: ValueBuilder) -> list[tuple[str, str]]:
    """(marker, region) of the density columns of these patients."""
    out = []
    for key in build.cols.keys(_PREFIX):
        marker, region = key[len(_PREFIX) : -1].split(", ")
        out.append((marker, region))
    return out


def _density(build: ValueBuilder, marker: str, region: str, *, wanted: bool) -> Computed:
    return build.recorded(
        Metric(
            f"density.{marker}.{region}",
            f"{marker}+ cell density, {region.replace('_', ' ')}",
            "IHC, as measured",
            unit="cells/mm²",
            inputs=(density_key(marker, region),),
            only_if_assessed=not wanted,
        )
    )


def _ratio(build: ValueBuilder, region: str) -> Computed:
    fields = (density_key("CD8", region), density_key("FOXP3", region))
    metric = Metric(
        f"cd8_foxp3_ratio.{region}",
        f"CD8/FOXP3 ratio, {region.replace('_', ' ')}",
        "ratio of CD8+ to FOXP3+ cell densities (IHC) in the same region",
        unit="ratio",
        formula="CD8 density / FOXP3 density (cells/mm² ÷ cells/mm²)",
        inputs=fields,
    )
    return build.ratio(
        metric,
        build.cols.number(fields[0]),
        build.cols.number(fields[1]),
        zero_note="FOXP3 density is 0 cells/mm²: the ratio is undefined",
        digits=4,
    )


def microenvironment_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """Every measured IHC density, the densities and CD8/FOXP3 ratios that a knowledge-base
    threshold for the disease names (reported as not assessable when missing), and the CD8/FOXP3
    ratio of every region where CD8 or FOXP3 was measured."""
    kb, code = build.kb, build.disease_code
    wanted = {t.value for t in kb.thresholds if kb.applies(t.diseases, code)}
    measured = _measured(build)
    densities = dict.fromkeys(measured)
    for key in sorted(k for k in wanted if k.startswith("density.")):
        _, marker, region = key.split(".")
        densities.setdefault((marker, region))
    out = [_density(build, m, r, wanted=f"density.{m}.{r}" in wanted) for m, r in densities]
    regions = {r for m, r in measured if m in {"CD8", "FOXP3"}}
    regions |= {k.split(".", 1)[1] for k in wanted if k.startswith("cd8_foxp3_ratio.")}
    out += [_ratio(build, r.value) for r in Region if r.value in regions]
    return out
