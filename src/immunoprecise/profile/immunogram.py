"""The cancer immunogram: seven axes of the cancer–immune interaction, each scored 0–1.

Blank CU, Haanen JB, Ribas A, Schumacher TN. The "cancer immunogram". Science 2016;352:658-660
(doi:10.1126/science.aaf2834). How each axis is made from profile values is data — the knowledge
base's ``immunogram.yaml`` — so the scaling is documented next to its sources and a site can
change it. An axis whose inputs are all missing is not assessable (never 0).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from immunoprecise.knowledge import AxisComponent, ImmunogramAxis
from immunoprecise.profile.values import Computed, Metric, ValueBuilder

__all__ = ["immunogram_values"]


def _component(c: AxisComponent, done: Mapping[str, Computed], n: int) -> npt.NDArray[np.float64]:
    """The component's 0–1 score per patient (NaN where its value is missing or not scored)."""
    source = done.get(c.value)
    if source is None:
        return np.full(n, np.nan)
    if c.scale == "categories":
        raw = source.category if c.of == "category" else source.value
        if raw is None:
            return np.full(n, np.nan)
        scores = c.scores or {}
        return np.array([scores.get(str(v), np.nan) if v is not None else np.nan for v in raw])
    return c.transform(np.asarray(source.value, dtype=float))


def _axis(axis: ImmunogramAxis, build: ValueBuilder, done: Mapping[str, Computed]) -> Computed:
    n = build.cols.n
    parts = np.vstack([_component(c, done, n) for c in axis.components])
    none = np.asarray(np.isnan(parts).all(axis=0), dtype=bool)
    safe = np.where(none[None, :], 0.0, parts)  # all-NaN columns would warn
    if axis.combine == "mean":
        value = np.nanmean(safe, axis=0)
    elif axis.combine == "min":
        value = np.nanmin(safe, axis=0)
    else:
        value = np.nanmax(safe, axis=0)
    value = np.round(np.where(none, np.nan, value), 3)
    keys = tuple(c.value for c in axis.components)
    assessed = {k: done[k].assessed for k in keys if k in done}
    missing = build.missing(
        value, lambda i: tuple(k for k in keys if k not in assessed or not assessed[k][i])
    )
    metric = Metric(
        f"immunogram.{axis.id}",
        axis.label,
        f"immunogram axis scored 0 (unfavourable) to 1 (favourable); {axis.combine} of the "
        "available components: " + "; ".join(c.describe() for c in axis.components),
        unit="score (0–1)",
        references=axis.references,
        inputs=keys,
        interpretation=axis.rationale,
    )
    return build.computed(metric, value, missing=missing)


def immunogram_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """The immunogram axes of the knowledge base, from the values computed before them.

    ``inputs`` and ``missing`` of an axis name profile values (``tmb``, ``crp`` …), not record
    fields; each of those names its own record fields.
    """
    return [_axis(axis, build, done) for axis in build.kb.immunogram]
