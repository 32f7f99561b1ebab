"""Tables of patients (CSV, TSV, Excel): one row per patient, units in the column names.

A column name is the field name followed by its unit, ``_per_`` standing for ``/``:
``crp_mg_per_L``, ``lymphocytes_cells_per_uL``, ``pdl1_tps_percent``, ``age_years``. Any unit
of the same kind is accepted and converted on read (``crp_mg_per_dL``, ``lymphocytes_1e9_per_L``).
Repeated structures have patterned names:

===================================  ==========================================================
column                               meaning
===================================  ==========================================================
``ihc_<marker>_<region>_<unit>``     IHC density, e.g. ``ihc_cd8_invasive_margin_cells_per_mm2``
``cytokine_<name>_<unit>``           serum cytokine, e.g. ``cytokine_ifng_pg_per_mL``
``hypoxia_<marker>_percent``         hypoxia marker, percent of cells positive
``risk_<index>_score`` / ``_category``  risk index, e.g. ``risk_flipi_score``
``burden_date``, ``burden_<measure>_<unit>``  one tumor-burden measurement
``driver_mutations``                 ``BRAF V600E; TP53 R273H``
``antigens``                         ``CD19:lineage:positive; NY-ESO-1:TAA:negative``
``prior_therapies``                  ``R-CHOP:CR; bendamustine-rituximab:PR``
``comorbidities``, ``hla_type`` …    lists separated by ``;``
===================================  ==========================================================

Outcome columns (for cohorts): ``treatment``, ``best_response``, ``pfs_<unit>``, ``pfs_event``,
``os_<unit>``, ``os_event`` (times in ``days`` or ``months``; events 1/0 or true/false).

An empty cell is a missing value (never imputed). A column that is not known is refused.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pydantic

from immunoprecise.errors import FieldProblem, ValidationError, repeated
from immunoprecise.records.cohort import Cohort, Outcome
from immunoprecise.records.fields import record_fields
from immunoprecise.records.microenvironment import Region
from immunoprecise.records.patient import NO_PRIOR_THERAPY
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.scalars import FROM_TEXT
from immunoprecise.records.units import is_convertible, round_significant
from immunoprecise.records.validation import field_problems

__all__ = ["column_catalogue", "number_as_text", "read_table", "unit_token"]

_LIST_SEPARATOR = ";"
_STEM_OVERRIDES = {
    "patient.id": "patient_id",
    "disease.status": "disease_status",
    "schema_version": "schema_version",
}
_SECTION_PREFIXES = {"host.flow.": "flow_", "expression.": "expression_"}
_OUTCOME_UNITS = {"pfs": "days", "os": "days"}
_BURDEN_UNITS = {
    "sum_of_diameters": "mm",
    "spd": "mm²",
    "cell_count": "cells",
    "marrow_blasts": "%",
    "m_protein": "g/L",
}
_REGIONS = "|".join(r.value for r in Region)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ihc", re.compile(rf"^ihc_(?P<marker>[a-z0-9]+)_(?P<region>{_REGIONS})_(?P<unit>.+)$")),
    ("cytokine", re.compile(r"^cytokine_(?P<name>[a-z0-9]+)_(?P<unit>.+)$")),
    ("hypoxia", re.compile(r"^hypoxia_(?P<marker>[a-z0-9]+)_(?P<unit>percent)$")),
    ("risk", re.compile(r"^risk_(?P<name>[a-z0-9]+)_(?P<what>score|category)$")),
    ("burden", re.compile(rf"^burden_(?P<what>{'|'.join(_BURDEN_UNITS)})_(?P<unit>.+)$")),
)
_PATTERN_UNITS = {"ihc": "cells/mm²", "cytokine": "pg/mL", "hypoxia": "%"}
# Columns with a small text syntax of their own, and the record field each fills.
_STRUCTURED: dict[str, tuple[str | int, ...]] = {
    "driver_mutations": ("tumor", "driver_mutations"),
    "antigens": ("tumor", "antigens"),
    "prior_therapies": ("patient", "prior_therapies"),
    "burden_date": ("disease", "burden", 0),
}


def unit_token(unit: str) -> str:
    """Write ``unit`` as it appears in a column name.

    Examples
    --------
    >>> unit_token("cells/µL"), unit_token("cells/mm²"), unit_token("%"), unit_token("mg/L")
    ('cells_per_uL', 'cells_per_mm2', 'percent', 'mg_per_L')
    """
    return unit.replace("%", "percent").replace("µ", "u").replace("²", "2").replace("/", "_per_")


def _token_unit(token: str) -> str:
    return token.replace("_per_", "/").replace("percent", "%").replace("_", " ")


@dataclass(frozen=True)
class _Scalar:
    stem: str
    path: tuple[str, ...]
    unit: str
    is_list: bool
    is_text: bool = False


@functools.cache
def _scalar_columns() -> list[_Scalar]:
    columns = []
    for f in record_fields():
        if "[]" in f.path or "{name}" in f.path:
            continue
        stem = _STEM_OVERRIDES.get(f.path)
        if stem is None:
            prefix = next((p for s, p in _SECTION_PREFIXES.items() if f.path.startswith(s)), "")
            stem = prefix + f.path.rsplit(".", 1)[-1]
        if stem in _STRUCTURED:
            continue
        columns.append(
            _Scalar(
                stem, tuple(f.path.split(".")), f.unit, f.kind.startswith("list"), f.kind == "text"
            )
        )
    columns += [
        _Scalar("treatment", ("outcome", "treatment"), "", False, True),
        _Scalar("best_response", ("outcome", "best_response"), "", False),
        _Scalar("pfs", ("outcome", "pfs"), "days", False),
        _Scalar("pfs_event", ("outcome", "pfs_event"), "", False),
        _Scalar("os", ("outcome", "os"), "days", False),
        _Scalar("os_event", ("outcome", "os_event"), "", False),
    ]
    return sorted(columns, key=lambda c: -len(c.stem))


def column_catalogue() -> list[tuple[str, str]]:
    """List the table columns with the record field each fills, in their canonical units.

    Returns
    -------
    list of (column, field path)

    Examples
    --------
    >>> dict(column_catalogue())["crp_mg_per_L"]
    'host.crp'
    """
    rows = [
        (c.stem + (f"_{unit_token(c.unit)}" if c.unit else ""), ".".join(c.path))
        for c in sorted(_scalar_columns(), key=lambda c: c.path)
    ]
    rows += [
        ("ihc_<marker>_<region>_cells_per_mm2", "microenvironment.densities[]"),
        ("cytokine_<name>_pg_per_mL", "host.cytokines{name}"),
        ("hypoxia_<marker>_percent", "tumor.hypoxia[]"),
        ("risk_<index>_score, risk_<index>_category", "disease.risk_indices[]"),
        ("burden_date, burden_<measure>_<unit>", "disease.burden[]"),
        ("driver_mutations", "tumor.driver_mutations[]"),
        ("antigens", "tumor.antigens[]"),
        ("prior_therapies", "patient.prior_therapies[]"),
    ]
    return rows


@dataclass(frozen=True)
class _Header:
    name: str
    kind: str  # "scalar", a pattern name, or a structured column name
    path: tuple[str, ...]
    unit: str
    groups: Mapping[str, str]
    is_list: bool = False
    is_text: bool = False


def _parse_header(name: str, scalars: list[_Scalar]) -> _Header | str:
    """Match a column name, or return why it does not match."""
    if name in _STRUCTURED:
        return _Header(name, name, (name,), "", {})
    for kind, pattern in _PATTERNS:
        m = pattern.match(name)
        if not m:
            continue
        groups = m.groupdict()
        unit = _BURDEN_UNITS.get(groups.get("what", ""), _PATTERN_UNITS.get(kind, ""))
        token_unit = _token_unit(groups["unit"]) if "unit" in groups else unit
        if unit and not is_convertible(token_unit, unit):
            return f"unit '{groups['unit']}' in column '{name}' cannot be converted to {unit}"
        return _Header(name, kind, (kind, *groups.values()), token_unit, groups)
    for col in scalars:
        if name == col.stem:
            if col.unit:
                return (
                    f"column '{name}' needs its unit in the name, "
                    f"e.g. '{name}_{unit_token(col.unit)}'"
                )
            return _Header(name, "scalar", col.path, "", {}, col.is_list, col.is_text)
        if col.unit and name.startswith(col.stem + "_"):
            token = name[len(col.stem) + 1 :]
            if is_convertible(_token_unit(token), col.unit):
                return _Header(name, "scalar", col.path, _token_unit(token), {})
    known = [c for c, _ in column_catalogue()]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown column '{name}'{hint} (see the column list in the README)"


def _missing(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and not cell.strip()


def number_as_text(cell: float) -> str:
    """A spreadsheet's number in a text column (a patient id, a stage, a grade) as text:
    ``1001`` (or ``1001.0``) as ``'1001'``, ``2.5`` as ``'2.5'``.

    Examples
    --------
    >>> number_as_text(1001), number_as_text(4.0), number_as_text(2.5)
    ('1001', '4', '2.5')
    """
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


DATE_IN_TEXT = (
    "a date in a text column: the spreadsheet may have turned what was written (a grade "
    "'1-2', a stage) into a date; format the column as text and write the value again"
)
"""Why a spreadsheet's date cell in a text column is refused rather than read as its date."""


