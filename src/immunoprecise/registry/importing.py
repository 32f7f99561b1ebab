"""Import patient files into the registry: every record of a call in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records import PatientRecord, read_patients
from immunoprecise.records.readers import TABLE_SUFFIXES, binary_content
from immunoprecise.records.validation import validate_model
from immunoprecise.registry.models import AuditAction, ImportReport
from immunoprecise.registry.store import Registry, _Added, _BatchItem

__all__ = ["import_file", "import_files"]


EXPORT_SUFFIX = ".jsonl"
"""The suffix of a registry export (``db export``): one record's canonical JSON per line."""


def read_export(path: Path) -> tuple[list[PatientRecord], list[int]]:
    """The records of a registry export (``.jsonl``) and the line each is on.

    Each record is taken as stored (its paths are not resolved again), so importing an export
    gives the same SHA-256 as the registry it came from."""

    def refuse(where: str, message: str) -> ValidationError:
        return ValidationError([FieldProblem(where, None, message)], source=str(path))

    if not path.is_file():
        raise refuse("(file)", "no such file")
    problem = binary_content(path)
    if problem is not None:
        raise refuse("(file)", problem)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse("(file)", f"is not UTF-8 text (byte {exc.start})") from None
    records: list[PatientRecord] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise refuse(f"line {number}", f"is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise refuse(f"line {number}", f"must hold one record (an object), not {data!r:.40}")
        records.append(validate_model(PatientRecord, data, source=f"{path}: line {number}"))
        lines.append(number)
    if not records:
        raise refuse("(file)", "is empty: a registry export holds one record per line")
    return records, lines


def file_items(path: Path, records: Sequence[PatientRecord] | None = None) -> list[_BatchItem]:
    """One file's records as batch items labelled by file and row: ``records`` as already read
    from ``path``, else read and validated here (a ``.jsonl`` registry export line by line)."""
    lines: list[int] | None = None
    if records is None and path.suffix.lower() == EXPORT_SUFFIX:
        records, lines = read_export(path)
    elif records is None:
        try:
            records = read_patients(path)
        except ValidationError as exc:
            if exc.source:
                raise
            # a FHIR bundle's problems come without the file: name it among several files
            raise ValidationError(exc.problems, source=str(path)) from None
    table = path.suffix.lower() in TABLE_SUFFIXES
    items = []
    for i, record in enumerate(records):
        # tables: row 1 is the header line, so record i is on row i + 2 (as the reader counts)
        where = f"row {i + 2}" if table else f"line {lines[i]}" if lines else "record"
        label = f"{path}: {where} ({record.patient_id})"
        items.append(_BatchItem(label, record, path.name))
    return items


def import_files(
    registry: Registry, paths: Sequence[str | Path], *, actor: str
) -> list[ImportReport]:
    """Import patient files (JSON, YAML, CSV, TSV, Excel, or a ``.jsonl`` registry export) in one
    transaction.

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
        A JSON/YAML record, a CSV/TSV/Excel table or a ``.jsonl`` registry export.
    actor
        Who imports.

    Returns
    -------
    ImportReport
    """
    return import_files(registry, [path], actor=actor)[0]
