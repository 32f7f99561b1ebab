"""Profile values: each derived number or category with unit, method, references and inputs.

A value is computed for many patients at once: a :class:`Metric` says what the value is (key,
label, unit, method, formula, references, input fields) and a :class:`Computed` holds its values
for every patient (arrays). :func:`immunoprecise.profile` turns one patient's row into a
:class:`ProfileValue`; :func:`immunoprecise.profile_table` turns the arrays into table columns —
one formula for both.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import KnowledgeBase, Threshold
from immunoprecise.records.columns import RecordColumns

__all__ = [
    "Citation",
    "Computed",
    "Metric",
    "ProfileValue",
    "ValueBuilder",
    "categorize",
    "labelled",
]

Array = npt.NDArray[Any]
Kind = Literal["float", "int", "bool", "text"]


class Citation(BaseModel):
    """A reference as shown next to a value or a recommendation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    short: str = Field(description="First author, journal and year.")
    text: str = Field(description="Full citation with DOI.")
    doi: str | None = None
    url: str | None = None


class ProfileValue(BaseModel):
    """One value of the immune profile.

    A value whose inputs are missing has ``status="not_assessable"``, ``value=None`` and names
    the missing record fields in ``missing``; it is never imputed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="Stable key, e.g. 'cd8_foxp3_ratio.interfollicular'.")
    label: str
    status: Literal["assessed", "not_assessable"]
    value: float | int | bool | str | None = None
    unit: str | None = None
    category: str | None = None
    interpretation: str | None = None
    method: str
    formula: str | None = None
    references: tuple[Citation, ...] = ()
    inputs: tuple[str, ...] = Field(default=(), description="Record fields the value came from.")
    missing: tuple[str, ...] = Field(default=(), description="Record fields that were missing.")
    threshold: str | None = Field(default=None, description="Knowledge-base threshold used.")
    note: str | None = Field(default=None, description="Why a value is not assessable, etc.")


@dataclass(frozen=True)
class Metric:
    """What a profile value is: the same for every patient.

    ``kind`` says how a computed array entry becomes a Python value (``float``, ``int``,
    ``bool`` or ``text``). ``only_if_assessed`` values are left out of a patient's profile when
    they cannot be assessed (markers reported only where measured), unless a note says why they
    cannot be (a value that was recorded but cannot be read is shown, not hidden). ``only_with``
    names a record column without which the value is left out of a patient's profile altogether
    (e.g. ``toxicity[]``: CRS/ICANS grades only for patients with toxicity observations), while
    a value it does report may still be not assessable, naming what is missing.
    """

    key: str
    label: str
    method: str
    kind: Kind = "float"
    unit: str | None = None
    formula: str | None = None
    references: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    interpretation: str | None = None
    threshold: Threshold | None = None
    only_if_assessed: bool = False
    only_with: str | None = None


@dataclass(frozen=True)
class Computed:
    """A metric's values for ``n`` patients.

    ``value`` is a float array (NaN = not assessable) for numeric kinds or an object array
    (None = not assessable) for text; ``category``, ``note`` and ``missing`` are object arrays
    or None. ``missing`` overrides the default (the metric's inputs that a patient lacks).
    """

    metric: Metric
    value: Array
    category: Array | None = None
    note: Array | None = None
    missing: Array | None = None

    @property
    def assessed(self) -> npt.NDArray[np.bool_]:
        """Which patients have a value."""
        if self.value.dtype == object:
            return np.asarray(self.value != None, dtype=bool)  # noqa: E711 (element-wise)
        return ~np.isnan(self.value)


def labelled(mask: npt.NDArray[np.bool_], label: str) -> Array | None:
    """``label`` where ``mask`` holds, None elsewhere (None if it holds nowhere).

    Examples
    --------
    >>> labelled(np.array([True, False]), "zero denominator").tolist()
    ['zero denominator', None]
    """
    if not mask.any():
        return None
    out = np.full(len(mask), None, dtype=object)
    out[mask] = label
    return out


def categorize(threshold: Threshold, values: npt.NDArray[np.float64]) -> Array:
    """The category label of each value (None for NaN), by ``threshold``'s cut-offs.

    Examples
    --------
    >>> t = Threshold(id="t", value="tmb", cutoffs=(10,), labels=("TMB-L", "TMB-H"),
    ...               unit="mut/Mb", interpretation="", references=("r",))
    >>> categorize(t, np.array([9.9, 10.0, np.nan])).tolist()
    ['TMB-L', 'TMB-H', None]
    """
    side: Literal["left", "right"] = "right" if threshold.cutoff_belongs_to == "upper" else "left"
    index = np.searchsorted(np.asarray(threshold.cutoffs, dtype=float), values, side=side)
    labels = np.array(threshold.labels, dtype=object)[np.minimum(index, len(threshold.labels) - 1)]
    labels[np.isnan(values)] = None
    return labels


class ValueBuilder:
    """Builds the computed values of patients of one disease against one knowledge base.

    Parameters
    ----------
    knowledge_base
        Source of thresholds, constants and references.
    disease_code
        The patients' disease code (OncoTree), to pick disease-specific thresholds.
    columns
        The patients' record fields.
    explain
        Whether to work out, per patient, which inputs a value that is not assessable lacks
        (needed for a :class:`ProfileValue`, not for a table of values).
    """

    def __init__(
        self,
        knowledge_base: KnowledgeBase,
        disease_code: str | None,
        columns: RecordColumns,
        *,
        explain: bool = True,
    ) -> None:
        self.explain = explain
        self.kb = knowledge_base
        self.disease_code = disease_code
        self.cols = columns
        self.lineage = knowledge_base.lineage(disease_code)

    @property
    def solid(self) -> bool:
        """Whether the disease is not a haematological malignancy."""
        return "HEME" not in self.lineage

    def threshold(self, key: str) -> Threshold | None:
        """The most specific threshold for ``key`` that applies to the patients' disease."""
        return applicable_threshold(self.kb, self.disease_code, key)

    def required_threshold(self, key: str) -> Threshold:
        """The threshold for ``key`` that a formula cannot do without.

        Raises
        ------
        KnowledgeBaseError
            If the knowledge base has no threshold for ``key`` that applies to this disease.
        """
        threshold = self.threshold(key)
        if threshold is None:
            disease = (
                "every disease (the patients have no disease code)"
                if self.disease_code is None
                else f"disease {self.disease_code!r}"
            )
            raise KnowledgeBaseError(
                f"the knowledge base has no threshold for {key!r} applying to {disease}; "
                "restore it in thresholds.yaml"
            )
        return threshold

    def missing(self, value: Array, why: Callable[[int], tuple[str, ...]]) -> Array | None:
        """Per patient without a value, the inputs it lacks (``why(row)``); None when not
        explaining."""
        if not self.explain:
            return None
        out = np.empty(len(value), dtype=object)
        unassessed = np.isnan(value) if value.dtype != object else value == None  # noqa: E711
        for i in np.flatnonzero(unassessed):
            out[i] = why(int(i))
        return out

    def computed(
        self,
        metric: Metric,
        value: Array,
        *,
        category: Array | None = None,
        note: Array | None = None,
        missing: Array | None = None,
    ) -> Computed:
        """Values of ``metric``; numeric values are categorized by its applicable threshold."""
        if category is None and metric.kind in ("float", "int"):
            threshold = self.threshold(metric.key)
            if threshold is not None:
                category = categorize(threshold, value)
                refs = (
                    *metric.references,
                    *(r for r in threshold.references if r not in metric.references),
                )
                metric = dataclasses.replace(
                    metric,
                    threshold=threshold,
                    references=refs,
                    interpretation=metric.interpretation or threshold.interpretation,
                )
        return Computed(metric, value, category=category, note=note, missing=missing)

    def recorded(self, metric: Metric) -> Computed:
        """A value read from its one input field."""
        (field_key,) = metric.inputs
        numeric = metric.kind in ("float", "int", "bool")
        value = self.cols.number(field_key) if numeric else self.cols.text(field_key)
        return self.computed(metric, value)

    def ratio(
        self, metric: Metric, numerator: Array, denominator: Array, *, zero_note: str, digits: int
    ) -> Computed:
        """``numerator / denominator`` rounded to ``digits``; a zero denominator is not
        assessable with ``zero_note``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.round(numerator / np.where(denominator == 0, np.nan, denominator), digits)
        zero = (denominator == 0) & ~np.isnan(numerator)
        return self.computed(metric, value, note=labelled(zero, zero_note))

    def constant(self, constant_id: str) -> float:
        """The value of a knowledge-base constant."""
        return self.kb.constant(constant_id).value


@functools.lru_cache(maxsize=4096)
def applicable_threshold(kb: KnowledgeBase, code: str | None, key: str) -> Threshold | None:
    """The most specific threshold of ``kb`` for value ``key`` that applies to disease ``code``."""
    lineage = kb.lineage(code)
    best: tuple[int, Threshold] | None = None
    for t in kb.thresholds:
        if t.value != key or not kb.applies(t.diseases, code):
            continue
        depth = min(
            (lineage.index(d) for d in t.diseases or () if d in lineage),
            default=len(lineage) + 1,
        )
        if best is None or depth < best[0]:
            best = (depth, t)
    return best[1] if best else None


@functools.lru_cache(maxsize=4096)
def cite(kb: KnowledgeBase, ref_id: str) -> Citation:
    """The citation of reference ``ref_id``."""
    r = kb.reference(ref_id)
    return Citation(id=r.id, short=r.short, text=r.text, doi=r.doi, url=r.url)


def _python(kind: Kind, value: Any) -> float | int | bool | str:
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    return str(value)


def profile_value(
    c: Computed, row: int, kb: KnowledgeBase, cols: RecordColumns
) -> ProfileValue | None:
    """Patient ``row`` of ``c`` as a :class:`ProfileValue` (None if left out)."""
    m = c.metric
    assessed = bool(c.assessed[row])
    note = None if c.note is None else c.note[row]
    if not assessed and m.only_if_assessed and note is None:
        return None
    if m.only_with is not None and not cols.present(m.only_with)[row]:
        return None
    common: dict[str, Any] = {
        "key": m.key,
        "label": m.label,
        "unit": m.unit,
        "method": m.method,
        "formula": m.formula,
        "references": tuple(cite(kb, r) for r in m.references),
        "inputs": m.inputs,
        "note": note,
    }
    if assessed:
        category = None if c.category is None else c.category[row]
        return ProfileValue(
            status="assessed",
            value=_python(m.kind, c.value[row]),
            category=category,
            interpretation=m.interpretation,
            threshold=m.threshold.id if m.threshold and category is not None else None,
            **common,
        )
    if c.missing is not None:
        missing = tuple(c.missing[row] or ())
    else:
        missing = tuple(f for f in m.inputs if not cols.present(f)[row])
    return ProfileValue(status="not_assessable", missing=missing, **common)
