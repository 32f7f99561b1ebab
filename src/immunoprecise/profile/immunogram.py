"""The cancer immunogram: seven axes of the cancer–immune interaction, each scored 0–1.

Blank CU, Haanen JB, Ribas A, Schumacher TN. The "cancer immunogram". Science 2016;352:658-660
(doi:10.1126/science.aaf2834). How each axis is made from profile values is data — the knowledge
base's ``immunogram.yaml`` — so the scaling is documented next to its sources and a site can
change it. An axis whose inputs are all missing is not assessable (never 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from immunoprecise.knowledge import AxisComponent, ImmunogramAxis
from immunoprecise.profile.values import Computed, Metric, ValueBuilder

__all__ = ["immunogram_values"]


def _label(value: object) -> str:
    """A value as the ``scores`` of a ``categories`` component name it: a whole number without
    its decimal point (an mGPS or ECOG of 2, held as 2.0, is ``"2"``), anything else as text."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


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
        return np.array([scores.get(_label(v), np.nan) if v is not None else np.nan for v in raw])
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
    note = _partial_note(axis, keys, _unrecorded(build, done, keys), value)
    return build.computed(metric, value, note=note, missing=missing)


def _unrecorded(
    build: ValueBuilder, done: Mapping[str, Computed], keys: tuple[str, ...]
) -> npt.NDArray[np.bool_]:
    """Per component (rows) and patient (columns), whether the component is missing: its value
    is not assessed and a record field it is made from is not recorded. A value whose fields are
    recorded but that reports nothing (no immune-escape alteration among the reported
    mutations) is not missing: it has nothing to score."""
    n = build.cols.n
    rows = []
    for k in keys:
        source = done.get(k)
        if source is None:
            rows.append(np.ones(n, dtype=bool))
            continue
        recorded = np.ones(n, dtype=bool)
        for field in source.metric.inputs:
            recorded &= build.cols.present(field)
        rows.append(~source.assessed & ~recorded)
    return np.vstack(rows)


_PARTIAL_EFFECT = {
    "min": "the lowest of its components: a missing one may lower it",
    "max": "the highest of its components: a missing one may raise it",
    "mean": "the mean of its components: a missing one may change it",
}
_SETTLED = {
    "min": "the lowest of its components, already 0: a missing one cannot change it",
    "max": "the highest of its components, already 1: a missing one cannot change it",
}


def _partial_note(
    axis: ImmunogramAxis,
    keys: tuple[str, ...],
    absent: npt.NDArray[np.bool_],
    value: npt.NDArray[np.floating[Any]],
) -> npt.NDArray[np.object_] | None:
    """Per patient whose axis is scored from some of its components only, which are missing
    and what that means for the score (None elsewhere; None when no patient's axis is partial).

    The axis stays assessed from the components available (the knowledge base's rule); the note
    says it is partial, so that a missing component is never silent.
    """
    partial = ~np.isnan(value) & absent.any(axis=0)
    if not partial.any():
        return None
    out = np.full(value.size, None, dtype=object)
    texts: dict[tuple[tuple[bool, ...], bool], str] = {}
    for i in np.flatnonzero(partial):
        pattern = tuple(bool(a) for a in absent[:, i])
        settled = (axis.combine == "min" and value[i] == 0.0) or (
            axis.combine == "max" and value[i] == 1.0
        )
        key = (pattern, settled)
        if key not in texts:
            lacking = [k for k, a in zip(keys, pattern, strict=True) if a]
            used = [k for k, a in zip(keys, pattern, strict=True) if not a]
            effect = _SETTLED[axis.combine] if settled else _PARTIAL_EFFECT[axis.combine]
            texts[key] = (
                f"partial: scored from {', '.join(used)} only; not available: "
                f"{', '.join(lacking)} (the axis is {effect})"
            )
        out[i] = texts[key]
    return out


def immunogram_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """The immunogram axes of the knowledge base, from the values computed before them.

    ``inputs`` and ``missing`` of an axis name profile values (``tmb``, ``crp`` …), not record
    fields; each of those names its own record fields. An axis scored from some of its
    components only says so in its ``note``, naming the missing ones.
    """
    return [_axis(axis, build, done) for axis in build.kb.immunogram]
