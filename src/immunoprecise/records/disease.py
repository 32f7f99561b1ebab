"""The disease: diagnosis and codes, stage, grade, risk indices and tumor burden over time."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from immunoprecise.errors import repeated
from immunoprecise.records.base import RecordModel
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.scalars import CalendarDate, Choice, Flag, OptionalWholeNumber

__all__ = ["BurdenMeasurement", "Disease", "DiseaseStatus", "RiskIndex"]

ONCOTREE_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"
"""The form of an OncoTree code (capitals, digits, ``_``; 2–16)."""
MORPHOLOGY_PATTERN = r"^\d{4}/[0-3,6,9]$"
"""The form of an ICD-O-3 morphology code (``8140/3``)."""
TOPOGRAPHY_PATTERN = r"^C\d{2}(\.\d)?$"
"""The form of an ICD-O-3 topography code (``C34.1``)."""

_CODES = {
    "oncotree_code": re.compile(ONCOTREE_PATTERN),
    "icd_o3_topography": re.compile(TOPOGRAPHY_PATTERN),
}


class DiseaseStatus(Choice):
    """Where the disease stands at evaluation."""

    newly_diagnosed = "newly_diagnosed"
    relapsed = "relapsed"
    refractory = "refractory"
    relapsed_refractory = "relapsed_refractory"
    remission = "remission"


class RiskIndex(RecordModel):
    """A clinical risk index, with its components as recorded (e.g. FLIPI, IPI, ISS)."""

    name: str = Field(min_length=1, description="Index name, e.g. 'FLIPI'.")
    score: OptionalWholeNumber = Field(default=None, ge=0, le=20, description="Points, if scored.")
    category: str | None = Field(default=None, description="Risk group, e.g. 'intermediate'.")
    components: dict[str, Flag] = Field(
        default_factory=dict,
        description="Component criteria met (true) or not (false), e.g. FLIPI "
        "{'age_over_60': true, 'stage_III_IV': true, 'hb_below_12_g_per_dL': false, "
        "'nodal_areas_over_4': false, 'ldh_above_uln': false}.",
    )


class BurdenMeasurement(RecordModel):
    """Tumor burden at one date, by any of the usual measures (at least one given)."""

    date: CalendarDate = Field(description="Date of the measurement (ISO 8601).")
    sum_of_diameters: Annotated[Quantity | None, Measured("mm", ge=0, le=5000)] = Field(
        default=None, description="RECIST 1.1 sum of target-lesion diameters"
    )
    spd: Annotated[Quantity | None, Measured("mm²", ge=0, le=1e6)] = Field(
        default=None, description="Lugano sum of the products of perpendicular diameters"
    )
    cell_count: Annotated[Quantity | None, Measured("cells", ge=0, le=1e14)] = Field(
        default=None, description="Estimated number of tumor cells"
    )
    marrow_blasts: Annotated[Quantity | None, Measured("%", ge=0, le=100)] = Field(
        default=None, description="Bone-marrow blasts"
    )
    m_protein: Annotated[Quantity | None, Measured("g/L", ge=0, le=200)] = Field(
        default=None, description="Serum monoclonal protein (paraprotein)"
    )

    @model_validator(mode="after")
    def _one_measure(self) -> BurdenMeasurement:
        measures = ("sum_of_diameters", "spd", "cell_count", "marrow_blasts", "m_protein")
        if all(getattr(self, m) is None for m in measures):
            raise ValueError(f"give at least one of {', '.join(measures)}")
        return self


class Disease(RecordModel):
    """Diagnosis, coding, stage, grade, risk indices and tumor burden over time."""

    diagnosis: str = Field(min_length=1, description="Diagnosis as written by the clinician.")
    oncotree_code: str | None = Field(
        default=None,
        pattern=ONCOTREE_PATTERN,
        description="OncoTree code, e.g. 'FL', 'SKCM', 'COAD', 'LUAD', 'PCM', 'BLL'.",
    )
    icd_o3_morphology: str | None = Field(
        default=None, pattern=MORPHOLOGY_PATTERN, description="ICD-O-3 morphology, e.g. '9690/3'."
    )
    icd_o3_topography: str | None = Field(
        default=None, pattern=TOPOGRAPHY_PATTERN, description="ICD-O-3 topography, e.g. 'C77.9'."
    )
    diagnosis_date: CalendarDate | None = None
    status: DiseaseStatus | None = None
    stage: str | None = Field(default=None, description="Stage as recorded, e.g. 'IIIA', 'IV'.")
    histologic_grade: str | None = Field(default=None, description="Grade, e.g. '1-2', '3A'.")
    risk_indices: tuple[RiskIndex, ...] = ()
    burden: tuple[BurdenMeasurement, ...] = Field(
        default=(), description="Tumor burden measurements, any order."
    )

    @field_validator("oncotree_code", "icd_o3_topography", mode="before")
    @classmethod
    def _codes_in_capitals(cls, value: object, info: ValidationInfo) -> object:
        """OncoTree and ICD-O-3 topography codes are written in capitals; 'luad' is 'LUAD' and
        'c34.1' is 'C34.1' (no code differs from another by letter case alone)."""
        if isinstance(value, str) and _CODES[str(info.field_name)].match(value.strip().upper()):
            return value.strip().upper()
        return value  # refused as written, with the form it should take

    @model_validator(mode="after")
    def _unique_burden_dates(self) -> Disease:
        dates = [b.date for b in self.burden]
        dupes = repeated(dates)
        if dupes:
            raise ValueError(f"burden has more than one measurement on {dupes[0]}; merge them")
        return self
