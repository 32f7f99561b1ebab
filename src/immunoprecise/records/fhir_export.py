"""Write patient records and immune profiles as FHIR R4 Bundles.

:func:`record_to_fhir` writes a record's own data (Patient, the primary cancer Condition,
Observations, MedicationAdministrations) so that :func:`~immunoprecise.records.fhir_import.
read_fhir_bundle` reads the same record back for the fields the mapping covers (``docs/fhir.md``).
:func:`profile_to_fhir` writes an :class:`~immunoprecise.profile.ImmuneProfile`'s assessed values
as Observations with their method, formula and references, each with the research-use
disclaimer as a note and the Bundle tagged research use only in its ``meta``.
"""

from __future__ import annotations

import enum
import re
import uuid
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.bundle import Bundle

from immunoprecise.disclaimer import DISCLAIMER
from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records.base import RecordModel
from immunoprecise.records.fhir_import import (
    ITEM_FIELDS,
    NIL_KNOWN,
    PRIOR_THERAPIES_CODE,
    FhirCodes,
    fhir_codes,
)
from immunoprecise.records.quantity import Quantity
from immunoprecise.records.record import PatientRecord

if TYPE_CHECKING:  # the profile stage depends on records, not the reverse
    from immunoprecise.profile.immune_profile import ImmuneProfile

__all__ = [
    "RESEARCH_USE_TAG",
    "full_url",
    "patient_reference",
    "profile_to_fhir",
    "record_to_fhir",
]

Json = dict[str, Any]


class _NoneFound(enum.Enum):
    none = "none"


_NONE_FOUND = _NoneFound.none
"""Written for a list field recorded as empty (no sign found), as opposed to not assessed."""
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _fhir_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:64]


RESEARCH_USE_TAG: dict[str, str] = {
    "system": "https://immunoprecise.org/fhir/CodeSystem/output-use",
    "code": "research-use-only",
    "display": "Research use only: research decision support, not a medical device",
}
"""The ``meta.tag`` of a Bundle :func:`profile_to_fhir` writes. FHIR has no standard code for
"research use only, not a medical device", so the code is in the project's own namespace."""