def is_text_column(header: _Header) -> bool:
    """Whether ``header`` is a column of free text (a patient id, a stage, a grade, a risk
    group, a treatment), where a spreadsheet's number is read as text and its date refused."""
    return header.is_text or (header.kind == "risk" and header.groups["what"] == "category")


def _items(cell: Any) -> list[str]:
    return [part.strip() for part in str(cell).split(_LIST_SEPARATOR) if part.strip()]


def _put(data: dict[str, Any], path: Iterable[str], value: Any) -> None:
    *parents, leaf = path
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _structured(header: _Header, cell: Any, data: dict[str, Any]) -> None:
    if header.kind == "driver_mutations":
        mutations = []
        for item in _items(cell):
            gene, _, alteration = item.partition(" ")
            mutations.append({"gene": gene, "alteration": alteration.strip() or "unspecified"})
        _put(data, ("tumor", "driver_mutations"), mutations)
    elif header.kind == "antigens":
        antigens = []
        for item in _items(cell):
            parts = [p.strip() for p in item.split(":")]
            keys = ("name", "kind", "status")
            antigens.append(dict(zip(keys, parts, strict=False)) if len(parts) == 3 else item)
        _put(data, ("tumor", "antigens"), antigens)
    elif header.kind == "prior_therapies":
        therapies = []
        items = _items(cell)
        if [i.strip().casefold() for i in items] == [NO_PRIOR_THERAPY]:
            items = []  # treatment-naive; an empty cell is "not recorded"
        for line, item in enumerate(items, start=1):
            name, _, response = item.rpartition(":") if ":" in item else (item, "", "")
            therapies.append(
                {"name": name.strip(), "line": line, "best_response": response or None}
            )
        _put(data, ("patient", "prior_therapies"), therapies)
    elif header.kind == "burden_date":
        data.setdefault("disease", {}).setdefault("burden", [{}])[0]["date"] = cell


