"""Read patient records from JSON, YAML, CSV/TSV and Excel files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from immunoprecise.documents import integer_as_written, load_yaml
from immunoprecise.errors import FieldProblem, ValidationError, repeated
from immunoprecise.records.cohort import Cohort
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.table import EXCEL_SUFFIXES, OLD_EXCEL, read_table
from immunoprecise.records.validation import validate_model

if TYPE_CHECKING:  # the FHIR reader is imported when a Bundle is read
    from immunoprecise.records.fhir_import import FhirImport

__all__ = ["TABLE_SUFFIXES", "read_bundle_file", "read_cohort", "read_patient", "read_patients"]

DOCUMENT_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".tab", ".xlsx", ".xlsm"})


TEXT_SNIFF_BYTES = 8192
"""Bytes read from the start of a text file to tell it from a binary one."""


def binary_content(path: Path) -> str | None:
    """Why a file meant to be text is not (NUL bytes at its start; UTF-16 text is named as
    such), else ``None``.

    Read before parsing, so that a large binary file (an image, an archive, a disk dump of a
    gigabyte) is refused at once instead of being read whole first.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = path.write_bytes(bytes(10))  # ten NUL bytes
    >>> binary_content(path)[:28]
    'holds NUL bytes: a binary fi'
    >>> _ = path.write_text('{"patient": {}}', encoding="utf-16")
    >>> binary_content(path)[:14]
    'is UTF-16 text'
    """
    with path.open("rb") as handle:
        head = handle.read(TEXT_SNIFF_BYTES)
    if b"\x00" not in head:
        return None
    if _utf16(head):
        return (
            "is UTF-16 text (as Excel's 'Unicode Text' and Notepad's 'Unicode' save it), not "
            "UTF-8; save it as UTF-8 text (Excel: Save As › CSV UTF-8)"
        )
    return "holds NUL bytes: a binary file, or text not in UTF-8 (save it as UTF-8 text)"


def _utf16(head: bytes) -> bool:
    """Whether ``head`` (the start of a file) is UTF-16 text: a byte-order mark, or ASCII text
    with a NUL byte beside each character."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    pairs = head[: len(head) // 2 * 2]
    if len(pairs) < 4:
        return False
    even, odd = pairs[0::2], pairs[1::2]
    return (even.count(0) == 0 and odd.count(0) == len(odd)) or (
        odd.count(0) == 0 and even.count(0) == len(even)
    )


def _file_error(path: Path, message: str) -> ValidationError:
    return ValidationError([FieldProblem("(file)", None, message)], source=str(path))