# a relative literal reference (FHIR R4 references.html#literal): Type/id[/_history/version]
_RELATIVE_REFERENCE = re.compile(
    r"^(?P<type>[A-Za-z]+)/(?P<id>[^/]*)(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


def patient_reference(patient_id: str) -> str:
    """The relative reference ``Patient/<id>`` to the Patient :func:`record_to_fhir` writes
    for a record with this patient id.

    A record's id may hold ``_``, which a FHIR id may not: it is written as ``-`` (the Patient
    keeps the original in an ``identifier``), and so is it here.

    Parameters
    ----------
    patient_id
        The record's ``patient.id``.

    Returns
    -------
    str
        E.g. ``"Patient/SYN-CRC-001"``, for the ``patient_reference`` of
        :func:`profile_to_fhir`.

    Examples
    --------
    >>> patient_reference("SYN_CRC_01")
    'Patient/SYN-CRC-01'
    """
    return f"Patient/{_fhir_id(patient_id)}"


def _checked_reference(reference: str) -> str:
    """``reference`` if FHIR reads it as a reference, else a ValidationError naming it."""
    if not isinstance(reference, str) or not reference.strip():
        raise ValidationError(
            [
                FieldProblem(
                    "patient_reference",
                    reference,
                    "expected a FHIR reference such as 'Patient/SYN-CRC-001' "
                    "(patient_reference(record.patient.id) writes it)",
                )
            ]
        )
    if reference.startswith(("urn:", "#")) or "://" in reference:
        return reference  # a urn:uuid, a contained resource or an absolute URL
    match = _RELATIVE_REFERENCE.fullmatch(reference)
    if match is None or not _FHIR_ID.fullmatch(match["id"]):
        kind, _, rest = reference.partition("/")
        example = f"{kind}/{_fhir_id(rest)}" if rest and "/" not in rest else "Patient/P-001"
        raise ValidationError(
            [
                FieldProblem(
                    "patient_reference",
                    reference,
                    "expected Type/id with a FHIR id (letters, digits, '-' and '.', at most 64), "
                    f"e.g. {example!r}: patient_reference(record.patient.id) writes the "
                    "reference of the Patient record_to_fhir writes ('_' as '-')",
                )
            ]
        )
    return reference


_URN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://immunoprecise.org/fhir/")


def full_url(resource_type: str, resource_id: str) -> str:
    """The absolute ``fullUrl`` of a written resource: ``urn:uuid:<uuid>``, as FHIR requires
    for the entries of a Bundle without a server base. The uuid is derived from the resource
    type and id, so writing the same record twice gives the same Bundle.

    Examples
    --------
    >>> full_url("Patient", "P1").startswith("urn:uuid:")
    True
    """
    return f"urn:uuid:{uuid.uuid5(_URN_NAMESPACE, f'{resource_type}/{resource_id}')}"


def _quantity(q: Quantity, codes: FhirCodes) -> Json:
    out: Json = {"value": q.value, "unit": q.unit}
    ucum = codes.raw["ucum"].get(q.unit)
    if ucum is not None:
        out |= {"system": codes.system("ucum"), "code": ucum}
    return out


def _field(record: PatientRecord, path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        node = getattr(node, part)
    return node


def _validated(bundle: Json) -> Json:
    dumped: Json = Bundle.model_validate(bundle).model_dump(mode="json")
    return dumped


class _Writer:
    """Builds the resources of one record."""

    def __init__(self, record: PatientRecord) -> None:
        self.record = record
        self.codes = fhir_codes()
        self.pid = _fhir_id(record.patient.id)
        self.subject = {"reference": full_url("Patient", self.pid)}
        self.resources: list[Json] = []

    def local(self, code: str, display: str | None = None) -> Json:
        coding: Json = {"system": self.codes.system("record_field"), "code": code}
        if display:
            coding["display"] = display
        return coding

    def code_of(self, entry: Any) -> Json:
        if entry.get("loinc"):
            coding = {
                "system": self.codes.system("loinc"),
                "code": str(entry["loinc"][0]),
                "display": str(entry["display"]),
            }
        else:
            coding = self.local(str(entry["local"]), str(entry["display"]))
        return {"coding": [coding], "text": str(entry["display"])}

    def extension(self, name: str, kind: str, value: Any) -> Json:
        return {"url": self.codes.raw["systems"]["extension_base"] + name, kind: value}

    def observation(self, code: Json, value: Json, *, undated: bool = False, **extra: Any) -> None:
        obs: Json = {
            "resourceType": "Observation",
            "id": f"{self.pid[:48]}-o{len(self.resources)}",
            "status": "final",
            "code": code,
            "subject": self.subject,
            **value,
            **extra,
        }
        if not undated and "effectiveDateTime" not in obs and self.record.collected_on is not None:
            obs["effectiveDateTime"] = self.record.collected_on.isoformat()
        self.resources.append(obs)

    # -- sections --------------------------------------------------------------------------------
    def patient(self) -> None:
        p = self.record.patient
        resource: Json = {"resourceType": "Patient", "id": self.pid}
        if self.pid != p.id:
            resource["identifier"] = [{"system": self.codes.system("record_field"), "value": p.id}]
        if p.sex is not None:
            resource["gender"] = p.sex.value
        self.resources.append(resource)

    def condition(self) -> None:
        d = self.record.disease
        codings: list[Json] = []
        if d.oncotree_code:
            codings.append({"system": self.codes.system("oncotree"), "code": d.oncotree_code})
        resource: Json = {
            "resourceType": "Condition",
            "id": f"{self.pid[:54]}-disease",
            "category": [{"coding": [self.local("disease", "Primary cancer")]}],
            "code": {"coding": codings, "text": d.diagnosis} if codings else {"text": d.diagnosis},
            "subject": self.subject,
        }
        icd_o3 = self.codes.system("icd_o3")
        if d.icd_o3_morphology:
            resource["extension"] = [
                {
                    "url": self.codes.raw["mcode"]["histology_morphology_behavior"],
                    "valueCodeableConcept": {
                        "coding": [{"system": icd_o3, "code": d.icd_o3_morphology}]
                    },
                }
            ]
        if d.icd_o3_topography:
            resource["bodySite"] = [{"coding": [{"system": icd_o3, "code": d.icd_o3_topography}]}]
        if d.diagnosis_date:
            resource["onsetDateTime"] = d.diagnosis_date.isoformat()
        if d.stage:
            resource["stage"] = [{"summary": {"text": d.stage}}]
        if d.status is not None:
            clinical = self.codes.raw["clinical_status_export"][d.status.value]
            resource["clinicalStatus"] = {
                "coding": [{"system": self.codes.system("condition_clinical"), "code": clinical}]
            }
        self.resources.append(resource)
        for kind, items in (
            ("comorbidity", self.record.patient.comorbidities),
            ("autoimmune", self.record.patient.autoimmune_diseases),
        ):
            for i, text in enumerate(items):
                self.resources.append(
                    {
                        "resourceType": "Condition",
                        "id": f"{self.pid[:48]}-{kind[:4]}{i}",
                        "category": [{"coding": [self.local(kind)]}],
                        "code": {"text": text},
                        "subject": self.subject,
                    }
                )

    def quantities(self) -> None:
        for entry in self.codes.raw["quantities"]:
            path = str(entry["field"])
            value = _field(self.record, path)
            if value is None or (path == "host.ldh_uln" and self.record.host.ldh is not None):
                continue
            extra: Json = {}
            if isinstance(value, Quantity):
                body: Json = {"valueQuantity": _quantity(value, self.codes)}
            elif isinstance(value, int):
                body = {"valueInteger": value}
            else:
                body = {"valueQuantity": {"value": value}}
            if path == "host.ldh" and self.record.host.ldh_uln is not None:
                extra["referenceRange"] = [
                    {"high": _quantity(self.record.host.ldh_uln, self.codes)}
                ]
            self.observation(self.code_of(entry), body, **extra)

    def coded(self) -> None:
        systems = self.codes.raw["systems"]
        for entry in self.codes.raw["coded"]:
            value = _field(self.record, str(entry["field"]))
            if value is None:
                continue
            options = [o for o in entry["values"] if o["value"] == value.value]
            codings = [
                {
                    "system": systems[o.get("system", "record_field")],
                    "code": str(o.get("code", o["value"])),
                    **({"display": str(o["display"])} if o.get("display") else {}),
                }
                for o in options
            ]
            self.observation(
                self.code_of(entry),
                {"valueCodeableConcept": {"coding": codings, "text": str(value.value)}},
            )

    def structured(self) -> None:
        s = self.codes.raw["structured"]
        loinc = self.codes.system("loinc")

        def comp(name: str, value: Json) -> Json:
            return {
                "code": {
                    "coding": [
                        {"system": loinc, "code": s[name]["loinc"], "display": s[name]["display"]}
                    ]
                },
                **value,
            }

        for m in self.record.tumor.driver_mutations:
            components = [
                comp("gene_studied", {"valueCodeableConcept": {"text": m.gene}}),
                comp("amino_acid_change", {"valueCodeableConcept": {"text": m.alteration}}),
            ]
            if m.vaf is not None:
                components.append(comp("vaf", {"valueQuantity": _quantity(m.vaf, self.codes)}))
            self.observation(
                {
                    "coding": [
                        {
                            "system": loinc,
                            "code": s["variant"]["loinc"],
                            "display": s["variant"]["display"],
                        }
                    ]
                },
                {"valueCodeableConcept": {"text": "present"}},
                component=components,
            )
        for d in self.record.microenvironment.densities:
            self.observation(
                {"coding": [self.local(s["density"]["local"], s["density"]["display"])]},
                {"valueQuantity": _quantity(d.density, self.codes)},
                component=[
                    {"code": {"coding": [self.local("marker")]}, "valueString": d.marker},
                    {"code": {"coding": [self.local("region")]}, "valueString": d.region.value},
                ],
            )
        for b in self.record.disease.burden:
            for measure in ("sum_of_diameters", "spd", "cell_count", "marrow_blasts", "m_protein"):
                q = getattr(b, measure)
                if q is not None:
                    self.observation(
                        {"coding": [self.local(f"{s['burden']['local']}.{measure}")]},
                        {"valueQuantity": _quantity(q, self.codes)},
                        effectiveDateTime=b.date.isoformat(),
                    )
        for name, q in self.record.host.cytokines.items():
            self.observation(
                {"coding": [self.local(f"{s['cytokine']['local']}.{name}")], "text": name},
                {"valueQuantity": _quantity(q, self.codes)},
            )
        for allele in self.record.patient.hla_type:
            self.observation(
                {"coding": [self.local(s["hla"]["local"], s["hla"]["display"])]},
                {"valueString": allele},
            )
        if self.record.disease.histologic_grade:
            self.observation(
                {"coding": [self.local(s["histologic_grade"]["local"])]},
                {"valueString": self.record.disease.histologic_grade},
            )

    def element(self, value: Any) -> Json:
        """A record value as the ``value[x]`` of an Observation or component."""
        if isinstance(value, Quantity):
            return {"valueQuantity": _quantity(value, self.codes)}
        if isinstance(value, bool):
            return {"valueBoolean": value}
        if isinstance(value, int):
            return {"valueInteger": value}
        if isinstance(value, float):
            return {"valueQuantity": {"value": value}}
        if isinstance(value, enum.Enum):
            code = str(value.value)
            return {"valueCodeableConcept": {"coding": [self.local(code)], "text": code}}
        return {"valueString": str(value)}

    def item(self, name: str, item: RecordModel, **extra: Any) -> None:
        """Write one list item (an antigen, a hypoxia marker, a risk index, a day's toxicity
        findings) as an Observation whose components are its fields, each coded by its field
        name; the field ``ITEM_FIELDS`` names as the value is the Observation's value."""
        entry = self.codes.raw["structured"][name]
        value_field = ITEM_FIELDS[name].value_field
        body: Json = {}
        components: list[Json] = []
        for field, value in item:
            if value is None or field in ITEM_FIELDS[name].not_components:
                continue
            if field == value_field:
                body = self.element(value)
            elif isinstance(value, dict):  # criteria met, cytokines: the key as the code text
                components.extend(
                    {"code": {"coding": [self.local(field)], "text": key}, **self.element(v)}
                    for key, v in value.items()
                )
            elif isinstance(value, tuple):  # signs found; none found is written as "none"
                components.extend(
                    {"code": {"coding": [self.local(field)]}, **self.element(v)}
                    for v in value or (_NONE_FOUND,)
                )
            else:
                components.append({"code": {"coding": [self.local(field)]}, **self.element(value)})
        code = {"coding": [self.local(str(entry["local"]), str(entry["display"]))]}
        self.observation(code, body, component=components, **extra)

    def items(self) -> None:
        for antigen in self.record.tumor.antigens:
            self.item("antigen", antigen)
        for marker in self.record.tumor.hypoxia:
            self.item("hypoxia", marker)
        for index in self.record.disease.risk_indices:
            self.item("risk_index", index)
        for day in self.record.toxicity:
            if day.date is not None:
                self.item("toxicity", day, effectiveDateTime=day.date.isoformat())
            else:  # not dated: no effective time (collected_on is not that day's date)
                self.item("toxicity", day, undated=True)

    def therapies(self) -> None:
        therapies = self.record.patient.prior_therapies
        if therapies is not None and not therapies:
            # none, as opposed to not recorded (no resource at all)
            self.resources.append(
                {
                    "resourceType": "List",
                    "id": f"{self.pid[:48]}-prior-therapies",
                    "status": "current",
                    "mode": "snapshot",
                    "title": "Prior therapies",
                    "code": {"coding": [self.local(PRIOR_THERAPIES_CODE, "Prior therapies")]},
                    "subject": self.subject,
                    "emptyReason": {"coding": [NIL_KNOWN]},
                }
            )
        for i, t in enumerate(therapies or ()):
            period: Json = {}
            if t.start:
                period["start"] = t.start.isoformat()
            if t.end:
                period["end"] = t.end.isoformat()
            if not period:
                period["extension"] = [
                    {
                        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                        "valueCode": "unknown",
                    }
                ]
            extensions = []
            if t.therapy_class:
                extensions.append(self.extension("therapy-class", "valueString", t.therapy_class))
            if t.line is not None:
                extensions.append(self.extension("therapy-line", "valueInteger", t.line))
            if t.best_response is not None:
                extensions.append(
                    self.extension("best-response", "valueCode", t.best_response.value)
                )
            if t.irae_grade is not None:
                extensions.append(self.extension("irae-grade", "valueInteger", t.irae_grade))
            resource: Json = {
                "resourceType": "MedicationAdministration",
                "id": f"{self.pid[:48]}-m{i}",
                "status": "completed",
                "medicationCodeableConcept": {"text": t.name},
                "subject": self.subject,
                "effectivePeriod": period,
            }
            if extensions:
                resource["extension"] = extensions
            self.resources.append(resource)


def record_to_fhir(record: PatientRecord) -> Json:
    """Write a patient record as a FHIR R4 ``collection`` Bundle.

    LOINC/SNOMED/ICD-O-3 codes are used where ``fhir_codes.yaml`` has one; other record fields
    carry a code of ``https://immunoprecise.org/fhir/CodeSystem/record-field``. Quantities are
    written in the record's units with their UCUM code. Measurements are dated
    ``record.collected_on``; burden measurements and toxicity days by their own dates. Each
    antigen, hypoxia marker, risk index and toxicity day is one Observation with its fields as
    components (``docs/fhir.md``).

    Parameters
    ----------
    record
        A validated patient record.

    Returns
    -------
    dict
        The Bundle as JSON-ready data, validated with ``fhir.resources`` (R4B models).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> bundle = record_to_fhir(ip.read_patient(ip.data.example_path("melanoma_braf.json")))
    >>> bundle["entry"][0]["resource"]["resourceType"], bundle["type"]
    ('Patient', 'collection')
    """
    writer = _Writer(record)
    writer.patient()
    writer.condition()
    writer.quantities()
    writer.coded()
    writer.structured()
    writer.items()
    writer.therapies()
    return _validated(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": full_url(r["resourceType"], r["id"]), "resource": r}
                for r in writer.resources
            ],
        }
    )