def _row_to_data(
    headers: list[_Header], row: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[Any, ...], str]]:
    """Build the nested record and outcome mappings of one row, and where each came from."""
    data: dict[str, Any] = {}
    outcome: dict[str, Any] = {}
    origin: dict[tuple[Any, ...], str] = {}
    for h in headers:
        cell = row[h.name]
        if _missing(cell):
            continue
        if isinstance(cell, dt.datetime):
            cell = cell.date().isoformat()
        if isinstance(cell, str):
            cell = cell.strip()
        elif is_text_column(h) and isinstance(cell, int | float) and not isinstance(cell, bool):
            cell = number_as_text(cell)  # a spreadsheet's number in a text column: P-id 1001
        value: Any = {"value": cell, "unit": h.unit} if h.unit else cell
        if h.kind == "scalar":
            if h.path[0] == "outcome":
                outcome[h.path[1]] = value
                origin[("outcome", h.path[1])] = h.name
            else:
                _put(data, h.path, _items(cell) if h.is_list else value)
                origin[h.path] = h.name
        elif h.kind == "ihc":
            items = data.setdefault("microenvironment", {}).setdefault("densities", [])
            origin[("microenvironment", "densities", len(items))] = h.name
            items.append(
                {"marker": h.groups["marker"], "region": h.groups["region"], "density": value}
            )
        elif h.kind == "cytokine":
            name = h.groups["name"].upper()
            _put(data, ("host", "cytokines", name), value)
            origin[("host", "cytokines", name)] = h.name
        elif h.kind == "hypoxia":
            items = data.setdefault("tumor", {}).setdefault("hypoxia", [])
            origin[("tumor", "hypoxia", len(items))] = h.name
            items.append({"marker": h.groups["marker"].upper(), "percent_positive": value})
        elif h.kind == "risk":
            indices = data.setdefault("disease", {}).setdefault("risk_indices", [])
            name = h.groups["name"].upper()
            entry = next((r for r in indices if r["name"] == name), None)
            if entry is None:
                entry = {"name": name}
                indices.append(entry)
            origin[("disease", "risk_indices", indices.index(entry))] = h.name
            entry[h.groups["what"]] = cell
        elif h.kind == "burden":
            burden = data.setdefault("disease", {}).setdefault("burden", [{}])
            burden[0][h.groups["what"]] = value
            origin[("disease", "burden", 0)] = h.name
        else:
            _structured(h, cell, data)
            origin[_STRUCTURED[h.kind]] = h.name
    return data, outcome, origin


