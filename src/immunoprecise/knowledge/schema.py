"""The knowledge base schema: references, diseases, thresholds, therapies and biomarker rules.

Knowledge is data: the YAML files in ``immunoprecise/knowledge/data/`` are validated against these
models on load, and every claim points to a reference by id.
"""

from __future__ import annotations

import bisect
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

__all__ = [
    "CIVIC_LEVELS",
    "ONCOKB_LEVELS",
    "SCALE_REFERENCES",
    "Condition",
    "Development",
    "DiseaseNode",
    "Effect",
    "Evidence",
    "Reference",
    "Rule",
    "RuleFamily",
    "Therapy",
    "Threshold",
    "sentence",
]

# OncoKB therapeutic levels (Chakravarty et al., JCO Precis Oncol 2017, doi:10.1200/PO.17.00011),
# strongest first; R1/R2 are levels of resistance.
ONCOKB_LEVELS = ("1", "2", "3A", "3B", "4", "R1", "R2")
# CIViC evidence levels (Griffith et al., Nat Genet 2017, doi:10.1038/ng.3774), strongest first:
# A validated, B clinical, C case study, D preclinical, E inferential.
CIVIC_LEVELS = ("A", "B", "C", "D", "E")
# The references of the two scales (references.yaml ids).
SCALE_REFERENCES = ("chakravarty2017", "griffith2017")


class _Entry(BaseModel):
    # a NaN or infinite number (YAML .nan, .inf) in a cut-off or constant would compare false
    # with every value, silently turning a rule off: refused
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


_UNTRACEABLE = "a reference needs a doi, a pmid or a url, so that it can be found"


class Reference(_Entry):
    """A publication or guideline that a rule, threshold or therapy cites."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    authors: _Text
    year: int = Field(ge=1900, le=2100)
    title: _Text
    journal: _Text
    citation: _Text = Field(description="Volume, issue and pages, e.g. '391(10135):2128-2139'.")
    doi: str | None = Field(default=None, pattern=r"^10\.\d{4,9}/\S+$")
    pmid: int | None = Field(default=None, ge=1)
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")

    @model_validator(mode="wrap")
    @classmethod
    def _traceable(cls, data: Any, handler: ModelWrapValidatorHandler[Reference]) -> Reference:
        # a reference without a locator is named together with its other problems (a year or
        # title mistake), not only once those are corrected
        locators = ("doi", "pmid", "url")
        untraceable = isinstance(data, dict) and all(data.get(k) is None for k in locators)
        try:
            reference = handler(data)
        except ValidationError as exc:
            if not untraceable:
                raise
            details: list[InitErrorDetails] = [
                {"type": e["type"], "loc": e["loc"], "input": e["input"], "ctx": e.get("ctx", {})}
                for e in exc.errors(include_url=False)
            ]
            details.append(
                {
                    "type": "value_error",
                    "loc": (),
                    "input": data,
                    "ctx": {"error": ValueError(_UNTRACEABLE)},
                }
            )
            raise ValidationError.from_exception_data(exc.title, details) from None
        if reference.doi is None and reference.pmid is None and reference.url is None:
            raise ValueError(_UNTRACEABLE)
        return reference

    @property
    def short(self) -> str:
        """Short citation, e.g. ``Pagès F et al., Lancet 2018``."""
        first = self.authors.split(",")[0].strip()
        etal = " et al." if "," in self.authors else ""
        return f"{first}{etal}, {self.journal} {self.year}"

    @property
    def text(self) -> str:
        """Full citation (Vancouver style) with its DOI, or else its PMID or URL.

        Examples
        --------
        >>> Reference(id="chen2017", authors="Chen DS, Mellman I", year=2017,
        ...     title="Elements of cancer immunity", journal="Nature",
        ...     citation="541(7637):321-330", doi="10.1038/nature21349").text
        'Chen DS, Mellman I. Elements of cancer immunity. Nature 2017;541(7637):321-330. doi:...'
        """
        where = (
            f" doi:{self.doi}"
            if self.doi
            else f" PMID:{self.pmid}"
            if self.pmid
            else f" {self.url}"
            if self.url
            else ""
        )
        return (
            f"{sentence(self.authors)} {sentence(self.title)} {self.journal} {self.year};"
            f"{self.citation}.{where}"
        )


def sentence(text: str) -> str:
    """``text`` ending as a sentence: a full stop added unless it ends with ``.``, ``?`` or ``!``
    (``Le DT, et al.`` and a title that asks a question keep theirs).

    Examples
    --------
    >>> sentence("Chen DS, Mellman I"), sentence("Le DT, et al."), sentence("Does it fit?")
    ('Chen DS, Mellman I.', 'Le DT, et al.', 'Does it fit?')
    """
    stripped = text.rstrip()
    return stripped if stripped.endswith((".", "?", "!")) else f"{stripped}."


class DiseaseNode(_Entry):
    """A disease code (OncoTree where one exists) and the group it belongs to."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")
    name: str
    parent: str | None = None


