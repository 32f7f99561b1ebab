"""Import patient files into the registry: every record of a call in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from immunoprecise.records import PatientRecord, read_patients
from immunoprecise.records.readers import TABLE_SUFFIXES
from immunoprecise.registry.models import AuditAction, ImportReport
from immunoprecise.registry.store import Registry, _Added, _BatchItem

__all__ = ["import_file", "import_files"]


def file_items(path: Path, records: Sequence[PatientRecord] | None = None) -> list[_BatchItem]:
    """One file's records as batch items labelled by file and row: ``records`` as already read
    from ``path``, else read and validated here."""
    if records is None:
        records = read_patients(path)
    table = path.suffix.lower() in TABLE_SUFFIXES
    items = []
    for i, record in enumerate(records):
        # tables: row 1 is the header line, so record i is on row i + 2 (as the reader counts)
        where = f"row {i + 2}" if table else "record"
        label = f"{path}: {where} ({record.patient_id})"
        items.append(_BatchItem(label, record, path.name))
    return items


def import_files(
    registry: Registry, paths: Sequence[str | Path], *, actor: str
) -> list[ImportReport]:
    """Import patient files (JSON, YAML, CSV, TSV, Excel) in one transaction.

    Every file is read and validated first; then all records are stored together, or none
    when any fails. A record identical to its patient's latest version is not stored again, so
    importing the same file twice changes nothing.

    Parameters
    ----------
    registry
        An open registry.
    paths
        The files; see :func:`immunoprecise.read_patients`.
    actor
        Who imports (recorded on each version and in the audit log).

    Returns
    -------
    list of ImportReport
        One per file, in order.

    Raises
    ------
    ValidationError
        If a file is missing or any cell or field is invalid (row, patient and column are named);
        nothing is stored.
    RegistryError
        If the database refuses a record (the file and row are named); nothing is stored.

    Examples
    --------
    >>> import tempfile, pathlib, immunoprecise as ip
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'registry.db'}"
    >>> with Registry.open(url, create=True) as registry:
    ...     first = import_files(registry, [ip.data.example_path("fl_cohort.csv")], actor="ann")
    ...     again = import_files(registry, [ip.data.example_path("fl_cohort.csv")], actor="ann")
    >>> print(first[0].summary().split(": ")[1], "|", again[0].summary().split(": ")[1])
    200 rows, 200 new, 0 updated, 0 unchanged | 200 rows, 0 new, 0 updated, 200 unchanged
    """
    files = [Path(p) for p in paths]
    batches = [file_items(path) for path in files]
    added = registry._add_batch([item for batch in batches for item in batch], actor=actor)
    return reports_of(files, batches, added)


def reports_of(
    files: Sequence[Path], batches: Sequence[Sequence[_BatchItem]], added: Sequence[_Added]
) -> list[ImportReport]:
    """The import report of each file from the versions its records gave (in batch order)."""
    reports = []
    start = 0
    for path, batch in zip(files, batches, strict=True):
        mine = added[start : start + len(batch)]
        start += len(batch)
        actions = [a.action for a in mine]
        reports.append(
            ImportReport(
                source=str(path),
                rows=len(batch),
                created=actions.count(AuditAction.create),
                updated=actions.count(AuditAction.update),
                unchanged=actions.count(AuditAction.unchanged),
                patient_ids=tuple(a.version.patient_id for a in mine),
            )
        )
    return reports


def import_file(registry: Registry, path: str | Path, *, actor: str) -> ImportReport:
    """Import one patient file in one transaction; see :func:`import_files`.

    Parameters
    ----------
    registry
        An open registry.
    path
        A JSON/YAML record or a CSV/TSV/Excel table.
    actor
        Who imports.

    Returns
    -------
    ImportReport
    """
    return import_files(registry, [path], actor=actor)[0]
