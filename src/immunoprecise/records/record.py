"""The patient record: everything a personalized immune evaluation starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal, get_args

from pydantic import Field, PrivateAttr, field_validator

from immunoprecise.errors import repeated
from immunoprecise.records.base import RecordModel
from immunoprecise.records.disease import Disease
from immunoprecise.records.host import HostStatus
from immunoprecise.records.microenvironment import Microenvironment
from immunoprecise.records.patient import Patient
from immunoprecise.records.scalars import CalendarDate, Identifier, canonical_choice
from immunoprecise.records.toxicity import ToxicityObservation
from immunoprecise.records.tumor import Tumor

__all__ = ["SCHEMA_VERSION", "ExpressionReference", "PatientRecord"]

SCHEMA_VERSION: Final = "1.0"

ExpressionUnits = Literal["counts", "tpm", "log2tpm"]


class ExpressionReference(RecordModel):
    """Where the patient's tumor expression profile is (the matrix itself stays in its file)."""

    path: str = Field(min_length=1, description="Matrix file (TSV/CSV(.gz) or AnnData .h5ad).")
    sample_id: Identifier = Field(min_length=1, description="Column (sample) of this patient.")
    units: ExpressionUnits | None = Field(
        default=None, description="Scale of the values, if known."
    )

    @field_validator("units", mode="before")
    @classmethod
    def _units_any_case(cls, value: Any) -> Any:
        # "TPM" is "tpm"; an unknown scale is refused by the Literal with the allowed values
        if isinstance(value, str):
            return canonical_choice(value, get_args(ExpressionUnits)) or value
        return value


class PatientRecord(RecordModel):
    """One patient's record: patient, disease, tumor, microenvironment, host, expression.

    Sections other than ``patient`` and ``disease`` may be left out; a missing value stays missing
    (it is never imputed) and the evaluation names it as not assessable.

    Examples
    --------
    >>> record = PatientRecord.model_validate({
    ...     "patient": {"id": "P001", "age": 64},
    ...     "disease": {"diagnosis": "Colorectal adenocarcinoma", "oncotree_code": "COAD"},
    ...     "tumor": {"msi_status": "MSI-H"},
    ...     "host": {"crp": "0.8 mg/dL"},
    ... })
    >>> record.host.crp
    Quantity(value=8.0, unit='mg/L')
    """

    schema_version: Literal["1.0"] = Field(
        default=SCHEMA_VERSION, description="Version of this record format."
    )
    collected_on: CalendarDate | None = Field(
        default=None, description="Date the evaluated samples and measurements were taken."
    )
    patient: Patient
    disease: Disease
    tumor: Tumor = Field(default_factory=Tumor)
    microenvironment: Microenvironment = Field(default_factory=Microenvironment)
    host: HostStatus = Field(default_factory=HostStatus)
    expression: ExpressionReference | None = None
    toxicity: tuple[ToxicityObservation, ...] = Field(
        default=(),
        description="Daily CRS/ICANS observations after immune effector-cell therapy, one per "
        "day (the worst findings of that day), graded by immunoprecise.safety.",
    )
    _source_dir: Path | None = PrivateAttr(default=None)

    @field_validator("toxicity")
    @classmethod
    def _one_observation_per_day(
        cls, observations: tuple[ToxicityObservation, ...]
    ) -> tuple[ToxicityObservation, ...]:
        days = [o.day for o in observations]
        twice = repeated(days)
        if twice:
            raise ValueError(
                f"more than one observation for day {', '.join(map(str, twice))}; record "
                "one observation per day with the worst findings of that day"
            )
        return tuple(sorted(observations, key=lambda o: o.day))

    def __eq__(self, other: object) -> bool:
        # the record's content only: where it was read from does not make it another record
        return isinstance(other, PatientRecord) and self.__dict__ == other.__dict__

    __hash__ = RecordModel.__hash__

    @property
    def source_dir(self) -> Path | None:
        """Folder of the file the record was read from (``None`` when built in memory); relative
        file references such as ``expression.path`` are resolved against it."""
        return self._source_dir

    def read_from(self, folder: str | Path | None) -> PatientRecord:
        """Remember the folder the record was read from (returns the same record)."""
        self._source_dir = None if folder is None else Path(folder)
        return self

    @property
    def patient_id(self) -> str:
        """The pseudonymous patient identifier."""
        return self.patient.id
