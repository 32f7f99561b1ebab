"""Patient records: the data model, units, validation and readers.

Examples
--------
>>> from immunoprecise.records import PatientRecord
>>> record = {"patient": {"id": "P1"}, "disease": {"diagnosis": "FL"}}
>>> PatientRecord.model_validate(record).patient_id
'P1'
"""

from immunoprecise.records.cohort import Cohort, Outcome
from immunoprecise.records.disease import BurdenMeasurement, Disease, DiseaseStatus, RiskIndex
from immunoprecise.records.fhir import (
    FhirImport,
    SkippedResource,
    profile_to_fhir,
    read_fhir_bundle,
    read_fhir_bundles,
    record_to_fhir,
)
from immunoprecise.records.fields import FieldDoc, data_model_markdown, record_fields
from immunoprecise.records.host import BloodCounts, FlowSubsets, HostStatus
from immunoprecise.records.microenvironment import IHCDensity, Microenvironment, Region
from immunoprecise.records.patient import (
    BestResponse,
    Patient,
    PriorTherapy,
    Sex,
    ids_differing_in_case,
)
from immunoprecise.records.quantity import Measured, Quantity
from immunoprecise.records.readers import (
    read_bundle_file,
    read_cohort,
    read_patient,
    read_patients,
)
from immunoprecise.records.record import SCHEMA_VERSION, ExpressionReference, PatientRecord
from immunoprecise.records.table import column_catalogue, read_table
from immunoprecise.records.toxicity import (
    CerebralEdema,
    Consciousness,
    Hypotension,
    IcpSign,
    OxygenSupport,
    Seizure,
    ToxicityObservation,
)
from immunoprecise.records.tumor import (
    AntigenKind,
    DriverMutation,
    HypoxiaMarker,
    MHCExpression,
    MMRStatus,
    MSIStatus,
    Positivity,
    Tumor,
    TumorAntigen,
)
from immunoprecise.records.units import convert
from immunoprecise.records.validation import validate_model

__all__ = [
    "SCHEMA_VERSION",
    "AntigenKind",
    "BestResponse",
    "BloodCounts",
    "BurdenMeasurement",
    "CerebralEdema",
    "Cohort",
    "Consciousness",
    "Disease",
    "DiseaseStatus",
    "DriverMutation",
    "ExpressionReference",
    "FhirImport",
    "FieldDoc",
    "FlowSubsets",
    "HostStatus",
    "Hypotension",
    "HypoxiaMarker",
    "IHCDensity",
    "IcpSign",
    "MHCExpression",
    "MMRStatus",
    "MSIStatus",
    "Measured",
    "Microenvironment",
    "Outcome",
    "OxygenSupport",
    "Patient",
    "PatientRecord",
    "Positivity",
    "PriorTherapy",
    "Quantity",
    "Region",
    "RiskIndex",
    "Seizure",
    "Sex",
    "SkippedResource",
    "ToxicityObservation",
    "Tumor",
    "TumorAntigen",
    "column_catalogue",
    "convert",
    "data_model_markdown",
    "ids_differing_in_case",
    "profile_to_fhir",
    "read_bundle_file",
    "read_cohort",
    "read_fhir_bundle",
    "read_fhir_bundles",
    "read_patient",
    "read_patients",
    "read_table",
    "record_fields",
    "record_to_fhir",
    "validate_model",
]
