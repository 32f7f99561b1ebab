"""FHIR R4 / mCODE exchange: read records from Bundles, write records and profiles as Bundles.

Examples
--------
>>> import immunoprecise as ip
>>> record = ip.read_patient(ip.data.example_path("melanoma_braf.json"))
>>> read_fhir_bundle(record_to_fhir(record)).record.tumor.tmb
Quantity(value=12.0, unit='mut/Mb')
"""

from immunoprecise.records.fhir_export import (
    RESEARCH_USE_TAG,
    patient_reference,
    profile_to_fhir,
    record_to_fhir,
)
from immunoprecise.records.fhir_import import (
    FhirCodes,
    FhirImport,
    SkippedResource,
    fhir_codes,
    read_fhir_bundle,
    read_fhir_bundles,
    ucum_to_unit,
)

__all__ = [
    "RESEARCH_USE_TAG",
    "FhirCodes",
    "FhirImport",
    "SkippedResource",
    "fhir_codes",
    "patient_reference",
    "profile_to_fhir",
    "read_fhir_bundle",
    "read_fhir_bundles",
    "record_to_fhir",
    "ucum_to_unit",
]