def _profile_value_observation(
    key: str, value: Any, patient_reference: str, index: int, codes: FhirCodes
) -> Json:
    coding = [{"system": codes.system("profile_value"), "code": key, "display": value.label}]
    field = codes.raw["profile_codes"].get(key)
    entry = codes.by_field.get(field) if field else None
    if entry is not None and entry.get("loinc"):
        coding.append(
            {
                "system": codes.system("loinc"),
                "code": str(entry["loinc"][0]),
                "display": str(entry["display"]),
            }
        )
    obs: Json = {
        "resourceType": "Observation",
        "id": f"profile-{index}",
        "status": "final",
        "category": [{"text": "immune profile"}],
        "code": {"coding": coding, "text": value.label},
        "subject": {"reference": patient_reference},
    }
    v = value.value
    if isinstance(v, bool):
        obs["valueBoolean"] = v
    elif isinstance(v, int | float):
        q: Json = {"value": v}
        if value.unit:
            q["unit"] = value.unit
            ucum = codes.raw["ucum"].get(value.unit)
            if ucum is not None:
                q |= {"system": codes.system("ucum"), "code": ucum}
        obs["valueQuantity"] = q
    else:
        obs["valueString"] = str(v)
    if value.category:
        obs["interpretation"] = [{"text": str(value.category)}]
    notes = [f"Method: {value.method}"]
    if value.formula:
        notes.append(f"Formula: {value.formula}")
    if value.interpretation:
        notes.append(f"Interpretation: {value.interpretation}")
    if value.inputs:
        notes.append("Inputs: " + ", ".join(value.inputs))
    notes += [f"Reference: {c.text}" for c in value.references]
    notes.append(DISCLAIMER)  # each Observation may be read without its Bundle
    obs["note"] = [{"text": n} for n in notes]
    return obs


