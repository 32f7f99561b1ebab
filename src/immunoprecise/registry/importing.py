"""Import patient files into the registry: every record of a call in one transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records import PatientRecord, read_patients
from immunoprecise.records.readers import (
    DOCUMENT_SUFFIXES,
    TABLE_SUFFIXES,
    binary_content,
    read_bundle_file,
)
from immunoprecise.records.table import EXCEL_SUFFIXES
from immunoprecise.records.validation import validate_model
from immunoprecise.registry.models import AuditAction, ImportReport
from immunoprecise.registry.store import Registry, _Added, _BatchItem

__all__ = ["RECORD_SUFFIXES", "import_file", "import_files", "record_files"]


EXPORT_SUFFIX = ".jsonl"
"""The suffix of a registry export (``db export``): one record's canonical JSON per line."""

RECORD_SUFFIXES = frozenset(DOCUMENT_SUFFIXES | TABLE_SUFFIXES | {EXPORT_SUFFIX})
"""The files a folder import takes: records (JSON, YAML), tables (CSV, TSV, Excel) and
registry exports (``.jsonl``)."""


def _file_error(path: Path, message: str) -> ValidationError:
    return ValidationError([FieldProblem("(file)", None, message)], source=str(path))


def _hidden(name: str) -> bool:
    """Hidden files and folders (``.name``) and office lock files (``~$name.xlsx``)."""
    return name.startswith((".", "~$"))


def record_files(folder: str | Path, *, recursive: bool = False) -> tuple[list[Path], list[Path]]:
    """The record files in a folder, in a fixed order, and the other files it holds.

    A record file is one whose suffix (any case) is in :data:`RECORD_SUFFIXES`; hidden files
    (``.name``) and office lock files (``~$name.xlsx``) are neither. Files are ordered by their
    path within the folder, compared by code point (``B.json`` before ``a.json``, ``p10.json``
    before ``p2.json``), so that the same folder is always imported in the same order.

    Parameters
    ----------
    folder
        The folder.
    recursive
        Also look in its sub-folders (not hidden ones; links to folders are not followed).

    Returns
    -------
    tuple of (list of Path, list of Path)
        The record files, and the other (ignored) files, both in that order.

    Raises
    ------
    ValidationError
        If ``folder`` is not a folder or cannot be listed.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> files, others = record_files(ip.data.example_path("crc_msih.json").parent)
    >>> [f.name for f in files][:3]
    ['ball_cd19.json', 'crc_msih.json', 'expression_examples.tsv']
    """
    root = Path(folder)
    if not root.is_dir():
        raise _file_error(root, "is not a folder")
    found: list[tuple[tuple[str, ...], Path]] = []
    problems: list[OSError] = []
    for top, folders, names in os.walk(root, onerror=problems.append):
        folders[:] = sorted(f for f in folders if recursive and not _hidden(f))
        for name in names:
            if not _hidden(name):
                path = Path(top) / name
                found.append((path.relative_to(root).parts, path))
    if problems:
        error = problems[0]
        raise _file_error(
            Path(error.filename or root), f"cannot be listed: {error.strerror or error}"
        )
    ordered = [path for _, path in sorted(found)]
    files = [p for p in ordered if p.suffix.lower() in RECORD_SUFFIXES]
    others = [p for p in ordered if p.suffix.lower() not in RECORD_SUFFIXES]
    return files, others