def _column_of(loc: tuple[Any, ...], origin: Mapping[tuple[Any, ...], str]) -> str:
    for n in range(len(loc), 0, -1):
        if loc[:n] in origin:
            return origin[loc[:n]]
    return ".".join(map(str, loc))


def _cell(value: Any, row: Mapping[str, Any], column: str) -> Any:
    """The value to show with a problem: the one pydantic names, else the cell as written (a
    quantity cell reaches the record as a ``{value, unit}`` mapping, which is not shown)."""
    if value is not None or column not in row or _missing(row[column]):
        return value
    cell = row[column]
    return cell.strip() if isinstance(cell, str) else cell


def parse_table_header(name: str) -> _Header | str:
    """Match a table column name to the field it fills, or return why it does not match."""
    return _parse_header(name, _scalar_columns())


def table_items(cell: Any) -> list[str]:
    """The items of a list cell (``a; b; c``)."""
    return _items(cell)


def _read_frame(path: Path) -> list[dict[str, Any]]:
    frame = read_frame(path)
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
"""Suffixes of the table files read as Excel workbooks; every other table is delimited text."""


def header_as_written(path: Path, sep: str = ",") -> list[str | None]:
    """The header row of a table file as written: ``None`` for an empty cell.

    pandas reads a repeated column name as a new one (``crp``, ``crp.1``), so a table read with
    it cannot tell that a name was repeated; this can. Delimited text (compressed too) is split
    at ``sep``; an Excel file is read by its suffix.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("patient,crp,,crp\\np1,3,200,4\\n")
    >>> header_as_written(path, ",")
    ['patient', 'crp', None, 'crp']
    """
    if path.suffix.lower() in EXCEL_SUFFIXES:
        header = pd.read_excel(path, dtype=object, header=None, nrows=1)
    else:
        header = pd.read_csv(
            path,
            sep=sep,
            header=None,
            nrows=1,
            dtype=str,
            compression="infer",
            encoding="utf-8-sig",
        )
    if header.empty:
        return []
    return [str(v).strip() if pd.notna(v) else None for v in header.iloc[0]]