class Threshold(_Entry):
    """Cut-points that turn a profile value into categories.

    ``labels`` has one more entry than ``cutoffs``. A value equal to a cut-off falls into the
    upper category unless ``cutoff_belongs_to`` is ``lower`` (for rules written as ``> x``).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    value: str = Field(description="Profile value key, e.g. 'cd8_foxp3_ratio.interfollicular'.")
    diseases: tuple[str, ...] | None = Field(
        default=None, description="Disease codes (groups included) it applies to; none = all."
    )
    cutoffs: tuple[float, ...] = Field(min_length=1)
    labels: tuple[str, ...]
    unit: str
    cutoff_belongs_to: Literal["upper", "lower"] = "upper"
    interpretation: str = Field(description="What the categories mean, with the source's numbers.")
    references: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Threshold:
        if list(self.cutoffs) != sorted(self.cutoffs):
            raise ValueError(f"cutoffs must ascend: {self.cutoffs}")
        if len(self.labels) != len(self.cutoffs) + 1:
            raise ValueError(f"need {len(self.cutoffs) + 1} labels for {len(self.cutoffs)} cutoffs")
        return self

    def categorize(self, value: float) -> str:
        """Return the category label of ``value``.

        Examples
        --------
        >>> t = Threshold(id="t", value="tmb", cutoffs=(10,), labels=("TMB-L", "TMB-H"),
        ...               unit="mut/Mb", interpretation="", references=("r",))
        >>> t.categorize(9.9), t.categorize(10)
        ('TMB-L', 'TMB-H')
        """
        if self.cutoff_belongs_to == "upper":
            return self.labels[bisect.bisect_right(self.cutoffs, value)]
        return self.labels[bisect.bisect_left(self.cutoffs, value)]

    @property
    def rule_text(self) -> str:
        """The cut-points as readable text, e.g. ``<1: TPS <1% | ≥1: TPS 1–49% | ≥50: TPS ≥50%``."""
        upper = self.cutoff_belongs_to == "upper"
        parts = [f"{'<' if upper else '≤'}{self.cutoffs[0]:g}: {self.labels[0]}"]
        parts += [
            f"{'≥' if upper else '>'}{c:g}: {label}"
            for c, label in zip(self.cutoffs, self.labels[1:], strict=True)
        ]
        return " | ".join(parts)


class Effect(StrEnum):
    """What a rule does to a therapy option when its condition holds."""

    indicate = "indicate"
    favour = "favour"
    disfavour = "disfavour"
    contraindicate = "contraindicate"


class Evidence(_Entry):
    """Strength of the evidence behind a rule, on two scales side by side."""

    oncokb: Literal["1", "2", "3A", "3B", "4", "R1", "R2"] | None = Field(
        default=None, description="OncoKB therapeutic level (biomarker–drug claims)."
    )
    civic: Literal["A", "B", "C", "D", "E"] = Field(
        description="CIViC evidence level (clinical/preclinical strength)."
    )


_OPERATORS = (
    "equals",
    "in",
    "at_least",
    "above",
    "below",
    "at_most",
    "is_true",
    "is_false",
    "has",
)


class Condition(_Entry):
    """A condition over profile values: a comparison, or ``all``/``any``/``not`` of conditions.

    A comparison names a profile ``value`` key and one operator: ``equals``, ``in``,
    ``at_least`` (≥), ``above`` (>), ``below`` (<), ``at_most`` (≤), ``is_true``, ``is_false``,
    ``has`` (a list value, such as ``hla_type``, has an item matching the operand; HLA alleles
    field by field: ``has: "A*02"`` matches ``A*02:01``, ``has: "A*02:01"`` matches
    ``A*02:01:01`` but not ``A*02:011`` or the null allele ``A*02:01N``, and is unknown for an
    allele typed at lower resolution, ``A*02``, so the rule is reported as not evaluated, needing
    high-resolution typing). With ``of: category`` it compares the value's category instead of
    the value.
    """

    value: str | None = None
    of: Literal["value", "category"] = "value"
    equals: str | float | bool | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    at_most: float | None = None
    is_true: Literal[True] | None = None
    is_false: Literal[True] | None = None
    has: str | None = None
    # an empty all/any would always (all) or never (any) hold, whatever the patient's values
    all: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    any: tuple[Condition, ...] | None = Field(default=None, min_length=1)
    not_: Condition | None = Field(default=None, alias="not")

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        combinators = [c for c in ("all", "any", "not_") if getattr(self, c) is not None]
        operators = [o for o in _OPERATORS if getattr(self, "in_" if o == "in" else o) is not None]
        if self.value is None:
            if len(combinators) != 1 or operators:
                raise ValueError(
                    "a condition needs 'value' with one operator, or one of all/any/not"
                )
        elif len(operators) != 1 or combinators:
            raise ValueError(
                f"condition on {self.value!r} needs exactly one operator of {', '.join(_OPERATORS)}"
            )
        return self

    def value_keys(self) -> set[str]:
        """All profile value keys this condition reads."""
        keys = {self.value} if self.value else set()
        for child in (*(self.all or ()), *(self.any or ()), *((self.not_,) if self.not_ else ())):
            keys |= child.value_keys()
        return keys

    def operator(self) -> tuple[str, Any]:
        """The comparison operator and its operand (for a comparison condition)."""
        for o in _OPERATORS:
            operand = getattr(self, "in_" if o == "in" else o)
            if operand is not None:
                return o, operand
        raise ValueError("not a comparison")


RuleFamily = Literal[
    "checkpoint",
    "effector_cells",
    "vaccine",
    "suppression",
    "targeted",
    "nanomedicine",
    "timing",
    "caution",
]
"""The families rules are grouped in (reports and tests go family by family)."""

THERAPY_SELECTOR = r"^(tag:)?[a-z0-9_]+$"


class Rule(_Entry):
    """A biomarker rule: when ``when`` holds for a patient with one of ``diseases``, apply
    ``effect`` to each of ``therapies``, with ``evidence`` and ``references``.

    ``therapies`` names therapy ids or ``tag:NAME`` selectors (every therapy with that tag), so a
    caution such as "lymphopenia weighs against therapies that rely on the patient's own
    effectors" is written once for all of them.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    family: RuleFamily
    therapies: tuple[Annotated[str, Field(pattern=THERAPY_SELECTOR)], ...] = Field(min_length=1)
    effect: Effect
    diseases: tuple[str, ...] | None = Field(
        default=None, description="Disease codes or groups it applies to; none = all."
    )
    when: Condition
    evidence: Evidence
    rationale: str
    window: str | None = Field(
        default=None, description="Timing window (timing.yaml) the rule's timing follows."
    )
    references: tuple[str, ...] = Field(min_length=1)


Development = Literal["approved", "investigational", "preclinical"]


class Therapy(_Entry):
    """A therapy the engine can propose.

    ``tags`` say what kind of tool it is, so that rules can address groups of therapies
    (``tag:checkpoint_inhibitor``, ``tag:host_effector_dependent``, ``tag:crs_risk``, …);
    ``development`` is its regulatory stage (approved somewhere, investigational in clinical
    trials, or preclinical only).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    therapy_class: str = Field(pattern=r"^[a-z0-9_]+$")
    development: Development
    mechanism: str
    targets: tuple[str, ...] = ()
    tags: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], ...] = ()
    typical_regimen: str
    key_toxicities: tuple[str, ...] = ()
    references: tuple[str, ...] = Field(min_length=1)


Condition.model_rebuild()