def _check_path(path: Path) -> None:
    if not path.exists():
        raise _file_error(path, "no such file")
    if not path.is_file():
        raise _file_error(path, "is not a file")
    if path.suffix.lower() == ".xls":
        raise _file_error(path, OLD_EXCEL)
    if path.suffix.lower() not in DOCUMENT_SUFFIXES | TABLE_SUFFIXES:
        known = ", ".join(sorted(DOCUMENT_SUFFIXES | TABLE_SUFFIXES))
        raise _file_error(path, f"unknown file type '{path.suffix}'; use one of {known}")
    if path.suffix.lower() not in EXCEL_SUFFIXES:  # the others are text
        problem = binary_content(path)
        if problem is not None:
            raise _file_error(path, problem)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key given twice (``json`` would keep the last)."""
    keys = [key for key, _ in pairs]
    twice = repeated(keys)
    if twice:
        raise _RepeatedKeyError(twice[0])
    return dict(pairs)


class _RepeatedKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_sheet(path: Path, sheet: str | int | None) -> None:
    if sheet is not None:
        raise _file_error(path, f"sheet={sheet!r} is for Excel workbooks, not {path.suffix} files")


def _load_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(path, f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise _file_error(path, "is empty")
    if path.suffix.lower() == ".json":
        try:
            # parse_int: "-0" keeps its written form, so that an id field can refuse it
            return json.loads(
                text,
                object_pairs_hook=_unique_keys,
                parse_int=lambda written: integer_as_written(written, int(written)),
            )
        except json.JSONDecodeError as exc:
            raise _file_error(
                path, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        except _RepeatedKeyError as exc:
            raise _file_error(
                path, f"key {exc.key!r} is given twice in one object; keep one"
            ) from None
        except RecursionError:
            raise _file_error(path, "is nested too deeply to be a record") from None
    try:
        return load_yaml(text)
    except RecursionError:
        raise _file_error(path, "is nested too deeply to be a record") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise _file_error(path, f"is not valid YAML: {problem}{where}") from None


def read_patient(path: str | Path, *, sheet: str | int | None = None) -> PatientRecord:
    """Read one patient record from a JSON or YAML file (or a table with exactly one row).

    Parameters
    ----------
    path
        ``.json``, ``.yaml``/``.yml``; or ``.csv``/``.tsv``/``.xlsx`` holding one patient; a
        ``.json`` FHIR R4 Bundle (mCODE) is imported with
        :func:`immunoprecise.records.fhir.read_fhir_bundle`.
    sheet
        For a workbook: the sheet to read, by name or 0-based position (by default the one
        sheet that holds data).

    Returns
    -------
    PatientRecord
        The validated record, quantities converted to their field units.

    Raises
    ------
    ValidationError
        If the file is missing, malformed, or any field is invalid (all are listed).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    >>> record.tumor.msi_status.value
    'MSI-H'
    """
    path = Path(path)
    _check_path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        records = read_table(path, sheet=sheet).records
        if len(records) != 1:
            raise _file_error(
                path, f"holds {len(records)} patients; use read_patients() for tables"
            )
        return records[0]
    _no_sheet(path, sheet)
    data = _load_document(path)
    if not isinstance(data, dict):
        raise _file_error(path, f"must hold one record (a mapping), not a {type(data).__name__}")
    if data.get("resourceType") == "Bundle":  # FHIR R4 / mCODE
        from immunoprecise.records.fhir import read_fhir_bundle

        with _named_file(path):
            return read_fhir_bundle(data).record.read_from(path.parent)
    return validate_model(PatientRecord, data, source=str(path)).read_from(path.parent)


def read_patients(path: str | Path, *, sheet: str | int | None = None) -> list[PatientRecord]:
    """Read every patient record in a file: a table (one row each) or a JSON/YAML record.

    Parameters
    ----------
    path
        A table (``.csv``, ``.tsv``, ``.xlsx``) or a single-record ``.json``/``.yaml`` file.
    sheet
        For a workbook: the sheet to read, by name or 0-based position (by default the one
        sheet that holds data; a workbook with several is refused, naming them).

    Returns
    -------
    list of PatientRecord

    Examples
    --------
    >>> import immunoprecise as ip
    >>> len(ip.read_patients(ip.data.example_path("fl_cohort.csv")))
    200
    """
    path = Path(path)
    _check_path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return list(read_table(path, sheet=sheet).records)
    _no_sheet(path, sheet)
    bundle = read_bundle_file(path)
    if bundle is not None:
        return [imported.record for imported in bundle]
    return [read_patient(path)]


def read_bundle_file(path: str | Path) -> list[FhirImport] | None:
    """The records of a ``.json`` FHIR R4 Bundle file, each with what reading it left out.

    Parameters
    ----------
    path
        Any patient file.

    Returns
    -------
    list of FhirImport or None
        One per patient of the Bundle: the record (its relative paths read from the file's
        folder), the resources it has no field for and the notes on how values were read;
        ``None`` when ``path`` is not a ``.json`` FHIR Bundle.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> read_bundle_file(ip.data.example_path("fl_cohort.csv")) is None
    True
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        return None
    _check_path(path)
    data = _load_document(path)
    if not (isinstance(data, dict) and data.get("resourceType") == "Bundle"):
        return None
    from immunoprecise.records.fhir import read_fhir_bundles

    with _named_file(path):
        return [
            replace(imported, record=imported.record.read_from(path.parent))
            for imported in read_fhir_bundles(data)
        ]


@contextmanager
def _named_file(path: Path) -> Iterator[None]:
    """Name ``path`` in a Bundle's errors, which are read from its data and so name no file
    (among several files, the error would not say which one is wrong)."""
    try:
        yield
    except ValidationError as exc:
        if exc.source:
            raise
        raise ValidationError(exc.problems, source=str(path)) from None


def read_cohort(path: str | Path, *, sheet: str | int | None = None) -> Cohort:
    """Read a cohort table: records and observed outcomes.

    Parameters
    ----------
    path
        A table (``.csv``, ``.tsv``, ``.xlsx``) with outcome columns (``pfs_days``,
        ``pfs_event``, ``os_days``, ``os_event``, ``best_response``, ``treatment``).
    sheet
        For a workbook: the sheet to read, by name or 0-based position.

    Returns
    -------
    Cohort

    Examples
    --------
    >>> import immunoprecise as ip
    >>> cohort = ip.read_cohort(ip.data.example_path("fl_cohort.csv"))
    >>> len(cohort.outcomes)
    200
    """
    path = Path(path)
    _check_path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise _file_error(path, "a cohort is read from a table (.csv, .tsv, .xlsx)")
    return read_table(path, sheet=sheet)