def read_frame(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV/Excel file as text cells (empty cells as ``""``), refusing repeated names.

    pandas renames a repeated column name (``crp``, ``crp.1``), so the header is also read as
    written (a header row of its own) and every name given twice is refused by that name.
    """

    suffix = path.suffix.lower()
    sep = "\t" if suffix in {".tsv", ".tab"} else ","
    try:
        if suffix in EXCEL_SUFFIXES:
            frame = pd.read_excel(path, dtype=object)
        else:
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
            )
        written = header_as_written(path, sep)
    except (
        ValueError,
        OSError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        zipfile.BadZipFile,  # an .xlsx that is not a zip archive
        pd.errors.OptionError,  # a zip archive that is not a workbook
    ) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(
            [FieldProblem("(file)", None, f"cannot be read as a table: {first}")],
            source=str(path),
        ) from None
    twice = repeated(name or None for name in written)
    if twice:
        raise ValidationError(
            [
                FieldProblem(f"column {c}", None, "column name is written more than once; keep one")
                for c in twice
            ],
            source=str(path),
        )
    if suffix in {".xlsx", ".xlsm"} and len(written) == frame.shape[1]:
        frame = _percent_formatted(path, frame, written)
    if len(written) == frame.shape[1]:
        # a column without a name (pandas calls it 'Unnamed: 3'): a spreadsheet's empty trailing
        # column, or a trailing delimiter, holds nothing to read and is left out; one with
        # values is refused, as its values would belong to no field
        unnamed = [i for i, name in enumerate(written) if name is None]
        with_values = [i for i in unnamed if not all(map(_missing, frame.iloc[:, i]))]
        if with_values:
            raise ValidationError(
                [
                    FieldProblem(
                        f"column {i + 1} ({_column_letter(i)})",
                        None,
                        "has values but no name in the header row; name it, or delete it",
                    )
                    for i in with_values
                ],
                source=str(path),
            )
        frame = frame.drop(columns=frame.columns[unnamed])
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _percent_formatted(path: Path, frame: pd.DataFrame, written: list[str | None]) -> pd.DataFrame:
    """Read cells that the workbook formats as a percentage as the percentage shown.

    Excel stores a cell shown as ``50%`` as 0.5; read as it is stored, a PD-L1 TPS of 50 % in
    ``pdl1_tps_percent`` would become 0.5 %. In a percent column (``…_percent``) such a cell is
    read as the percentage shown (50); in any other column it is refused, since what it means
    there cannot be known.
    """
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        cells = [
            (r, c, float(cell.value))
            for r, row in enumerate(sheet.iter_rows(min_row=2, min_col=1))
            for c, cell in enumerate(row)
            if isinstance(cell.value, int | float)
            and not isinstance(cell.value, bool)
            and "%" in str(getattr(cell, "number_format", "") or "")
        ]
    finally:
        workbook.close()
    problems: list[FieldProblem] = []
    frame = frame.copy()
    for r, c, value in cells:
        if r >= frame.shape[0] or c >= frame.shape[1]:
            continue
        name = written[c] or f"{c + 1} ({_column_letter(c)})"
        if name.endswith("_percent"):
            frame.iat[r, c] = round_significant(value * 100)
        else:
            problems.append(
                FieldProblem(
                    f"row {r + 2} column {name}",
                    value,
                    f"the workbook shows this cell as a percentage ({value * 100:g}%) but the "
                    "column is not in percent; remove the percentage format, or write the "
                    "value in the column's unit",
                )
            )
    if problems:
        raise ValidationError(problems, source=str(path))
    return frame


def _column_letter(index: int) -> str:
    """The spreadsheet letter of the column at 0-based ``index`` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def read_table(path: str | Path) -> Cohort:
    """Read a CSV, TSV or Excel table of patients (one row each) with any outcome columns.

    Parameters
    ----------
    path
        ``.csv``, ``.tsv`` or ``.xlsx`` file; see this module's documentation for the columns.

    Returns
    -------
    Cohort
        The records, and the outcomes of the rows that have outcome columns filled.

    Raises
    ------
    ValidationError
        Listing every bad cell as ``row N (patient id) column NAME`` with the value and the fix;
        no row is kept when any row is invalid.

    Examples
    --------
    >>> from immunoprecise.data import example_path
    >>> cohort = read_table(example_path("fl_cohort.csv"))
    >>> len(cohort.records), cohort.records[0].host.crp.unit
    (200, 'mg/L')
    """
    path = Path(path)
    rows = _read_frame(path)
    if not rows:
        raise ValidationError(
            [FieldProblem("(file)", None, "the table has no rows")], source=str(path)
        )
    scalars = _scalar_columns()
    headers: list[_Header] = []
    problems: list[FieldProblem] = []
    for name in rows[0]:
        parsed = _parse_header(name, scalars)
        if isinstance(parsed, str):
            problems.append(FieldProblem(f"column {name}", None, parsed))
        else:
            headers.append(parsed)
    targets: dict[tuple[Any, ...], str] = {}
    for h in headers:
        if h.kind == "scalar" and h.path in targets:
            problems.append(
                FieldProblem(
                    f"column {h.name}",
                    None,
                    f"fills {'.'.join(h.path)} like column {targets[h.path]}; keep one",
                )
            )
        targets.setdefault(h.path, h.name)
    if problems:
        raise ValidationError(problems, source=str(path))

    records: list[PatientRecord] = []
    outcomes: list[Outcome] = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header line
        data, outcome, origin = _row_to_data(headers, row)
        pid = str(row.get("patient_id", "") or "?")
        where = f"row {number} ({pid})"
        for h in headers:
            if is_text_column(h) and isinstance(row[h.name], dt.date):
                problems.append(
                    FieldProblem(f"{where} column {h.name}", str(row[h.name]), DATE_IN_TEXT)
                )
        try:
            records.append(
                PatientRecord.model_validate(data, context=FROM_TEXT).read_from(Path(path).parent)
            )
        except pydantic.ValidationError as exc:
            for p in field_problems(exc, PatientRecord):
                loc = tuple(
                    int(x) if x.isdigit() else x for x in re.split(r"[.\[\]]+", p.field) if x
                )
                column = _column_of(loc, origin)
                problems.append(
                    FieldProblem(
                        f"{where} column {column}",
                        _cell(p.value, row, column),
                        f"{p.message} [{p.field}]",
                    )
                )
        if outcome:
            try:
                outcomes.append(
                    Outcome.model_validate({"patient_id": pid, **outcome}, context=FROM_TEXT)
                )
            except pydantic.ValidationError as exc:
                for p in field_problems(exc, Outcome):
                    col = origin.get(("outcome", p.field), p.field)
                    problems.append(
                        FieldProblem(f"{where} column {col}", _cell(p.value, row, col), p.message)
                    )
    if problems:
        raise ValidationError(problems, source=str(path))
    try:
        return Cohort(records=tuple(records), outcomes=tuple(outcomes))
    except pydantic.ValidationError as exc:
        raise ValidationError(field_problems(exc, Cohort), source=str(path)) from None