def expand_folders(
    paths: Sequence[str | Path], *, recursive: bool = False, ignored: list[Path] | None = None
) -> list[Path]:
    """The files to import: each file as given, each folder's record files (see
    :func:`record_files`) in its place; a file named twice is imported once, where it first
    appears. The folders' other files are appended to ``ignored`` when it is given.

    Raises
    ------
    ValidationError
        If a folder holds no record file.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside, others = record_files(path, recursive=recursive)
            if ignored is not None:
                ignored += others
            if not inside:
                kinds = ", ".join(sorted(RECORD_SUFFIXES))
                raise _file_error(path, f"holds no record file ({kinds})")
        else:
            inside = [path]
        for file in inside:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def read_export(path: Path) -> tuple[list[PatientRecord], list[int]]:
    """The records of a registry export (``.jsonl``) and the line each is on.

    Each record is taken as stored (its paths are not resolved again), so importing an export
    gives the same SHA-256 as the registry it came from. Every bad line (not JSON, not an
    object, or an invalid record) is named at once, with its invalid fields, in one
    :class:`~immunoprecise.errors.ValidationError`."""

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
    problems: list[FieldProblem] = []  # every bad line, so that all can be fixed at once
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(FieldProblem(where, None, f"is not valid JSON: {exc.msg}"))
            continue
        if not isinstance(data, dict):
            message = f"must hold one record (an object), not {data!r:.40}"
            problems.append(FieldProblem(where, None, message))
            continue
        try:
            records.append(validate_model(PatientRecord, data, source=f"{path}: {where}"))
        except ValidationError as exc:
            problems.extend(
                FieldProblem(f"{where}: {p.field}", p.value, p.message) for p in exc.problems
            )
            continue
        lines.append(number)
    if problems:
        raise ValidationError(problems, source=str(path))
    if not records:
        raise refuse("(file)", "is empty: a registry export holds one record per line")
    return records, lines


def _read_bundle(path: Path) -> tuple[list[PatientRecord], list[tuple[str, ...]]] | None:
    """The records of a ``.json`` FHIR Bundle, each with what reading it left out (resources
    without a record field, named with their code and the reason) and its notes, so that the
    import report lists them; None for any other file."""
    bundle = read_bundle_file(path)
    if bundle is None:
        return None
    records = [imported.record for imported in bundle]
    notes = [imported.report for imported in bundle]
    return records, notes


def file_items(
    path: Path,
    records: Sequence[PatientRecord] | None = None,
    *,
    sheet: str | int | None = None,
) -> list[_BatchItem]:
    """One file's records as batch items labelled by file and row: ``records`` as already read
    from ``path``, else read and validated here (a ``.jsonl`` registry export line by line;
    ``sheet`` of a workbook)."""
    lines: list[int] | None = None
    notes: list[tuple[str, ...]] | None = None
    try:
        if records is None and path.suffix.lower() == EXPORT_SUFFIX:
            records, lines = read_export(path)
        elif records is None and (bundle := _read_bundle(path)) is not None:
            records, notes = bundle
        elif records is None:
            records = read_patients(path, sheet=sheet)
    except OSError as exc:  # unreadable: no permission, an I/O error of the disk
        raise _file_error(path, f"cannot be read: {exc.strerror or exc}") from None
    table = path.suffix.lower() in TABLE_SUFFIXES
    items = []
    for i, record in enumerate(records):
        # tables: row 1 is the header line, so record i is on row i + 2 (as the reader counts)
        where = f"row {i + 2}" if table else f"line {lines[i]}" if lines else "record"
        label = f"{path}: {where} ({record.patient_id})"
        items.append(_BatchItem(label, record, path.name, notes[i] if notes else ()))
    return items


def import_files(
    registry: Registry,
    paths: Sequence[str | Path],
    *,
    actor: str,
    recursive: bool = False,
    progress: Callable[[int, int, Path], None] | None = None,
    sheet: str | int | None = None,
    stored: Callable[[int, int], None] | None = None,
) -> list[ImportReport]:
    """Import patient files (JSON, YAML, CSV, TSV, Excel, or a ``.jsonl`` registry export) and
    folders of them in one transaction.

    A folder stands for its record files (:func:`record_files`), in code-point order of their
    names. Every file is read and validated first; then all records are stored together, or
    none when any fails. A record identical to its patient's latest version is not stored
    again, so importing the same files twice changes nothing. Records of one patient in
    several files become consecutive versions, in the order the files are imported.

    Parameters
    ----------
    registry
        An open registry.
    paths
        Files and folders; see :func:`immunoprecise.read_patients`.
    actor
        Who imports (recorded on each version and in the audit log).
    recursive
        Also import the record files in the folders' sub-folders.
    progress
        Called as ``progress(done, total, path)`` after each file is read (``done`` files of
        ``total``), before anything is stored.
    sheet
        The sheet (name, or 0-based position) to read from each Excel workbook among the
        files; needed for a workbook with more than one sheet of data. Refused when no file is
        a workbook.
    stored
        Called as ``stored(done, total)`` as the records are stored, a few hundred at a time
        (``done`` records of ``total``, over all the files), before the transaction commits.

    Returns
    -------
    list of ImportReport
        One per file, in the order imported.

    Raises
    ------
    ValidationError
        If a file is missing or unreadable, a folder holds no record file, or any cell or field
        is invalid (file, row, patient and column are named; every bad file is listed);
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
    files = expand_folders(paths, recursive=recursive)
    if sheet is not None and not any(f.suffix.lower() in EXCEL_SUFFIXES for f in files):
        raise ValidationError(
            [
                FieldProblem(
                    "sheet", str(sheet), "is for Excel workbooks, and none of the files is one"
                )
            ],
            source=", ".join(str(f) for f in files[:3]) + (", ..." if len(files) > 3 else ""),
        )
    batches: list[list[_BatchItem]] = []
    failed: list[ValidationError] = []
    for done, path in enumerate(files, start=1):
        workbook = path.suffix.lower() in EXCEL_SUFFIXES
        try:
            batches.append(file_items(path, sheet=sheet if workbook else None))
        except ValidationError as exc:
            failed.append(exc)
        if progress is not None:
            progress(done, len(files), path)
    if len(failed) == 1:
        raise failed[0]
    if failed:  # every bad file at once, so that all can be fixed before the next try
        problems = [
            FieldProblem(f"{exc.source}: {p.field}" if exc.source else p.field, p.value, p.message)
            for exc in failed
            for p in exc.problems
        ]
        names = ", ".join(str(exc.source) for exc in failed)
        raise ValidationError(problems, source=f"{len(failed)} of {len(files)} files ({names})")
    items = [item for batch in batches for item in batch]
    added = registry._add_batch(items, actor=actor, stored=stored)
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
                notes=tuple(note for item in batch for note in item.notes),
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
        A JSON/YAML record, a CSV/TSV/Excel table or a ``.jsonl`` registry export (a folder:
        use :func:`import_files`, which gives one report per file).
    actor
        Who imports.

    Returns
    -------
    ImportReport

    Raises
    ------
    ValidationError
        If ``path`` is a folder, or see :func:`import_files`.
    """
    if Path(path).is_dir():
        raise _file_error(
            Path(path), "is a folder; import_files() imports its files (one report each)"
        )
    return import_files(registry, [path], actor=actor)[0]
