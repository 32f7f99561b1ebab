"""Profile values: each derived number or category with unit, method, references and inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import KnowledgeBase, Threshold

__all__ = ["Citation", "ProfileValue", "ValueBuilder"]


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


class ValueBuilder:
    """Builds profile values against one knowledge base and one disease code.

    Parameters
    ----------
    knowledge_base
        Source of thresholds and references.
    disease_code
        The patient's disease code (OncoTree), to pick disease-specific thresholds.
    """

    def __init__(self, knowledge_base: KnowledgeBase, disease_code: str | None) -> None:
        self.kb = knowledge_base
        self.disease_code = disease_code

    def cite(self, ref_ids: Sequence[str]) -> tuple[Citation, ...]:
        """Resolve reference ids to citations."""
        refs = (self.kb.reference(r) for r in ref_ids)
        return tuple(
            Citation(id=r.id, short=r.short, text=r.text, doi=r.doi, url=r.url) for r in refs
        )

    def threshold(self, key: str) -> Threshold | None:
        """The most specific threshold for ``key`` that applies to the patient's disease."""
        lineage = self.kb.lineage(self.disease_code)
        best: tuple[int, Threshold] | None = None
        for t in self.kb.thresholds:
            if t.value != key or not self.kb.applies(t.diseases, self.disease_code):
                continue
            depth = min(
                (lineage.index(d) for d in t.diseases or () if d in lineage),
                default=len(lineage) + 1,
            )
            if best is None or depth < best[0]:
                best = (depth, t)
        return best[1] if best else None

    def assessed(
        self,
        key: str,
        label: str,
        value: float | int | bool | str,
        *,
        method: str,
        inputs: Sequence[str],
        unit: str | None = None,
        formula: str | None = None,
        references: Sequence[str] = (),
        category: str | None = None,
        interpretation: str | None = None,
    ) -> ProfileValue:
        """A value that could be computed; categorized by the applicable threshold, if any."""
        threshold = None
        if category is None and isinstance(value, int | float) and not isinstance(value, bool):
            threshold = self.threshold(key)
            if threshold is not None:
                category = threshold.categorize(float(value))
                interpretation = threshold.interpretation
                references = [
                    *references,
                    *(r for r in threshold.references if r not in references),
                ]
        return ProfileValue(
            key=key,
            label=label,
            status="assessed",
            value=value,
            unit=unit,
            category=category,
            interpretation=interpretation,
            method=method,
            formula=formula,
            references=self.cite(references),
            inputs=tuple(inputs),
            threshold=threshold.id if threshold else None,
        )

    def not_assessable(
        self,
        key: str,
        label: str,
        *,
        method: str,
        missing: Sequence[str] = (),
        inputs: Sequence[str] = (),
        unit: str | None = None,
        formula: str | None = None,
        references: Sequence[str] = (),
        note: str | None = None,
    ) -> ProfileValue:
        """A value whose inputs are missing (named in ``missing``) or unusable (``note``)."""
        return ProfileValue(
            key=key,
            label=label,
            status="not_assessable",
            unit=unit,
            method=method,
            formula=formula,
            references=self.cite(references),
            inputs=tuple(inputs),
            missing=tuple(missing),
            note=note,
        )

    def recorded(
        self,
        key: str,
        label: str,
        value: float | int | bool | str | None,
        *,
        field: str,
        method: str,
        unit: str | None = None,
    ) -> ProfileValue:
        """A value read from one record field: assessed if present, else not assessable."""
        if value is None:
            return self.not_assessable(key, label, unit=unit, method=method, missing=[field])
        return self.assessed(key, label, value, unit=unit, method=method, inputs=[field])

    def ratio(
        self,
        key: str,
        label: str,
        numerator: float | None,
        denominator: float | None,
        *,
        fields: tuple[str, str],
        method: str,
        formula: str,
        zero_note: str,
        digits: int,
        references: Sequence[str] = (),
        interpretation: str | None = None,
    ) -> ProfileValue:
        """Ratio of two recorded values: not assessable when either is missing (named) or when
        the denominator is 0 (``zero_note`` says so); otherwise rounded to ``digits``."""
        missing = [f for f, v in zip(fields, (numerator, denominator), strict=True) if v is None]
        if numerator is None or denominator is None or denominator == 0:
            return self.not_assessable(
                key,
                label,
                unit="ratio",
                method=method,
                formula=formula,
                inputs=fields,
                references=references,
                missing=missing,
                note=None if missing else zero_note,
            )
        return self.assessed(
            key,
            label,
            round(numerator / denominator, digits),
            unit="ratio",
            method=method,
            formula=formula,
            inputs=fields,
            references=references,
            interpretation=interpretation,
        )

    def required_threshold(self, key: str) -> Threshold:
        """The threshold for ``key`` that a formula cannot do without.

        Raises
        ------
        KnowledgeBaseError
            If the knowledge base has no threshold for ``key`` that applies to this disease.
        """
        threshold = self.threshold(key)
        if threshold is None:
            raise KnowledgeBaseError(
                f"the knowledge base has no threshold for {key!r} applying to disease "
                f"{self.disease_code!r}; restore it in thresholds.yaml"
            )
        return threshold
