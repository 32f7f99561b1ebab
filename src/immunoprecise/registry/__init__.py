"""The registry: patient records (versioned), evaluations and results in a database, audited.

SQLite by default (``~/.local/share/immunoprecise/registry.db``, or ``$XDG_DATA_HOME``), any
SQLAlchemy URL (PostgreSQL) through ``url`` or ``$IMMUNOPRECISE_DB``. The schema is managed with
Alembic migrations shipped in the package (:func:`upgrade`, :func:`downgrade`).

Examples
--------
>>> import tempfile, pathlib, immunoprecise as ip
>>> from immunoprecise.registry import Registry
>>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
>>> with Registry.open(url, create=True) as registry:
...     record = ip.read_patient(ip.data.example_path("crc_msih.json"))
...     v1 = registry.add_record(record, actor="ann")
...     [e.action.value for e in registry.audit(patient_id=v1.patient_id)]
['create']
"""

from immunoprecise.errors import RegistryError
from immunoprecise.registry.cohorts import COHORT_KIND, cohort_names, import_cohort, load_cohort
from immunoprecise.registry.connection import DB_ENV_VAR, default_url, resolve_url
from immunoprecise.registry.exporting import export_fhir
from immunoprecise.registry.importing import import_file, import_files, record_files
from immunoprecise.registry.migrate import current_revision, downgrade, head_revision, upgrade
from immunoprecise.registry.models import (
    AuditAction,
    AuditEntry,
    AuditPage,
    AuditQuery,
    EvaluationPage,
    ImportReport,
    RecordVersion,
    StoredEvaluation,
    StoredEvaluationError,
    StoredRecordError,
    StoredResult,
    VersionSummary,
)
from immunoprecise.registry.store import Registry, canonical_json, record_sha256

__all__ = [
    "COHORT_KIND",
    "DB_ENV_VAR",
    "AuditAction",
    "AuditEntry",
    "AuditPage",
    "AuditQuery",
    "EvaluationPage",
    "ImportReport",
    "RecordVersion",
    "Registry",
    "RegistryError",
    "StoredEvaluation",
    "StoredEvaluationError",
    "StoredRecordError",
    "StoredResult",
    "VersionSummary",
    "canonical_json",
    "cohort_names",
    "current_revision",
    "default_url",
    "downgrade",
    "export_fhir",
    "head_revision",
    "import_cohort",
    "import_file",
    "import_files",
    "load_cohort",
    "record_files",
    "record_sha256",
    "resolve_url",
    "upgrade",
]
