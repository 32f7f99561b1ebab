"""Daily toxicity observations after immune effector-cell therapy (CRS and ICANS findings).

One :class:`ToxicityObservation` holds the worst findings of one day of a patient's course after
an infusion of immune effector cells (CAR-T, TCR-T, …) or a T-cell engager: temperature, blood
pressure support, oxygen support and the neurological assessment. The fields are those that the
ASTCT consensus grading reads (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638,
doi:10.1016/j.bbmt.2018.12.758); :mod:`immunoprecise.safety` grades them.

Every field except ``day`` is optional, and a missing field is never read as normal: a finding
that was not assessed leaves the grade it would decide unknown.

Examples
--------
>>> obs = ToxicityObservation(day=2, temperature="101.5 °F", hypotension="no_vasopressor")
>>> obs.temperature
Quantity(value=38.61, unit='°C')
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.scalars import (
    CalendarDate,
    Choice,
    Flag,
    OptionalWholeNumber,
    WholeNumber,
)

__all__ = [
    "CerebralEdema",
    "Consciousness",
    "Hypotension",
    "IcpSign",
    "OxygenSupport",
    "Seizure",
    "ToxicityObservation",
]

# ASTCT: low-flow nasal cannula is oxygen at ≤ 6 L/min, high flow > 6 L/min (Lee 2019).
LOW_FLOW_MAX_L_PER_MIN = 6.0


class Hypotension(Choice):
    """Hypotension and the support it needs (ASTCT CRS grading, Lee 2019)."""

    none = "none"
    no_vasopressor = "no_vasopressor"
    """Hypotension not requiring vasopressors (fluids only) — CRS grade 2."""
    one_vasopressor = "one_vasopressor"
    """Requiring one vasopressor, with or without vasopressin — CRS grade 3."""
    multiple_vasopressors = "multiple_vasopressors"
    """Requiring multiple vasopressors (excluding vasopressin) — CRS grade 4."""


class OxygenSupport(Choice):
    """The oxygen support a patient needs for hypoxia (ASTCT CRS grading, Lee 2019).

    ``none`` also covers oxygen given for comfort only. ``nasal_cannula`` is graded by
    ``oxygen_flow`` (≤ 6 L/min low flow, > 6 L/min high flow).
    """

    none = "none"
    nasal_cannula = "nasal_cannula"
    blow_by = "blow_by"
    high_flow_nasal_cannula = "high_flow_nasal_cannula"
    facemask = "facemask"
    non_rebreather = "non_rebreather"
    venturi = "venturi"
    cpap = "cpap"
    bipap = "bipap"
    mechanical_ventilation = "mechanical_ventilation"


class Consciousness(Choice):
    """Depressed level of consciousness not attributable to another cause (ASTCT ICANS)."""

    alert = "alert"
    awakens_spontaneously = "awakens_spontaneously"
    awakens_to_voice = "awakens_to_voice"
    awakens_to_tactile_stimulus = "awakens_to_tactile_stimulus"
    unarousable = "unarousable"
    """Unarousable, or needs vigorous or repetitive tactile stimuli to arouse; stupor or coma."""


class Seizure(Choice):
    """Seizures (ASTCT ICANS)."""

    none = "none"
    rapidly_resolving = "rapidly_resolving"
    """Any clinical seizure, focal or generalized, that resolves rapidly, or non-convulsive
    seizures on EEG that resolve with intervention — ICANS grade 3."""
    life_threatening = "life_threatening"
    """Life-threatening prolonged seizure (> 5 min), or repetitive clinical or electrical
    seizures without return to baseline in between — ICANS grade 4."""


class CerebralEdema(Choice):
    """Cerebral edema on neuroimaging (ASTCT ICANS; intracranial haemorrhage is excluded)."""

    none = "none"
    focal = "focal"
    """Focal/local edema on neuroimaging — ICANS grade 3."""
    diffuse = "diffuse"
    """Diffuse cerebral edema on neuroimaging — ICANS grade 4."""


class IcpSign(Choice):
    """Clinical signs of raised intracranial pressure that make ICANS grade 4 (ASTCT)."""

    posturing = "posturing"
    """Decerebrate or decorticate posturing."""
    cranial_nerve_vi_palsy = "cranial_nerve_vi_palsy"
    papilledema = "papilledema"
    cushings_triad = "cushings_triad"


CytokineLevel = Annotated[Quantity, Measured("pg/mL", ge=0, le=1e6)]


class ToxicityObservation(RecordModel):
    """The worst CRS and ICANS findings of one day after immune effector-cell therapy.

    Findings should be those not attributable to another cause (ASTCT). A field left out was not
    assessed; it never counts as a normal finding.
    """

    day: WholeNumber = Field(
        ge=-30,
        le=365,
        description="Days since the effector-cell infusion (day 0); negative before it.",
    )
    date: CalendarDate | None = Field(default=None, description="Calendar date of the observation.")
    temperature: Annotated[Quantity | None, Measured("°C", ge=30, le=45)] = Field(
        default=None, description="Highest body temperature of the day"
    )
    fever_treated: Flag | None = Field(
        default=None,
        description="Antipyretic or anti-cytokine therapy (e.g. tocilizumab, steroids) given "
        "for CRS that day.",
    )
    hypotension: Hypotension | None = Field(
        default=None, description="Hypotension and the support it needs."
    )
    oxygen: OxygenSupport | None = Field(
        default=None, description="Oxygen support needed for hypoxia ('none': room air)."
    )
    oxygen_flow: Annotated[Quantity | None, Measured("L/min", ge=0, le=80)] = Field(
        default=None, description="Oxygen flow (decides low vs high flow for a nasal cannula)"
    )
    ice_score: OptionalWholeNumber = Field(
        default=None,
        ge=0,
        le=10,
        description="Immune effector cell-associated encephalopathy (ICE) score, 0–10 "
        "(patients older than 12 years).",
    )
    capd_score: OptionalWholeNumber = Field(
        default=None,
        ge=0,
        le=32,
        description="Cornell Assessment of Pediatric Delirium (CAPD) score, 0–32 (children "
        "aged 12 years or younger).",
    )
    capd_unable: Flag | None = Field(
        default=None, description="The child was unable to perform the CAPD assessment."
    )
    consciousness: Consciousness | None = Field(default=None, description="Level of consciousness.")
    seizure: Seizure | None = Field(default=None, description="Seizures.")
    motor_weakness: Flag | None = Field(
        default=None,
        description="Deep focal motor weakness such as hemiparesis or paraparesis.",
    )
    cerebral_edema: CerebralEdema | None = Field(
        default=None, description="Cerebral edema on neuroimaging."
    )
    icp_signs: tuple[IcpSign, ...] | None = Field(
        default=None,
        description="Clinical signs of raised intracranial pressure (empty list: none found).",
    )
    cytokines: dict[str, CytokineLevel] = Field(
        default_factory=dict,
        description="Serum cytokines measured that day by name, e.g. {'MCP1': 1500}.",
    )

    @field_validator("temperature")
    @classmethod
    def _round_temperature(cls, value: Quantity | None) -> Quantity | None:
        # °F → °C leaves float noise (100.4 °F → 37.99999999999877 °C), which would move a
        # reading off the 38.0 °C fever threshold; temperatures are kept to 0.01 °C.
        if value is None:
            return None
        return Quantity(value=round(value.value, 2), unit=value.unit)

    @field_validator("cytokines")
    @classmethod
    def _cytokine_names(cls, value: dict[str, Quantity]) -> dict[str, Quantity]:
        return {name.strip().upper().replace("-", ""): q for name, q in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> ToxicityObservation:
        flow = self.oxygen_flow.value if self.oxygen_flow is not None else None
        if (
            self.oxygen is OxygenSupport.high_flow_nasal_cannula
            and flow is not None
            and flow <= LOW_FLOW_MAX_L_PER_MIN
        ):
            raise ValueError(
                f"oxygen_flow {flow:g} L/min is low flow (≤ 6 L/min, ASTCT); write oxygen "
                "'nasal_cannula' for it, or correct the flow"
            )
        if self.capd_unable and self.capd_score is not None:
            raise ValueError("capd_score is given but capd_unable is true; give one of them")
        return self