def profile_to_fhir(profile: ImmuneProfile, *, patient_reference: str) -> Json:
    """Write the assessed values of an immune profile as a FHIR R4 Bundle of Observations.

    Each value is an Observation coded with its profile key in
    ``https://immunoprecise.org/fhir/CodeSystem/profile-value`` (plus the LOINC code where the
    value is a recorded measurement with one, e.g. TMB 94076-7); numbers as ``valueQuantity``
    with the UCUM unit, categories as ``interpretation`` text, and the method, formula, inputs
    and references as notes. Values that could not be assessed are left out.

    The output is research decision support, not a medical device, and says so where a FHIR
    consumer sees it: every Observation's last ``note`` is the research-use disclaimer
    (:data:`immunoprecise.evaluation.DISCLAIMER`, the text the JSON, HTML, PDF and table
    outputs carry), and the Bundle's ``meta.tag`` holds :data:`RESEARCH_USE_TAG`
    (``https://immunoprecise.org/fhir/CodeSystem/output-use#research-use-only``).

    Parameters
    ----------
    profile
        The profile, from :func:`immunoprecise.profile`.
    patient_reference
        The reference the Observations' ``subject`` points at, e.g. ``"Patient/SYN-CRC-001"``
        (:func:`patient_reference` gives that of the Patient :func:`record_to_fhir` writes), a
        ``urn:uuid:`` or an absolute URL.

    Returns
    -------
    dict
        A ``collection`` Bundle as JSON-ready data, validated with ``fhir.resources``.

    Raises
    ------
    ValidationError
        If ``patient_reference`` is not a FHIR reference: a relative one whose id is not a FHIR
        id (``Patient/SYN_CRC_01``: ``_`` is not allowed; write ``Patient/SYN-CRC-01``).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> p = ip.profile(ip.read_patient(ip.data.example_path("crc_msih.json")))
    >>> bundle = profile_to_fhir(p, patient_reference="Patient/SYN-CRC-001")
    >>> tmb = next(e["resource"] for e in bundle["entry"]
    ...            if e["resource"]["code"]["coding"][0]["code"] == "tmb")
    >>> tmb["code"]["coding"][1]["code"], tmb["valueQuantity"]["value"]
    ('94076-7', 45.0)
    >>> tmb["note"][-1]["text"].startswith("immunoprecise is research decision support")
    True
    >>> bundle["meta"]["tag"][0]["code"]
    'research-use-only'
    """
    patient_reference = _checked_reference(patient_reference)
    codes = fhir_codes()
    entries = [
        _profile_value_observation(key, value, patient_reference, i, codes)
        for i, (key, value) in enumerate(profile.values.items())
        if value.status == "assessed" and value.value is not None
    ]
    return _validated(
        {
            "resourceType": "Bundle",
            "meta": {"tag": [dict(RESEARCH_USE_TAG)]},
            "type": "collection",
            "entry": [
                {
                    "fullUrl": full_url("Observation", f"{patient_reference}/{r['id']}"),
                    "resource": r,
                }
                for r in entries
            ],
        }
    )
