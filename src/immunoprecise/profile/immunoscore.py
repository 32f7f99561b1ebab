"""The consensus Immunoscore: CD3+ and CD8+ densities in tumor core and invasive margin.

Pagès F et al., Lancet 2018;391:2128-2139 (doi:10.1016/S0140-6736(18)30789-X): each of the four
densities is turned into its percentile in a reference distribution; the Immunoscore is the mean
of the four percentiles, grouped Low 0–25 / Intermediate >25–70 / High >70 and IS0–IS4 (0–10,
>10–25, >25–70, >70–95, >95–100). The reference distribution is the knowledge base's
``immunoscore_reference.yaml``; :func:`density_reference_from_table` builds one from a site's
own cohort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.knowledge import DensityReference
from immunoprecise.profile.values import Computed, Metric, ValueBuilder
from immunoprecise.records.columns import density_key

__all__ = ["density_reference_from_table", "immunoscore_values", "percentile_of"]

MARKERS = ("CD3", "CD8")
REGIONS = ("tumor_core", "invasive_margin")


def percentile_of(
    reference: DensityReference, marker: str, region: str, density: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Percentile (0–100) of each density in the reference, interpolated linearly; NaN stays NaN.

    Examples
    --------
    >>> from immunoprecise.knowledge import load_knowledge_base
    >>> ref = load_knowledge_base().immunoscore_reference
    >>> median = ref.densities["CD8"]["tumor_core"][ref.percentiles.index(50)]
    >>> percentile_of(ref, "CD8", "tumor_core", np.array([median, np.nan, 1e6])).tolist()
    [50.0, nan, 100.0]
    """
    table = np.asarray(reference.densities[marker][region], dtype=float)
    out = np.interp(density, table, np.asarray(reference.percentiles, dtype=float))
    return np.where(np.isnan(density), np.nan, out)


def immunoscore_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """The four density percentiles, the Immunoscore (mean percentile, Low/Intermediate/High)
    and its five-group form (IS0–IS4), for solid tumours."""
    if not build.solid:
        return []
    ref = build.kb.immunoscore_reference
    source = f"reference distribution {ref.version!r}: {ref.description.split(':')[0]}"
    out = []
    percentiles = []
    for marker in MARKERS:
        for region in REGIONS:
            field = density_key(marker, region)
            value = np.round(percentile_of(ref, marker, region, build.cols.number(field)), 2)
            percentiles.append(value)
            metric = Metric(
                f"immunoscore.percentile.{marker}.{region}",
                f"{marker}+ density percentile, {region.replace('_', ' ')}",
                f"percentile of the density in the {source} (linear interpolation)",
                unit="percentile",
                references=tuple(ref.references),
                inputs=(field,),
            )
            out.append(build.computed(metric, value))
    mean = np.round(np.vstack(percentiles).mean(axis=0), 2)
    inputs = tuple(density_key(m, r) for m in MARKERS for r in REGIONS)
    method = (
        "consensus Immunoscore: mean of the CD3+ and CD8+ density percentiles in tumour core and "
        f"invasive margin against the {source}; validated in stage I–III colon cancer"
    )
    formula = "(P(CD3 CT) + P(CD3 IM) + P(CD8 CT) + P(CD8 IM)) / 4"
    for key, label in (("immunoscore", "Immunoscore"), ("immunoscore_group", "Immunoscore group")):
        metric = Metric(
            key,
            label,
            method,
            unit="percentile",
            formula=formula,
            references=tuple(ref.references),
            inputs=inputs,
        )
        out.append(build.computed(metric, mean))
    return out


def density_reference_from_table(
    densities: pd.DataFrame,
    *,
    version: str,
    description: str,
    references: Sequence[str],
    percentiles: Sequence[float] = (0, 1, 2.5, *range(5, 100, 5), 97.5, 99, 100),
) -> DensityReference:
    """Build an Immunoscore reference distribution from a site's own cohort.

    Parameters
    ----------
    densities
        One row per tumour, with columns ``CD3_tumor_core``, ``CD3_invasive_margin``,
        ``CD8_tumor_core``, ``CD8_invasive_margin`` in cells/mm²; an empty cell (NaN) is a
        missing density and is left out.
    version
        A name for this reference, recorded in every profile computed with it.
    description
        What cohort it comes from.
    references
        Knowledge-base reference ids (the cohort's publication, or ``pages2018``).
    percentiles
        The percentiles to tabulate (0 and 100 included).

    Returns
    -------
    DensityReference
        Empirical percentiles (linear interpolation between order statistics); write it with
        ``yaml.safe_dump(ref.model_dump(mode="json"))`` as ``immunoscore_reference.yaml`` into a
        copy of the knowledge base.

    Raises
    ------
    ValidationError
        If a column is missing, holds a negative or non-numeric value, or has fewer than 20
        values, or its percentiles do not rise strictly (too many tied densities).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({f"{m}_{r}": rng.lognormal(5, 1, 200)
    ...                       for m in MARKERS for r in REGIONS})
    >>> ref = density_reference_from_table(frame, version="site-2026", description="200 CRC",
    ...                                    references=["pages2018"])
    >>> ref.percentiles[0], ref.percentiles[-1], len(ref.densities["CD8"]["tumor_core"])
    (0.0, 100.0, 25)
    """
    problems = []
    table: dict[str, dict[str, tuple[float, ...]]] = {}
    for marker in MARKERS:
        for region in REGIONS:
            column = f"{marker}_{region}"
            if column not in densities.columns:
                problems.append(FieldProblem(f"column {column}", None, "is required"))
                continue
            raw = densities[column]
            flags = raw.map(lambda v: isinstance(v, bool | np.bool_))
            numbers = pd.to_numeric(raw.mask(flags), errors="coerce").astype(float)
            present = raw.notna().to_numpy()
            unread = present & ~np.isfinite(numbers.to_numpy())
            if unread.any():  # an empty cell is a missing density; text, a flag or inf is not
                rows = [str(r) for r in raw.index[unread][:3]]
                first = raw[unread].iloc[0]
                problems.append(
                    FieldProblem(
                        f"column {column}",
                        first.item() if isinstance(first, np.generic) else first,
                        f"row {', '.join(rows)}{' …' if unread.sum() > 3 else ''}: expected a "
                        "finite number of cells/mm² (leave the cell empty for a missing value)",
                    )
                )
                continue
            values = numbers[present].to_numpy()
            if len(values) < 20 or (values < 0).any():
                problems.append(
                    FieldProblem(
                        f"column {column}",
                        len(values),
                        "needs at least 20 numeric densities ≥ 0 cells/mm²",
                    )
                )
                continue
            quantiles = np.percentile(values, list(percentiles))
            table.setdefault(marker, {})[region] = tuple(float(q) for q in quantiles)
    if problems:
        raise ValidationError(problems, source="density reference")
    try:
        return DensityReference(
            version=version,
            description=description,
            references=tuple(references),
            percentiles=tuple(float(p) for p in percentiles),
            densities=table,
        )
    except ValueError as exc:
        raise ValidationError(
            [FieldProblem("densities", None, str(exc).splitlines()[-1])], source="density reference"
        ) from None
