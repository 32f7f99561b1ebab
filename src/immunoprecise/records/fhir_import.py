"""Read patient records from FHIR R4 / mCODE Bundles.

A Bundle's Patient, primary cancer Condition, Observations (labs by LOINC, mCODE tumor-marker
tests, genomic variants, ECOG, cancer disease status) and MedicationAdministrations become one
:class:`~immunoprecise.records.PatientRecord` per patient. Every code read is listed, with its
record field and unit, in ``records/data/fhir_codes.yaml``. A resource that no record field holds is
returned in :attr:`FhirImport.skipped` with the reason (never dropped silently); a value that is
invalid raises :class:`~immunoprecise.errors.ValidationError` naming the resource, the field, the
value and the expected unit.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pydantic
import yaml
from fhir.resources.R4B.bundle import Bundle

from immunoprecise.errors import FieldProblem, UnitError, ValidationError, repeated
from immunoprecise.records.base import RecordModel
from immunoprecise.records.disease import RiskIndex
from immunoprecise.records.readers import binary_content
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.scalars import FROM_TEXT, date_problem, latest_date
from immunoprecise.records.toxicity import ToxicityObservation
from immunoprecise.records.tumor import HypoxiaMarker, TumorAntigen
from immunoprecise.records.units import convert
from immunoprecise.records.validation import field_problems, validate_model

__all__ = [
    "FhirCodes",
    "FhirImport",
    "SkippedResource",
    "fhir_codes",
    "read_fhir_bundle",
    "read_fhir_bundles",
    "ucum_to_unit",
]

Json = dict[str, Any]

_CANCER_WORDS = re.compile(
    r"cancer|carcinoma|melanoma|lymphoma|leuka?emia|myeloma|sarcoma|neoplasm|tumou?r|malignan|"
    r"blastoma|glioma|mesothelioma",
    re.IGNORECASE,
)
_SKIP_STATUS = {"entered-in-error", "cancelled", "not-done"}
_BARE_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class FhirCodes:
    """The code tables of ``fhir_codes.yaml``, indexed for reading and writing.

    ``by_code`` maps ``(system, code)`` to ``(kind, entry)`` where kind is ``quantity``, ``coded``
    or ``structured`` and entry is the YAML entry.
    """

    raw: Mapping[str, Any]
    by_code: Mapping[tuple[str, str], tuple[str, Mapping[str, Any]]]
    by_field: Mapping[str, Mapping[str, Any]]

    def system(self, name: str) -> str:
        """The URL of code system ``name`` (the first one if several are accepted)."""
        value = self.raw["systems"][name]
        return str(value[0] if isinstance(value, list) else value)

    def systems(self, name: str) -> tuple[str, ...]:
        """Every URL accepted for code system ``name``."""
        value = self.raw["systems"][name]
        return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


@dataclass(frozen=True)
class ItemFields:
    """How one kind of list item is written as an Observation: each field of ``model`` is a
    component coded by its field name (``record-field`` system), except ``value_field``, which
    is the Observation's value, and ``not_components`` (written elsewhere, e.g. the date as the
    effective time). ``units`` gives the record unit of each quantity field."""

    model: type[RecordModel]
    path: str
    value_field: str | None = None
    units: Mapping[str, str] = field(default_factory=dict)
    not_components: frozenset[str] = frozenset()


ITEM_FIELDS: Mapping[str, ItemFields] = {
    "antigen": ItemFields(TumorAntigen, "tumor.antigens", units={"percent_positive": "%"}),
    "hypoxia": ItemFields(
        HypoxiaMarker, "tumor.hypoxia", "percent_positive", {"percent_positive": "%"}
    ),
    "risk_index": ItemFields(RiskIndex, "disease.risk_indices", "score"),
    "toxicity": ItemFields(
        ToxicityObservation,
        "toxicity",
        units={"temperature": "°C", "oxygen_flow": "L/min", "cytokines": "pg/mL"},
        not_components=frozenset({"date"}),
    ),
}
"""The record's list items written one Observation each (``structured`` codes of the same
name in ``fhir_codes.yaml``)."""

_NONE_FOUND = "none"
"""The component code value written for a list field recorded as empty (no sign found)."""

PRIOR_THERAPIES_CODE = "prior_therapies"
"""The record-field code of the List that says a patient had no prior therapy."""
NIL_KNOWN = {
    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
    "code": "nilknown",
    "display": "Nil Known",
}
"""FHIR R4 ``List.emptyReason`` "Nil Known": clinical judgment that there are no known items."""


@functools.cache
def fhir_codes() -> FhirCodes:
    """Load the FHIR code tables shipped in ``records/data/fhir_codes.yaml`` (once).

    Returns
    -------
    FhirCodes
        The tables, indexed by ``(system, code)`` and by record field.

    Examples
    --------
    >>> codes = fhir_codes()
    >>> codes.by_code[("http://loinc.org", "1988-5")][1]["field"]
    'host.crp'
    """
    text = (files("immunoprecise.records") / "data" / "fhir_codes.yaml").read_text("utf-8")
    raw: Mapping[str, Any] = yaml.safe_load(text)
    systems = raw["systems"]
    loinc, local = systems["loinc"], systems["record_field"]
    by_code: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
    by_field: dict[str, Mapping[str, Any]] = {}
    for kind in ("quantities", "coded"):
        for entry in raw[kind]:
            for code in entry.get("loinc", ()):
                by_code[(loinc, str(code))] = (kind, entry)
            if "local" in entry:
                by_code[(local, str(entry["local"]))] = (kind, entry)
            by_field[str(entry["field"])] = entry
    for name, entry in raw["structured"].items():
        if "loinc" in entry:
            by_code[(loinc, str(entry["loinc"]))] = ("structured", {**entry, "name": name})
        if "local" in entry:
            by_code[(local, str(entry["local"]))] = ("structured", {**entry, "name": name})
    return FhirCodes(raw=raw, by_code=by_code, by_field=by_field)


@dataclass(frozen=True)
class SkippedResource:
    """A resource (or part of one) that the record does not hold, and why.

    Parameters
    ----------
    resource
        ``ResourceType/id`` of the resource.
    code
        Its code as ``system|code (display)``, if it has one.
    reason
        Why it was not read into the record.
    """

    resource: str
    code: str | None
    reason: str

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.resource}{code}: {self.reason}"


@dataclass(frozen=True)
class FhirImport:
    """The record read from a FHIR Bundle, with what was left out and notes on how it was read.

    Parameters
    ----------
    record
        The validated patient record.
    skipped
        Resources (or values) the record has no field for, each with the reason.
    notes
        How values were derived (e.g. age from the birth date), for the user to check.
    """

    record: PatientRecord
    skipped: tuple[SkippedResource, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def report(self) -> tuple[str, ...]:
        """What to tell the user, each line naming the patient: every resource left out, with
        its code and the reason, then the notes (as ``evaluate`` and ``db import`` list them).
        """
        pid = self.record.patient_id
        return tuple(f"{pid}: left out {skipped}" for skipped in self.skipped) + tuple(
            f"{pid}: {note}" for note in self.notes
        )


def ucum_to_unit(code: str, *, target: str | None = None) -> str:
    """Rewrite a UCUM unit code in the laboratory spelling the record's unit parser reads.

    Parameters
    ----------
    code
        UCUM code, e.g. ``10*3/uL``, ``/uL``, ``{mutations}/[Mb]``, ``1/1000000{Base}``.
    target
        The record field's unit; a count unit (``mut``) missing from ``code`` is added when
        the field needs it (UCUM writes TMB as ``1/1000000{Base}``).

    Returns
    -------
    str
        The unit text, e.g. ``10^3/uL``.

    Examples
    --------
    >>> ucum_to_unit("10*3/uL")
    '10^3/uL'
    >>> ucum_to_unit("1/1000000{Base}", target="mut/Mb")
    'mut/(1000000*bp)'
    >>> ucum_to_unit("mo")
    'month'
    >>> ucum_to_unit("Cel")
    'degC'
    """
    text = code.strip()
    for annotation, spelling in fhir_codes().raw["ucum_annotations"].items():
        text = text.replace(annotation, spelling)
    text = re.sub(r"\{[^}]*\}", "", text)  # other annotations carry no unit
    # UCUM's month and week (an infant's age in months) have no such symbol in pint
    text = re.sub(r"(?<![\w\[])mo(?![\w\]])", "month", text)
    text = re.sub(r"(?<![\w\[])wk(?![\w\]])", "week", text)
    text = re.sub(r"\b10\*(-?\d+)", r"10^\1", text)
    text = re.sub(r"(?<![\w\[])Cel(?![\w\]])", "degC", text)  # UCUM degree Celsius
    text = text.replace("[degF]", "degF")
    if text.startswith("/"):
        text = "1" + text
    if target is not None and "mut" in target and "mut" not in text and text.startswith("1/"):
        denominator = re.sub(r"(\d)([A-Za-z])", r"\1*\2", text[2:])
        text = f"mut/({denominator})"
    return text or "1"


# ---------------------------------------------------------------------------------------------
# helpers on plain JSON resources


def _ref(resource: Json) -> str:
    return f"{resource.get('resourceType', 'Resource')}/{resource.get('id', '?')}"


def _codings(concept: Json | None) -> list[Json]:
    return list((concept or {}).get("coding") or [])


def _code_text(concept: Json | None) -> str | None:
    if not concept:
        return None
    shown = [
        f"{c.get('system', '')}|{c.get('code', '')}"
        + (f" ({c['display']})" if c.get("display") else "")
        for c in _codings(concept)
    ]
    if concept.get("text"):
        shown.append(str(concept["text"]))
    return "; ".join(shown) or None


def _concept_text(concept: Json | None) -> str | None:
    """The human text of a concept: its text, else the first display, else the first code."""
    if not concept:
        return None
    if concept.get("text"):
        return str(concept["text"])
    for c in _codings(concept):
        if c.get("display"):
            return str(c["display"])
    for c in _codings(concept):
        if c.get("code"):
            return str(c["code"])
    return None


def _date(value: Any) -> dt.date | None:
    """The day a FHIR date or dateTime names; None for none, or for a partial date (a year,
    or a year and month: see :func:`_partial_date`)."""
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10]) if len(str(value)) >= 10 else None


_PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?$")


def _partial_date(value: Any) -> tuple[dt.date, dt.date] | None:
    """The first and last day of a partial FHIR date (``2024`` or ``2024-03``, which FHIR
    allows), or None for a full date or none.

    Examples
    --------
    >>> _partial_date("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    >>> _partial_date("2024-02-10") is None
    True
    """
    match = _PARTIAL_DATE.match(str(value or ""))
    if match is None:
        return None
    year = int(match["year"])
    if match["month"] is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = int(match["month"])
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1)


def _effective_source(resource: Json) -> tuple[str, str] | None:
    """Where the resource's clinically relevant time is written, and the time as written:
    ``effectiveDateTime``, else ``effectiveInstant``, else the end (or start) of
    ``effectivePeriod``, else ``issued``."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if resource.get(key):
            return key, str(resource[key])
    period = resource.get("effectivePeriod") or {}
    for key, value in (
        ("effectivePeriod.end", period.get("end")),
        ("effectivePeriod.start", period.get("start")),
        ("issued", resource.get("issued")),
    ):
        if value and (_date(value) is not None or _partial_date(value) is not None):
            return key, str(value)
    return None


def _effective_text(resource: Json) -> str | None:
    """The resource's clinically relevant time as written (see :func:`_effective_source`)."""
    source = _effective_source(resource)
    return source[1] if source else None


def _effective(resource: Json) -> dt.date | None:
    """The date of the resource's time, as written (the local calendar date); None for none
    or a partial date."""
    return _date(_effective_text(resource))


def _ordering_date(text: str | None) -> dt.date | None:
    """The day a time orders by: its date, or the first day of a partial date."""
    partial = _partial_date(text)
    return partial[0] if partial is not None else _date(text)


def _instant(value: str | None) -> dt.datetime | None:
    """The moment a FHIR dateTime with a time of day names (UTC), or None for a date alone.

    FHIR requires a time zone with a time; a time without one is read as UTC."""
    if not value or "T" not in value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _is_later(
    date: dt.date | None, at: dt.datetime | None, old_date: dt.date, old_at: dt.datetime | None
) -> bool:
    """Whether a time (``date``, and ``at`` when a time of day was given) is after the old one:
    by the moment when both give a time of day (so time zones and hours count), else by date."""
    if at is not None and old_at is not None:
        return at > old_at
    return date is not None and date > old_date


def _same_value(a: Any, b: Any, unit: str) -> bool:
    """Whether two values read for one field are the same: equal as read, or the same
    quantity in different units (``5 mg/L`` and ``0.5 mg/dL``)."""
    if a == b:
        return True
    if not unit or not isinstance(a, str) or not isinstance(b, str):
        return False
    amounts = []
    for text in (a, b):
        number, _, given = text.partition(" ")
        try:
            amounts.append(convert(float(number), given, unit))
        except (ValueError, UnitError):
            return False
    return abs(amounts[0] - amounts[1]) <= 1e-9 * max(abs(amounts[0]), abs(amounts[1]))


def _censored_reason(quantity: Json | None) -> str | None:
    """Why a FHIR Quantity with a ``comparator`` (``<5 mg/L``) is not read, or None for a plain
    value: the reason a skipped Observation is listed with."""
    if not quantity or not quantity.get("comparator") or quantity.get("value") is None:
        return None
    unit = quantity.get("unit") or quantity.get("code") or ""
    value = f"{quantity['comparator']}{_number_text(quantity['value'])} {unit}".strip()
    return f"censored value {value}: a detection limit, not a measured value"


def _number_text(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _extension(resource: Json, name: str) -> Any:
    url = fhir_codes().raw["systems"]["extension_base"] + name
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


# ---------------------------------------------------------------------------------------------
# reading one patient


def _item_problem(problem: FieldProblem) -> str:
    """One problem of a list item read from an Observation, in the Observation's words."""
    if problem.value is not None:
        return f"{problem.field} = {problem.value!r}: {problem.message}"
    if problem.field in ("", "(record)"):
        return problem.message
    if "required" in problem.message:
        return f"no {problem.field!r} component, which is required"
    return f"{problem.field}: {problem.message}"


@dataclass
class _Reader:
    """Collects one patient's record data from the resources that refer to them."""

    patient: Json
    codes: FhirCodes = field(default_factory=fhir_codes)
    data: Json = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    skipped: list[SkippedResource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dates: list[dt.date] = field(default_factory=list)
    chosen: dict[str, tuple[dt.date | None, dt.datetime | None, str, str, Any]] = field(
        default_factory=dict
    )
    """The Observation kept for each single-valued field: its date, moment, reference, time as
    written and value."""
    conflicts: dict[str, FieldProblem] = field(default_factory=dict)
    """Fields given two different values for the same time (and none later), raised by
    :meth:`finish`."""
    medications: Mapping[str, Json] = field(default_factory=dict)
    """The Bundle's Medication resources by ``Medication/<id>`` and by ``fullUrl``."""
    used_medications: set[int] = field(default_factory=set)
    observations: frozenset[str] = frozenset()
    """The Bundle's Observations as ``Observation/<id>`` and by ``fullUrl`` (panel members)."""
    problems: list[FieldProblem] = field(default_factory=list)
    """Invalid values found while reading (an implausible date), raised by :meth:`finish`."""
    partial_dates: list[tuple[str, str, dt.date]] = field(default_factory=list)
    """Observations read with a partial date: reference, date as written, its last day."""

    def skip(self, resource: Json, reason: str, concept: Json | None = None) -> None:
        self.skipped.append(SkippedResource(_ref(resource), _code_text(concept), reason))

    def put(self, path: str, value: Any, origin: str) -> None:
        parts = path.split(".")
        node = self.data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        self.origins[path] = origin

    def append(self, path: str, value: Any, origin: str) -> None:
        parts = path.split(".")
        node = self.data
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        items = node.setdefault(parts[-1], [])
        self.origins[f"{path}[{len(items)}]"] = origin
        items.append(value)

    def unput(self, path: str) -> None:
        """Remove the value at ``path`` (and its origin), if one was put."""
        *parents, leaf = path.split(".")
        node: Any = self.data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
        self.origins.pop(path, None)

    def latest_wins(self, path: str, resource: Json, value: Any, unit: str = "") -> bool:
        """Whether ``resource`` is the one to keep for single-valued field ``path``.

        The later result is kept (by the moment when both give a time of day, else by date).
        Of two results of the same time, the first is kept when both give the same ``value``
        (in ``unit``); when their values differ, which one is current cannot be told, so both
        are refused, naming them (a problem raised by :meth:`finish`).
        """
        text = _effective_text(resource)
        date, at = _ordering_date(text), _instant(text)
        ref = _ref(resource)
        if path in self.chosen:
            old_date, old_at, old_ref, old_text, _ = self.chosen[path]
            if old_date is not None:
                if (
                    date is not None
                    and not _is_later(date, at, old_date, old_at)
                    and not _is_later(old_date, old_at, date, at)
                ):
                    return self._same_time(path, resource, value, unit)
                if not _is_later(date, at, old_date, old_at):
                    self.skip(resource, f"{path} is taken from the later {old_ref} ({old_text})")
                    return False
            self.conflicts.pop(path, None)  # a later result is current: the tie no longer counts
            self.skipped.append(
                SkippedResource(old_ref, None, f"{path} is taken from the later {ref}")
            )
        self.chosen[path] = (date, at, ref, text or "", value)
        return True

    def _same_time(self, path: str, resource: Json, value: Any, unit: str) -> bool:
        """Of two results for ``path`` at the same time, keep the first when they agree, else
        refuse them (see :meth:`latest_wins`); False: ``resource`` is not kept."""
        _, old_at, old_ref, old_text, old_value = self.chosen[path]
        text = _effective_text(resource) or ""
        at = _instant(text)
        same = "time" if at is not None and old_at is not None else "date"
        if _same_value(value, old_value, unit):
            self.skip(
                resource,
                f"{path} repeats the value of {old_ref}, of the same {same} ({old_text}); "
                f"{old_ref} is kept, the first of the two",
            )
            return False
        if same == "date":
            why, fix = " and no time of day tells which is later", "give each its time of day, or"
        else:
            why, fix = "", "correct the time of one, or"
        self.conflicts[path] = FieldProblem(
            f"{_ref(resource)}: {path}",
            f"{value} ({text})",
            f"{old_ref} gives {old_value} for the same {same} ({old_text}){why}, so which "
            f"result is current cannot be told; {fix} remove the one not to use",
        )
        return False

    # -- Patient ------------------------------------------------------------------------------
    def read_patient(self) -> None:
        p = self.patient
        local = self.codes.system("record_field")
        ident = next(
            (i["value"] for i in p.get("identifier") or [] if i.get("system") == local), None
        )
        self.put("patient.id", ident or p.get("id"), _ref(p))
        if p.get("gender"):
            self.put("patient.sex", p["gender"], _ref(p))

    # -- Conditions -----------------------------------------------------------------------------
    def _oncotree(self, condition: Json) -> str | None:
        table = self.codes.raw["oncotree"]
        concept = condition.get("code") or {}
        codings = _codings(concept)
        for c in codings:
            if c.get("system") == self.codes.system("oncotree") and c.get("code"):
                return str(c["code"])
        for c in codings:
            if c.get("system") == self.codes.system("snomed") and c.get("code") in table["snomed"]:
                return str(table["snomed"][c["code"]]["code"])
        for c in codings:
            if c.get("system") in self.codes.systems("icd10") and c.get("code"):
                code = str(c["code"])
                hits = [k for k in table["icd10"] if code.startswith(str(k))]
                if hits:
                    return str(table["icd10"][max(hits, key=len)])
        morphology, topography = self._icd_o3(condition)
        if morphology:
            site = (topography or "")[:3]
            for key in (f"{morphology} {site}", morphology):
                if key in table["icd_o3"]:
                    return str(table["icd_o3"][key])
        return None

    def _icd_o3(self, condition: Json) -> tuple[str | None, str | None]:
        icd_o3 = self.codes.system("icd_o3")
        hmb = self.codes.raw["mcode"]["histology_morphology_behavior"]
        concepts = [condition.get("code") or {}]
        concepts += [
            e.get("valueCodeableConcept") or {}
            for e in condition.get("extension") or []
            if e.get("url") == hmb
        ]
        morphology = next(
            (
                str(c["code"])
                for concept in concepts
                for c in _codings(concept)
                if c.get("system") == icd_o3 and re.match(r"^\d{4}/\d$", str(c.get("code")))
            ),
            None,
        )
        topography = next(
            (
                str(c["code"])
                for site in condition.get("bodySite") or []
                for c in _codings(site)
                if c.get("system") == icd_o3 and re.match(r"^C\d{2}(\.\d)?$", str(c.get("code")))
            ),
            None,
        )
        return morphology, topography

    def _category(self, condition: Json) -> str | None:
        local = self.codes.system("record_field")
        for concept in condition.get("category") or []:
            for c in _codings(concept):
                if c.get("system") == local:
                    return str(c.get("code"))
        return None

    def _is_cancer(self, condition: Json) -> bool:
        profiles = (condition.get("meta") or {}).get("profile") or []
        if self.codes.raw["mcode"]["primary_cancer_condition"] in profiles:
            return True
        if self._category(condition) == "disease" or self._oncotree(condition):
            return True
        if self._icd_o3(condition)[0]:
            return True
        return bool(_CANCER_WORDS.search(_concept_text(condition.get("code")) or ""))

    def read_conditions(self, conditions: list[Json]) -> None:
        secondary = self.codes.raw["mcode"]["secondary_cancer_condition"]
        primary: Json | None = None
        for c in conditions:
            concept = c.get("code")
            if c.get("verificationStatus") and any(
                x.get("code") in ("refuted", "entered-in-error")
                for x in _codings(c["verificationStatus"])
            ):
                self.skip(c, "verification status refuted/entered-in-error", concept)
                continue
            category = self._category(c)
            text = _concept_text(concept)
            if secondary in ((c.get("meta") or {}).get("profile") or []):
                self.skip(c, "secondary (metastatic) cancer condition; no record field", concept)
            elif category in ("comorbidity", "autoimmune"):
                path = (
                    "patient.comorbidities"
                    if category == "comorbidity"
                    else ("patient.autoimmune_diseases")
                )
                self.append(path, text, _ref(c))
            elif self._is_cancer(c):
                if primary is None:
                    primary = c
                else:
                    self.skip(
                        c,
                        f"a second cancer condition; the record holds one ({_ref(primary)})",
                        concept,
                    )
            elif text:
                self.append("patient.comorbidities", text, _ref(c))
            else:
                self.skip(c, "condition without code text or display", concept)
        if primary is not None:
            self.read_primary(primary)

    def read_primary(self, c: Json) -> None:
        origin = _ref(c)
        self.put("disease.diagnosis", _concept_text(c.get("code")), origin)
        code = self._oncotree(c)
        if code:
            self.put("disease.oncotree_code", code, origin)
        else:
            self.notes.append(
                f"{origin}: no OncoTree code found for {_code_text(c.get('code'))}; "
                "disease-specific thresholds will not apply until disease.oncotree_code is set"
            )
        morphology, topography = self._icd_o3(c)
        if morphology:
            self.put("disease.icd_o3_morphology", morphology, origin)
        if topography:
            self.put("disease.icd_o3_topography", topography, origin)
        onset = c.get("onsetDateTime")
        if onset and _partial_date(onset) is not None:
            self.notes.append(
                f"{origin}: onsetDateTime {onset!r} is a partial date; disease.diagnosis_date "
                "needs the day and is left empty"
            )
        elif onset:
            self.put("disease.diagnosis_date", str(onset)[:10], origin)
        for stage in c.get("stage") or []:
            text = _concept_text(stage.get("summary"))
            if text:
                self.put("disease.stage", text, origin)
                break
        for coding in _codings(c.get("clinicalStatus")):
            status = self.codes.raw["clinical_status"].get(coding.get("code"))
            if status:
                self.put("disease.status", status, origin)

    # -- Observations --------------------------------------------------------------------------
    def dated(self, resource: Json) -> bool:
        """Check the resource's effective time: False (with a problem naming the resource) for
        a date outside 1900-01-01 … tomorrow; a partial date (``2024``, ``2024-03``) is
        noted, as it orders by its first day."""
        source = _effective_source(resource)
        if source is None:
            return True
        key, text = source
        partial = _partial_date(text)
        first, last = partial if partial is not None else (_date(text),) * 2
        if first is None or last is None:
            return True
        problem = date_problem(first) if first > latest_date() else date_problem(last)
        if problem is not None:
            self.problems.append(FieldProblem(f"{_ref(resource)}: {key}", text, problem))
            return False
        if partial is not None:
            self.notes.append(
                f"{_ref(resource)}: {key} {text!r} is a partial date (FHIR allows a year, or "
                f"a year and month); it is ordered as its first day, {first.isoformat()}, and "
                "does not set collected_on"
            )
        return True

    def _match(self, concept: Json) -> tuple[str, Mapping[str, Any]] | None:
        match = next(
            (
                self.codes.by_code[key]
                for c in _codings(concept)
                if (key := (str(c.get("system")), str(c.get("code")))) in self.codes.by_code
            ),
            None,
        )
        return match if match is not None else self._local_prefixed(concept)

    def read_observation(self, obs: Json) -> None:
        concept = obs.get("code") or {}
        if obs.get("status") in _SKIP_STATUS:
            self.skip(obs, f"status {obs['status']}", concept)
            return
        match = self._match(concept)
        if match is None and obs.get("hasMember") and not obs.get("component"):
            self.skip_panel(obs)
            return
        if match is None and not obs.get("component"):
            self.skip(obs, "unknown code: no record field for it", concept)
            return
        if not self.dated(obs):  # only a date that is read is checked
            return
        if match is None:
            self.read_panel(obs)
            return
        self.read_matched(obs, match)

    def read_panel(self, panel: Json) -> None:
        """Read the components of a panel (a CBC with a lymphocyte count, …) whose codes map to a
        record field as Observations of their own, with the panel's status, subject and time;
        list the others as skipped."""
        read = 0
        for i, component in enumerate(panel["component"]):
            concept = component.get("code") or {}
            part: Json = {
                key: value
                for key, value in panel.items()
                if key in ("resourceType", "status", "subject", "issued")
                or key.startswith("effective")
            }
            part |= {k: v for k, v in component.items() if k != "code"}
            part |= {"id": f"{panel.get('id', '?')}.component[{i}]", "code": concept}
            match = self._match(concept)
            if match is None or match[0] == "structured":
                why = "unknown code" if match is None else "a structured value"
                self.skip(part, f"panel component with {why}: no record field for it", concept)
                continue
            read += 1
            self.read_matched(part, match)
        if any(k.startswith("value") for k in panel):
            self.skip(
                panel,
                "unknown code: no record field for the panel's own value (its components are "
                "read on their own)",
                panel.get("code"),
            )
        self.notes.append(
            f"{_ref(panel)}: panel {_concept_text(panel.get('code'))!r} read by its "
            f"components: {read} of {len(panel['component'])} have a record field"
        )

    def skip_panel(self, panel: Json) -> None:
        """A panel that lists its results as members (``hasMember``): the members are read as
        Observations of their own; those not in the Bundle are named."""
        members = [str((m or {}).get("reference")) for m in panel.get("hasMember") or []]
        missing = [m for m in members if m not in self.observations]
        reason = "panel: its members (hasMember) are read as Observations of their own"
        if missing:
            reason += f"; not in the Bundle, so not read: {', '.join(missing)}"
        self.skip(panel, reason, panel.get("code"))

    def read_matched(self, obs: Json, match: tuple[str, Mapping[str, Any]]) -> None:
        """Read an Observation whose code maps to a record field."""
        concept = obs.get("code") or {}
        kind, entry = match
        if kind == "quantities":
            self.read_quantity(obs, entry)
        elif (censored := _censored_reason(obs.get("valueQuantity"))) is not None:
            self.skip(obs, censored)
        elif kind == "coded":
            self.read_coded(obs, entry)
        else:
            self.read_structured(obs, entry, concept)

    def _local_prefixed(self, concept: Json) -> tuple[str, Mapping[str, Any]] | None:
        local = self.codes.system("record_field")
        structured = self.codes.raw["structured"]
        for c in _codings(concept):
            code = str(c.get("code"))
            if c.get("system") != local:
                continue
            for name in ("burden", "cytokine"):
                prefix = str(structured[name]["local"]) + "."
                if code.startswith(prefix):
                    return "structured", {
                        **structured[name],
                        "name": name,
                        "key": code[len(prefix) :],
                    }
        return None

    def _unit_conflict(self, quantity: Json | None, target: str) -> str | None:
        """Why a Quantity whose ``unit`` text and UCUM ``code`` name different units is not
        read (``unit: mg/L``, ``code: mg/dL`` is a tenfold error either way), or None."""
        if not quantity or quantity.get("value") is None or not target:
            return None
        text, code = quantity.get("unit"), quantity.get("code")
        if not text or not code or quantity.get("system") != self.codes.system("ucum"):
            return None
        try:  # each in the field's unit; display text that is no unit (words) is not compared
            by_text = convert(1.0, str(text), target)
            by_code = convert(1.0, ucum_to_unit(str(code), target=target), target)
        except UnitError:
            return None
        if abs(by_text - by_code) <= 1e-9 * max(abs(by_text), abs(by_code)):
            return None
        return (
            f"the Quantity's unit {text!r} and its UCUM code {code!r} name different units, so "
            "the value could be read either way; correct the one that is wrong"
        )

    def _value_text(self, obs: Json, unit: str) -> str | int | None:
        """The Observation's value as text with its unit (or an integer), or None if absent."""
        if "valueQuantity" in obs:
            q = obs["valueQuantity"]
            if q.get("value") is None:
                return None
            code = q.get("code") if q.get("system") == self.codes.system("ucum") else None
            given = ucum_to_unit(code, target=unit) if code else q.get("unit")
            number = (q.get("comparator") or "") + _number_text(q["value"])  # refused if "<5"
            if not given:
                # a measured field needs the unit; a score or count is a bare number
                return f"{number} (no unit)" if unit else number
            return f"{number} {given}"
        if "valueInteger" in obs:
            # a measured field needs the unit: platelets 250 could be 250 × 10^3/µL
            return f"{obs['valueInteger']} (no unit)" if unit else int(obs["valueInteger"])
        if "valueString" in obs:
            text = str(obs["valueString"])
            return f"{text.strip()} (no unit)" if unit and _BARE_NUMBER.match(text) else text
        return None

    def read_quantity(self, obs: Json, entry: Mapping[str, Any]) -> None:
        path, unit = str(entry["field"]), str(entry.get("unit") or "")
        censored = _censored_reason(obs.get("valueQuantity"))
        if censored is not None:
            # "<5 mg/L" read as 5 mg/L would be a value never measured; as the latest result it
            # also outdates an earlier value, so the field is left empty
            if self.latest_wins(path, obs, self._value_text(obs, unit), unit):
                self.unput(path)
                self.skip(obs, f"{censored}; {path} is left empty")
            return
        conflict = self._unit_conflict(obs.get("valueQuantity"), unit)
        if conflict is not None:
            quantity = obs["valueQuantity"]
            self.problems.append(
                FieldProblem(
                    f"{_ref(obs)}: {path}",
                    f"{_number_text(quantity['value'])} (unit {quantity['unit']!r}, "
                    f"code {quantity['code']!r})",
                    conflict,
                )
            )
            return
        value: Any = self._value_text(obs, unit)
        if value is None and path == "patient.ecog":
            answers = self.codes.raw["ecog_answers"]
            for c in _codings(obs.get("valueCodeableConcept")):
                if c.get("code") in answers:
                    value = int(answers[c["code"]])
        if value is None:
            absent = _concept_text(obs.get("dataAbsentReason"))
            other = next((k for k in obs if k.startswith("value")), None)
            reason = (
                f"its {other} is not read: {path} is read from valueQuantity, valueInteger or "
                "valueString"
                if other is not None
                else f"no value{f' (data absent: {absent})' if absent else ''}"
            )
            self.skip(obs, reason, obs.get("code"))
            return
        if not unit and "valueQuantity" in obs:
            value = obs["valueQuantity"].get("value")  # a score or count: the number itself
        if not self.latest_wins(path, obs, value, unit):
            return
        self.put(path, value, _ref(obs))
        date = _effective(obs)
        if date is not None:
            self.dates.append(date)
        elif (partial := _partial_date(_effective_text(obs))) is not None:
            self.partial_dates.append((_ref(obs), str(_effective_text(obs)), partial[1]))
        if path == "host.ldh":
            for rng in obs.get("referenceRange") or []:
                high = rng.get("high") or {}
                if high.get("value") is not None:
                    self.put(
                        "host.ldh_uln",
                        self._value_text({"valueQuantity": high}, "U/L"),
                        _ref(obs) + " referenceRange.high",
                    )
                    break

    def read_coded(self, obs: Json, entry: Mapping[str, Any]) -> None:
        path = str(entry["field"])
        concept = obs.get("valueCodeableConcept")
        if concept is None:
            raw = obs.get("valueString")
            concept = {"text": raw} if raw else None
        if concept is None:
            self.skip(obs, "no value", obs.get("code"))
            return
        systems = self.codes.raw["systems"]
        value = None
        for option in entry["values"]:
            system = systems.get(option.get("system", "record_field"))
            code = option.get("code", option["value"])
            if any(c.get("system") == system and c.get("code") == code for c in _codings(concept)):
                value = option["value"]
                break
        if value is None:
            shown = {str(_concept_text(concept)).lower()} | {
                str(c.get(k)).lower() for c in _codings(concept) for k in ("code", "display")
            }
            value = next(
                (
                    o["value"]
                    for o in entry["values"]
                    if {str(o["value"]).lower(), str(o.get("display", "")).lower()} & shown
                ),
                None,
            )
        if value is None:
            allowed = ", ".join(dict.fromkeys(str(o["value"]) for o in entry["values"]))
            self.skip(
                obs,
                f"value {_concept_text(concept)!r} has no {path} value (the record holds "
                f"{allowed})",
                obs.get("code"),
            )
            return
        if self.latest_wins(path, obs, value):
            self.put(path, value, _ref(obs))

    def read_structured(self, obs: Json, entry: Mapping[str, Any], concept: Json) -> None:
        name = entry["name"]
        origin = _ref(obs)
        comps = {
            str(c.get("code")): comp
            for comp in obs.get("component") or []
            for c in _codings(comp.get("code"))
        }
        if name == "variant":
            gene = _concept_text((comps.get("48018-6") or {}).get("valueCodeableConcept"))
            change = comps.get("48005-3") or {}
            alteration = _concept_text(change.get("valueCodeableConcept")) or change.get(
                "valueString"
            )
            if not gene or not alteration:
                self.skip(
                    obs,
                    "variant without gene studied (48018-6) or amino acid change (48005-3)",
                    concept,
                )
                return
            mutation: Json = {"gene": gene, "alteration": str(alteration).removeprefix("p.")}
            vaf = comps.get("81258-6")
            if vaf is not None:
                mutation["vaf"] = self._value_text(vaf, "%")
            self.append("tumor.driver_mutations", mutation, origin)
        elif name in ("stage_clinical", "stage_pathological"):
            text = _concept_text(obs.get("valueCodeableConcept")) or obs.get("valueString")
            if "stage" in self.data.get("disease", {}):
                self.skip(obs, "stage already given by the Condition", concept)
            elif text:
                self.put("disease.stage", text, origin)
        elif name == "density":
            marker = (comps.get("marker") or {}).get("valueString")
            region = (comps.get("region") or {}).get("valueString")
            density = {
                "marker": marker,
                "region": region,
                "density": self._value_text(obs, str(entry["unit"])),
            }
            self.append("microenvironment.densities", density, origin)
        elif name == "burden":
            self.read_burden(obs, str(entry["key"]))
        elif name == "cytokine":
            self.put(f"host.cytokines.{entry['key']}", self._value_text(obs, "pg/mL"), origin)
        elif name == "hla":
            self.append("patient.hla_type", obs.get("valueString"), origin)
        elif name == "histologic_grade":
            self.put("disease.histologic_grade", obs.get("valueString"), origin)
        elif name in ITEM_FIELDS:
            self.read_item(obs, name, concept)
        else:  # components of a variant read on their own
            self.skip(obs, "genomic component outside a variant Observation", concept)

    def _element(self, part: Json, unit: str | None) -> tuple[Any, str | None]:
        """The value of an Observation or component read for a list item's field, or None
        with why it cannot be read. ``unit`` is the field's record unit ('' for a number)."""
        if "valueQuantity" in part:
            quantity = part["valueQuantity"] or {}
            if (censored := _censored_reason(quantity)) is not None:
                return None, censored
            if quantity.get("value") is None:
                return None, "a valueQuantity without a value"
            if unit is not None and (conflict := self._unit_conflict(quantity, unit)):
                return None, conflict
            if unit:
                return self._value_text(part, unit), None
            return quantity.get("value"), None
        if "valueInteger" in part:
            return part["valueInteger"], None
        if "valueBoolean" in part:
            return part["valueBoolean"], None
        if "valueString" in part:
            return part["valueString"], None
        if "valueCodeableConcept" in part:
            concept = part["valueCodeableConcept"] or {}
            local = self.codes.system("record_field")
            code = next(
                (c.get("code") for c in _codings(concept) if c.get("system") == local), None
            )
            return (code if code is not None else _concept_text(concept)), None
        return None, "no value"

    def read_item(self, obs: Json, name: str, concept: Json) -> None:
        """Read one list item (an antigen, a hypoxia marker, a risk index, a day's toxicity
        findings) from an Observation whose components are its fields; an Observation that does
        not give a valid item is listed as skipped, with why."""
        spec = ITEM_FIELDS[name]
        fields = spec.model.model_fields
        local = self.codes.system("record_field")
        item: Json = {}
        value_keys = [k for k in obs if k.startswith("value")]
        if value_keys:
            if spec.value_field is None:
                self.skip(
                    obs,
                    f"its {value_keys[0]} is not read: {spec.path} is read from components",
                    concept,
                )
                return
            value, why = self._element(obs, spec.units.get(spec.value_field, ""))
            if why is not None:
                self.skip(obs, f"{spec.value_field}: {why}", concept)
                return
            item[spec.value_field] = value
        for i, component in enumerate(obs.get("component") or []):
            code = component.get("code") or {}
            key = next((c.get("code") for c in _codings(code) if c.get("system") == local), None)
            where = f"component[{i}]"
            if key is not None and key == spec.value_field:
                self.skip(
                    obs,
                    f"{where}: {key} is written as the Observation's value, not a component",
                    concept,
                )
                return
            if (
                key is None
                or key not in fields
                or key == spec.value_field
                or key in spec.not_components
            ):
                allowed = ", ".join(
                    f for f in fields if f != spec.value_field and f not in spec.not_components
                )
                shown = key if key is not None else _code_text(code)
                self.skip(
                    obs,
                    f"{where}: {shown!r} is no field of {spec.path}; its components are coded "
                    f"in {local} by field name: {allowed}",
                    concept,
                )
                return
            value, why = self._element(component, spec.units.get(key, ""))
            if why is not None:
                self.skip(obs, f"{where} ({key}): {why}", concept)
                return
            annotation = str(fields[key].annotation)
            if annotation.startswith("dict"):
                label = code.get("text")
                if not label:
                    self.skip(obs, f"{where} ({key}): the name belongs in code.text", concept)
                    return
                entries = item.setdefault(key, {})
                if label in entries:
                    self.skip(obs, f"{where} ({key}): {label!r} given twice", concept)
                    return
                entries[label] = value
            elif annotation.startswith("tuple"):
                signs = item.setdefault(key, [])
                if _NONE_FOUND in (value, *signs) and [*signs, value] != [_NONE_FOUND]:
                    self.skip(obs, f"{where} ({key}): {_NONE_FOUND!r} given with a sign", concept)
                    return
                signs.append(value)
            elif key in item:
                self.skip(obs, f"{where} ({key}): given twice", concept)
                return
            else:
                item[key] = value
        if "date" in fields and "date" in spec.not_components:
            text = _effective_text(obs)
            if text is not None:
                date = _effective(obs)
                if date is None:
                    self.skip(obs, f"the effective date {text!r} is not a full date", concept)
                    return
                item["date"] = date.isoformat()
        item = {  # "none" found: an empty list, as opposed to not assessed (no component)
            key: [] if value == [_NONE_FOUND] else value for key, value in item.items()
        }
        try:
            validate_model(spec.model, item, context=FROM_TEXT)
        except ValidationError as exc:
            reasons = "; ".join(_item_problem(p) for p in exc.problems)
            self.skip(obs, f"not a valid {spec.path} item: {reasons}", concept)
            return
        self.append(spec.path, item, _ref(obs))

    def read_burden(self, obs: Json, measure: str) -> None:
        date = _effective(obs)
        if date is None:
            text = _effective_text(obs)
            reason = (
                f"burden measurement with the partial date {text!r}; a burden measurement "
                "needs its day"
                if text
                else "burden measurement without effectiveDateTime"
            )
            self.skip(obs, reason, obs.get("code"))
            return
        burden = self.data.setdefault("disease", {}).setdefault("burden", [])
        for i, item in enumerate(burden):
            if item["date"] == date.isoformat():
                item[measure] = self._value_text(obs, "")
                self.origins[f"disease.burden[{i}].{measure}"] = _ref(obs)
                return
        self.origins[f"disease.burden[{len(burden)}]"] = _ref(obs)
        burden.append({"date": date.isoformat(), measure: self._value_text(obs, "")})

    # -- MedicationAdministration ---------------------------------------------------------------
    def read_medications(self, administrations: list[Json]) -> None:
        lines: dict[tuple[Any, ...], Json] = {}
        for m in administrations:
            if m.get("status") in _SKIP_STATUS:
                self.skip(m, f"status {m['status']}", m.get("medicationCodeableConcept"))
                continue
            name = _concept_text(m.get("medicationCodeableConcept")) or self._medication_name(m)
            if not name:
                reference = (m.get("medicationReference") or {}).get("reference")
                self.skip(
                    m,
                    "medication without a name (text or display)"
                    + (
                        f"; its medicationReference {reference!r} names no Medication in the "
                        "Bundle or contained in the resource"
                        if reference
                        else ""
                    ),
                )
                continue
            period = m.get("effectivePeriod") or {}
            start = _date(period.get("start") or m.get("effectiveDateTime"))
            end = _date(period.get("end") or m.get("effectiveDateTime"))
            partial = {
                which: text
                for which, text in (
                    ("start", period.get("start") or m.get("effectiveDateTime")),
                    ("end", period.get("end") or m.get("effectiveDateTime")),
                )
                if _partial_date(text) is not None
            }
            for text in dict.fromkeys(partial.values()):
                which = " and ".join(w for w, t in partial.items() if t == text)
                self.notes.append(
                    f"{_ref(m)}: {text!r} is a partial date; the therapy's {which} needs the "
                    "day and is left empty"
                )
            extras = {
                "therapy_class": _extension(m, "therapy-class"),
                "line": _extension(m, "therapy-line"),
                "best_response": _extension(m, "best-response"),
                "irae_grade": _extension(m, "irae-grade"),
            }
            key = (name, *extras.values())
            if key in lines:
                line = lines[key]
                self.notes.append(f"{_ref(m)} merged into the therapy line {name!r}")
                if start and (line["start"] is None or start.isoformat() < line["start"]):
                    line["start"] = start.isoformat()
                if end and (line["end"] is None or end.isoformat() > line["end"]):
                    line["end"] = end.isoformat()
                continue
            lines[key] = {
                "name": name,
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                **{k: v for k, v in extras.items() if v is not None},
            }
            self.origins[f"patient.prior_therapies[{len(lines) - 1}]"] = _ref(m)
        if lines:
            self.data.setdefault("patient", {})["prior_therapies"] = list(lines.values())

    def _medication_name(self, administration: Json) -> str | None:
        """The name of the medication a ``medicationReference`` points at: the referenced
        Medication's code (contained ``#id``, or in the Bundle), else the reference's display."""
        reference = administration.get("medicationReference") or {}
        target = reference.get("reference")
        medication: Json | None = None
        if isinstance(target, str) and target.startswith("#"):
            medication = next(
                (
                    c
                    for c in administration.get("contained") or []
                    if c.get("resourceType") == "Medication" and c.get("id") == target[1:]
                ),
                None,
            )
        elif isinstance(target, str):
            medication = self.medications.get(target) or self.medications.get(
                re.sub(r"/_history/[^/]+$", "", target)
            )
            if medication is not None:
                self.used_medications.add(id(medication))
        name = _concept_text((medication or {}).get("code"))
        return name or reference.get("display")

    # -- finishing -------------------------------------------------------------------------------
    # -- List -----------------------------------------------------------------------------------
    def read_lists(self, lists: list[Json]) -> None:
        """An empty List of prior therapies with ``emptyReason`` "nilknown" says there were none
        (without it, a Bundle without MedicationAdministrations leaves the history unrecorded).
        """
        local = self.codes.system("record_field")
        for r in lists:
            codings = _codings(r.get("code"))
            about = any(
                c.get("system") == local and c.get("code") == PRIOR_THERAPIES_CODE for c in codings
            )
            if not about:
                self.skip(r, "List resources are not read into the record", r.get("code"))
                continue
            nil_known = any(
                c.get("system") == NIL_KNOWN["system"] and c.get("code") == NIL_KNOWN["code"]
                for c in _codings(r.get("emptyReason"))
            )
            if r.get("entry") or not nil_known:
                self.skip(
                    r, "a List of prior therapies is read only empty, with emptyReason nilknown"
                )
                continue
            patient = self.data.setdefault("patient", {})
            if patient.get("prior_therapies"):
                self.skip(r, "says no prior therapy, but MedicationAdministrations are recorded")
                continue
            patient["prior_therapies"] = []
            self.origins["patient.prior_therapies"] = _ref(r)

    def finish(self, source: str | None) -> FhirImport:
        self.problems.extend(self.conflicts.values())
        collected = max(self.dates) if self.dates else None
        if collected is not None:
            self.data["collected_on"] = collected.isoformat()
        for ref, text, last in self.partial_dates:
            if collected is None or last > collected:
                self.notes.append(
                    f"{ref}: its partial date {text!r} may be later than collected_on "
                    f"({collected.isoformat() if collected else 'not set'}), which is taken "
                    "from full dates only"
                )
        patient = self.data.setdefault("patient", {})
        birth_text = self.patient.get("birthDate")
        birth = _date(birth_text)
        if birth is not None and (problem := date_problem(birth)) is not None:
            self.problems.append(
                FieldProblem(f"{_ref(self.patient)}: birthDate", birth_text, problem)
            )
        if "age" not in patient and _partial_date(birth_text) is not None:
            self.notes.append(
                f"age not set: birthDate {birth_text!r} is a partial date, which gives the age "
                "only to within a year"
            )
        if self.problems:
            raise ValidationError(self.problems, source=source)
        if "age" not in patient and birth is not None:
            if collected is None:
                self.notes.append(
                    "age not set: birthDate given but no dated Observation to compute the age at"
                )
            else:
                years = (
                    collected.year
                    - birth.year
                    - ((collected.month, collected.day) < (birth.month, birth.day))
                )
                self.put("patient.age", years, _ref(self.patient) + " birthDate")
                self.notes.append(f"age {years} years computed from birthDate at {collected}")
        if "disease" not in self.data or "diagnosis" not in self.data["disease"]:
            raise ValidationError(
                [
                    FieldProblem(
                        f"{_ref(self.patient)}: disease.diagnosis",
                        None,
                        "no cancer Condition refers to this patient; add the primary "
                        "cancer Condition (code text or a SNOMED/ICD-10/ICD-O-3 code)",
                    )
                ],
                source=source,
            )
        try:
            # a valueString is text; FROM_TEXT reads numeric text in it as a number
            record = validate_model(PatientRecord, self.data, source=source, context=FROM_TEXT)
        except ValidationError as exc:
            raise ValidationError([self._locate(p) for p in exc.problems], source=source) from None
        return FhirImport(record, tuple(self.skipped), tuple(self.notes))

    def _locate(self, problem: FieldProblem) -> FieldProblem:
        """Name the resource a problem's field was read from."""
        hits = [k for k in self.origins if problem.field == k or problem.field.startswith(k)]
        if not hits:
            return problem
        origin = self.origins[max(hits, key=len)]
        return FieldProblem(f"{origin}: {problem.field}", problem.value, problem.message)


# ---------------------------------------------------------------------------------------------
# bundle level


def _load(source: str | Path | Mapping[str, Any]) -> tuple[Json, str | None]:
    if isinstance(source, Mapping):
        return dict(source), None
    path = Path(source)
    problem = None
    if not path.is_file():
        problem = "no such file"
    elif (binary := binary_content(path)) is not None:
        problem = binary
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problem = f"is not valid JSON: {exc}"
    if problem is not None:
        raise ValidationError([FieldProblem("(file)", None, problem)], source=str(path))
    if not isinstance(data, dict):
        raise ValidationError(
            [FieldProblem("(file)", None, "must hold a FHIR Bundle (an object)")], source=str(path)
        )
    return data, str(path)


def _resource_type(data: Json, loc: tuple[Any, ...]) -> str | None:
    """The ``resourceType`` of the innermost resource on the path ``loc`` into ``data``."""
    node: Any = data
    found = data.get("resourceType")
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("resourceType"), str):
            found = node["resourceType"]
    return found if isinstance(found, str) else None


def _bundle_problems(exc: pydantic.ValidationError, data: Json) -> list[FieldProblem]:
    """The problems of a Bundle that does not validate, a JSON number where FHIR has a string
    (an ``id`` written ``12345``) named with its resource and the advice to quote it."""
    problems = field_problems(exc, Bundle)
    for i, error in enumerate(exc.errors(include_url=False)):
        value = error.get("input")
        if isinstance(value, str) and "Decimal value string does not match" in str(error["msg"]):
            # a decimal written as text the FHIR grammar refuses: '1,2', '12 mg/L', 'high'
            loc = tuple(error["loc"])
            name = str(loc[-1]) if loc else "value"
            resource = _resource_type(data, loc) or "resource"
            comma = re.fullmatch(r"\s*([-+]?\d+),(\d+)\s*", value)
            example = f"{comma[1]}.{comma[2]}" if comma else "12.5"
            problems[i] = FieldProblem(
                problems[i].field,
                value,
                f"the {resource}'s {name} is the text {json.dumps(value)}, not a number: FHIR "
                f'writes a decimal as a JSON number with a decimal point, e.g. "{name}": '
                f"{example} (no quotes, no unit: the unit goes in unit and code)",
            )
            continue
        if (
            error["type"] != "string_type"
            or isinstance(value, bool)
            or not isinstance(value, int | float)
        ):
            continue
        loc = tuple(error["loc"])
        name = str(loc[-1]) if loc else "value"
        resource = _resource_type(data, loc) or "resource"
        written = json.dumps(value)
        what = "FHIR ids are strings" if name == "id" else f"FHIR writes {name} as a string"
        problems[i] = FieldProblem(
            problems[i].field,
            value,
            f"the {resource}'s {name} is the JSON number {written}; {what}: write "
            f'"{name}": "{written}" (in quotes)',
        )
    return problems


def _validated(data: Json, source: str | None) -> Json:
    if data.get("resourceType") != "Bundle":
        raise ValidationError(
            [FieldProblem("resourceType", data.get("resourceType"), "expected 'Bundle'")],
            source=source,
        )
    try:
        bundle = Bundle.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(_bundle_problems(exc, data), source=source) from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # fhir.resources' own validators can fail on malformed values (e.g. a number where a
        # string is expected); the input is then as invalid as with a pydantic error
        raise ValidationError(
            [
                FieldProblem(
                    "(bundle)",
                    None,
                    f"is not a valid FHIR R4 Bundle (the validator failed: {exc})",
                )
            ],
            source=source,
        ) from None
    dumped: Json = bundle.model_dump(mode="json")
    return dumped


_PATIENT_REFERENCE = re.compile(r"(?:^|/)(Patient/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def _patient_key(reference: str | None, keys: Mapping[str, int]) -> str | None:
    """The key in ``keys`` (``Patient/<id>`` or a Patient's ``fullUrl``) that ``reference``
    names: as written, else without a ``/_history/<version>`` suffix, else by its trailing
    ``Patient/<id>`` (an absolute URL such as ``https://server/fhir/Patient/<id>``)."""
    if reference is None:
        return None
    if reference in keys:
        return reference
    unversioned = re.sub(r"/_history/[^/]+$", "", reference)
    if unversioned in keys:
        return unversioned
    match = _PATIENT_REFERENCE.search(reference)
    if match and match.group(1) in keys:
        return match.group(1)
    return None


def read_fhir_bundles(source: str | Path | Mapping[str, Any]) -> list[FhirImport]:
    """Read every patient of a FHIR R4 Bundle (mCODE or plain R4 resources) into records.

    Parameters
    ----------
    source
        A ``.json`` file holding a Bundle, or the Bundle as a mapping.

    Returns
    -------
    list of FhirImport
        One per Patient in the Bundle, in Bundle order: the record, the resources skipped with
        their reason, and notes on derived values.

    Raises
    ------
    ValidationError
        If the Bundle is not valid FHIR R4, or a value is invalid for its record field (the
        message names the resource, the field, the value and the expected unit or range).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> from immunoprecise.records.fhir import record_to_fhir
    >>> bundle = record_to_fhir(ip.read_patient(ip.data.example_path("crc_msih.json")))
    >>> [r.record.patient_id for r in read_fhir_bundles(bundle)]
    ['SYN-CRC-001']
    """
    data, source_name = _load(source)
    bundle = _validated(data, source_name)
    resources = [e["resource"] for e in bundle.get("entry") or [] if e.get("resource")]
    full_urls = {
        id(e["resource"]): e.get("fullUrl") for e in bundle.get("entry") or [] if e.get("resource")
    }
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        raise ValidationError(
            [FieldProblem("entry", None, "the Bundle has no Patient resource")], source=source_name
        )
    twice = repeated([str(p.get("id")) for p in patients])
    if twice:
        raise ValidationError(
            [
                FieldProblem(
                    "Patient.id",
                    pid,
                    "this id is on more than one Patient of the Bundle: resources referring to "
                    "it could belong to either; give each Patient its own id",
                )
                for pid in twice
            ],
            source=source_name,
        )
    keys: dict[str, int] = {}
    for i, p in enumerate(patients):
        keys[f"Patient/{p.get('id')}"] = i
        if full_urls.get(id(p)):
            keys[str(full_urls[id(p)])] = i
    medications: dict[str, Json] = {}
    for r in resources:
        if r.get("resourceType") == "Medication":
            medications[f"Medication/{r.get('id')}"] = r
            if full_urls.get(id(r)):
                medications[str(full_urls[id(r)])] = r
    observations = frozenset(
        ref
        for r in resources
        if r.get("resourceType") == "Observation"
        for ref in (f"Observation/{r.get('id')}", full_urls.get(id(r)))
        if ref
    )
    readers = [_Reader(p, medications=medications, observations=observations) for p in patients]
    grouped: list[dict[str, list[Json]]] = [{} for _ in patients]
    for r in resources:
        kind = r.get("resourceType")
        if kind in ("Patient", "Medication"):
            continue  # Medications are read through the administrations that refer to them
        subject = (r.get("subject") or r.get("patient") or {}).get("reference")
        owner_key = _patient_key(subject, keys)
        if owner_key is not None:
            owner = keys[owner_key]
        elif len(patients) == 1 and subject is None:
            owner = 0
        else:
            why = "refers to no Patient in the Bundle" if subject else "has no subject"
            readers[0].skipped.append(SkippedResource(_ref(r), None, why))
            continue
        grouped[owner].setdefault(str(kind), []).append(r)
    for reader, by_kind in zip(readers, grouped, strict=True):
        reader.read_patient()
        reader.read_conditions(by_kind.pop("Condition", []))
        for obs in by_kind.pop("Observation", []):
            reader.read_observation(obs)
        reader.read_medications(by_kind.pop("MedicationAdministration", []))
        reader.read_lists(by_kind.pop("List", []))
        for kind, items in by_kind.items():
            for r in items:
                reader.skip(r, f"{kind} resources are not read into the record")
    used = {m for reader in readers for m in reader.used_medications}
    for r in resources:
        if r.get("resourceType") == "Medication" and id(r) not in used:
            readers[0].skip(r, "Medication that no MedicationAdministration refers to")
    return [reader.finish(source_name) for reader in readers]


def read_fhir_bundle(source: str | Path | Mapping[str, Any]) -> FhirImport:
    """Read the one patient of a FHIR R4 Bundle into a record.

    Parameters
    ----------
    source
        A ``.json`` file holding a Bundle with exactly one Patient, or the Bundle as a mapping.

    Returns
    -------
    FhirImport
        ``.record`` (quantities converted to the record's units: e.g. CRP in mg/L),
        ``.skipped`` (resources without a record field, each with the reason) and ``.notes``.

    Raises
    ------
    ValidationError
        As :func:`read_fhir_bundles`, or if the Bundle holds more than one Patient.

    Examples
    --------
    >>> bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
    ...     {"resource": {"resourceType": "Patient", "id": "P1", "gender": "female"}},
    ...     {"resource": {"resourceType": "Condition", "id": "c1",
    ...                   "subject": {"reference": "Patient/P1"},
    ...                   "code": {"coding": [{"system": "http://snomed.info/sct",
    ...                                        "code": "363406005"}],
    ...                            "text": "Colon adenocarcinoma"}}},
    ...     {"resource": {"resourceType": "Observation", "id": "o1", "status": "final",
    ...                   "subject": {"reference": "Patient/P1"},
    ...                   "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
    ...                   "valueQuantity": {"value": 0.6, "unit": "mg/dL",
    ...                                     "system": "http://unitsofmeasure.org",
    ...                                     "code": "mg/dL"}}}]}
    >>> result = read_fhir_bundle(bundle)
    >>> result.record.host.crp, result.record.disease.oncotree_code
    (Quantity(value=6.0, unit='mg/L'), 'COAD')
    """
    results = read_fhir_bundles(source)
    if len(results) != 1:
        source_name = None if isinstance(source, Mapping) else str(source)
        raise ValidationError(
            [
                FieldProblem(
                    "entry",
                    None,
                    f"the Bundle holds {len(results)} patients; use read_fhir_bundles()",
                )
            ],
            source=source_name,
        )
    return results[0]
