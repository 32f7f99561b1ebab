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
``os_<unit>``, ``os_event`` (times in ``days`` or ``months``; events 1/0, true/false, yes/no or
words such as dead/alive, progressed/no progression; a column coded 1/2 is refused, see
:mod:`immunoprecise.records.events`).

An empty cell is a missing value (never imputed); a missing-value marker such as ``NA``,
``N/A``, ``#N/A`` or ``.`` is refused (:data:`MISSING_MARKERS`). A column that is not known is
refused. A ``;``-separated file is read with its decimal commas (``1,5`` is 1.5); a workbook
with several sheets of data is read from the sheet named by ``sheet=``; an ``.xls`` workbook is
refused (see :func:`read_frame`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import gc
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydantic

from immunoprecise.errors import FieldProblem, UnitError, ValidationError, repeated
from immunoprecise.records.cell_text import number_as_text
from immunoprecise.records.cohort import Cohort, Outcome
from immunoprecise.records.events import EVENT_COLUMNS, event_flags
from immunoprecise.records.fields import record_fields
from immunoprecise.records.microenvironment import Region
from immunoprecise.records.patient import NO_PRIOR_THERAPY, ids_differing_in_case
from immunoprecise.records.quantity import Quantity
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.scalars import (
    FROM_TEXT,
    SUSPICIOUS_NUMBER,
    number_text_problem,
    number_with_unit,
)
from immunoprecise.records.units import is_convertible, parse_unit, round_significant
from immunoprecise.records.validation import field_problems
from immunoprecise.wording import counted

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


_BRACKETED_UNIT = re.compile(r"(?P<stem>[^(\[]+?)\s*[(\[](?P<unit>[^)\]]+)[)\]]")


def _unit_in_name(name: str) -> str | None:
    """A name with its unit in brackets written as the reader asks (``CRP (mg/dL)`` as
    ``crp_mg_per_dL``), or ``None`` for a name without a bracketed unit."""
    bracketed = _BRACKETED_UNIT.fullmatch(name)
    if bracketed is None:
        return None
    stem = re.sub(r"\W+", "_", bracketed["stem"].casefold()).strip("_")
    return f"{stem}_{unit_token(bracketed['unit'].strip())}"


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
    candidate = _unit_in_name(name)
    if candidate is not None:  # crp (mg/L), CD8 [cells/mm²]: the unit belongs in the name
        if not isinstance(_parse_header(candidate, scalars), str):
            return f"unknown column '{name}'; write the unit in the name: '{candidate}'"
        hint = _named_with_unit(candidate)
        return (
            f"unknown column '{name}'; a column name carries its unit after an underscore, "
            "'/' written as '_per_' (crp_mg_per_L, ihc_cd8_tumor_core_cells_per_mm2), not in "
            + (f"brackets; {hint}" if hint else "brackets (see the column list in the README)")
        )
    hint = _named_with_unit(name)
    if hint is None:
        known = [c for c, _ in column_catalogue()]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else None
    return (
        f"unknown column '{name}'{f'; {hint}' if hint else ''} (see the column list in the README)"
    )


def _unit_at_end(name: str) -> tuple[str, str] | None:
    """The name's stem and the unit token it ends with (``cd8`` and ``cells_per_mm2``), the
    longest token that is a unit; ``None`` when it ends with none."""
    parts = name.split("_")
    for k in range(1, len(parts)):
        token = "_".join(parts[k:])
        try:
            parse_unit(_token_unit(token))
        except UnitError:
            continue
        return "_".join(parts[:k]), token
    return None


@functools.lru_cache(maxsize=1024)
def _named_with_unit(name: str) -> str | None:
    """How to write an unknown column ``name`` that ends with a unit, keeping that unit, or
    ``None``: never a column of another kind of unit (a density in tissue, cells/mm², is not
    a blood count in cells/µL; CRP in mg/dL is not CRP in mg/L)."""
    split = _unit_at_end(name)
    if split is None:
        return None
    stem, token = split
    unit = _token_unit(token)
    folded = re.sub(r"\W+", "_", stem.casefold()).strip("_")
    if is_convertible(unit, _PATTERN_UNITS["ihc"]):
        words = folded.removeprefix("ihc_")
        region = next((r.value for r in Region if words.endswith(f"_{r.value}")), None)
        if region is not None and words[: -len(region) - 1]:
            marker = words[: -len(region) - 1].replace("_", "")  # PD-L1 → pdl1
            return f"write it 'ihc_{marker}_{region}_{token}'"
        marker = next((w for w in words.split("_") if w), "cd8")
        return (
            f"a density in tissue is named ihc_<marker>_<region>_<unit>, the marker in lower "
            f"case and the region one of {', '.join(r.value for r in Region)}: e.g. "
            f"'ihc_{marker}_{Region.tumor_core.value}_{token}'"
        )
    scalars = _scalar_columns()
    for col in scalars:
        if col.unit and folded == col.stem:
            if is_convertible(unit, col.unit):
                return f"write it '{col.stem}_{token}'"
            return (
                f"'{token}' is not a unit of {'.'.join(col.path)}, which is in {col.unit}: "
                f"e.g. '{col.stem}_{unit_token(col.unit)}'"
            )
    same_kind = [c.stem for c in scalars if c.unit and is_convertible(unit, c.unit)]
    close = difflib.get_close_matches(folded, same_kind, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}_{token}'?" if close else None


def _missing(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and not cell.strip()


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


_ABSENT = object()
"""A cell left empty: the field is not recorded."""

_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_LARGEST_WHOLE_NUMBER = 10**300
"""Whole numbers beyond this are left to the record model, which says why they are refused."""


def _quantity_value(cell: Any, header: _Header, read: dict[Any, Any]) -> Any:
    """What a cell of a column with a unit gives the record: a :class:`Quantity` in the
    column's unit for a plain number (read as the record model reads it: the same value, range
    check and messages), otherwise the cell with the column's unit, for the record model to
    read or refuse as it always has.

    ``read`` holds what the column's cells read so far gave, by cell: a column repeats the same
    values, each read once (a :class:`Quantity` is immutable, so records may share one).
    """
    if type(cell) not in (str, float, int):
        return _quantity_of(cell, header)
    key = (type(cell), cell)
    value = read.get(key)
    if value is None:
        value = _quantity_of(cell, header)
        if isinstance(value, dict):  # the record model's own input: one per row
            return value
        read[key] = value
    return value


def _quantity_of(cell: Any, header: _Header) -> Any:
    """:func:`_quantity_value` of one cell."""
    if isinstance(cell, str):
        if _PLAIN_NUMBER.fullmatch(cell) and not SUSPICIOUS_NUMBER.match(cell):
            number = float(cell)
            if math.isfinite(number):
                return Quantity(value=number, unit=header.unit)
        written = number_with_unit(cell)
        if written is not None:  # 12 mg/L, 1.2 mg/dL: converted, or refused, by the record
            return {"value": written[0], "unit": written[1]}
    elif (isinstance(cell, float) and math.isfinite(cell)) or (
        type(cell) is int and abs(cell) < _LARGEST_WHOLE_NUMBER
    ):
        return Quantity(value=float(cell), unit=header.unit)
    return {"value": cell, "unit": header.unit}


def _column_values(header: _Header, cells: Iterable[Any]) -> list[Any]:
    """What each cell of one column gives the record (:data:`_ABSENT` for an empty cell), read
    for the whole column at once: the cell without surrounding spaces, a spreadsheet's number
    in a text column as its digits, a date-time as its date, a list cell as its items, and a
    cell of a column with a unit as :func:`_quantity_value` reads it."""
    out: list[Any] = []
    text_column = is_text_column(header)
    read: dict[Any, Any] = {}
    for cell in cells:
        if _missing(cell):
            out.append(_ABSENT)
            continue
        if isinstance(cell, dt.datetime):
            cell = cell.date().isoformat()
        if isinstance(cell, str):
            cell = cell.strip()
        elif text_column and isinstance(cell, int | float) and not isinstance(cell, bool):
            cell = number_as_text(cell)  # a spreadsheet's number in a text column: P-id 1001
        if header.unit:
            out.append(_quantity_value(cell, header, read))
        elif header.kind == "scalar" and header.is_list:
            out.append(_items(cell))
        else:
            out.append(cell)
    return out


def _row_to_data(
    headers: list[_Header], values: list[Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[tuple[Any, ...], str]]:
    """Build the nested record and outcome mappings of one row from what each of its cells
    gives (:func:`_column_values`, in the order of ``headers``), and where each came from."""
    data: dict[str, Any] = {}
    outcome: dict[str, Any] = {}
    origin: dict[tuple[Any, ...], str] = {}
    for h, value in zip(headers, values, strict=True):
        if value is _ABSENT:
            continue
        kind = h.kind
        if kind == "scalar":
            if h.path[0] == "outcome":
                outcome[h.path[1]] = value
                origin[("outcome", h.path[1])] = h.name
            else:
                _put(data, h.path, value)
                origin[h.path] = h.name
        elif kind == "ihc":
            items = data.setdefault("microenvironment", {}).setdefault("densities", [])
            origin[("microenvironment", "densities", len(items))] = h.name
            items.append(
                {"marker": h.groups["marker"], "region": h.groups["region"], "density": value}
            )
        elif kind == "cytokine":
            name = h.groups["name"].upper()
            _put(data, ("host", "cytokines", name), value)
            origin[("host", "cytokines", name)] = h.name
        elif kind == "hypoxia":
            items = data.setdefault("tumor", {}).setdefault("hypoxia", [])
            origin[("tumor", "hypoxia", len(items))] = h.name
            items.append({"marker": h.groups["marker"].upper(), "percent_positive": value})
        elif kind == "risk":
            indices = data.setdefault("disease", {}).setdefault("risk_indices", [])
            name = h.groups["name"].upper()
            entry = next((r for r in indices if r["name"] == name), None)
            if entry is None:
                entry = {"name": name}
                indices.append(entry)
            origin[("disease", "risk_indices", indices.index(entry))] = h.name
            entry[h.groups["what"]] = value
        elif kind == "burden":
            burden = data.setdefault("disease", {}).setdefault("burden", [{}])
            burden[0][h.groups["what"]] = value
            origin[("disease", "burden", 0)] = h.name
        else:
            _structured(h, value, data)
            origin[_STRUCTURED[kind]] = h.name
    return data, outcome, origin


def _row_id(row: Mapping[str, Any]) -> str:
    """The patient id of a table row as messages name it, ``?`` when the cell is empty."""
    return _id_text(row.get("patient_id"))


def _id_text(cell: Any) -> str:
    """A ``patient_id`` cell as messages name it, ``?`` when it is empty."""
    return (
        "?"
        if _missing(cell)
        else number_as_text(cell)
        if isinstance(cell, float)
        else str(cell).strip()
    )


def _outcome_columns(message: str, origin: Mapping[tuple[Any, ...], str]) -> str:
    """The outcome columns a problem of the whole outcome names (``pfs (…) is longer than os``),
    as their columns are written (``pfs_months, os_months``)."""
    named = dict.fromkeys(re.findall(r"\b(pfs_event|os_event|pfs|os)\b", message))
    columns = [origin[("outcome", n)] for n in named if ("outcome", n) in origin]
    return ", ".join(columns) or "(outcome)"


def _column_of(loc: tuple[Any, ...], origin: Mapping[tuple[Any, ...], str]) -> str:
    for n in range(len(loc), 0, -1):
        if loc[:n] in origin:
            return origin[loc[:n]]
    return ".".join(map(str, loc))


def _cell(value: Any, cells: Mapping[str, list[Any]], row: int, column: str) -> Any:
    """The value to show with a problem: the one pydantic names, else the cell as written in
    ``column`` at position ``row`` (a quantity cell reaches the record as a ``{value, unit}``
    mapping or a :class:`Quantity`, which is not shown)."""
    if isinstance(value, Quantity):
        value = None
    if value is not None or column not in cells or _missing(cells[column][row]):
        return value
    cell = cells[column][row]
    return cell.strip() if isinstance(cell, str) else cell


def parse_table_header(name: str) -> _Header | str:
    """Match a table column name to the field it fills, or return why it does not match."""
    return _parse_header(name, _scalar_columns())


def id_on_rows(pid: str, rows: Iterable[int]) -> FieldProblem:
    """The problem of a patient id given on several rows of a table, naming the rows (numbered as
    in the file, header row 1); shared by :func:`read_table` and ``table_columns``."""
    return FieldProblem(
        "column patient_id",
        pid,
        f"occurs more than once, in rows {', '.join(map(str, rows))}: a table has one row per "
        "patient; keep one, or give each patient its own id",
    )


def ids_in_another_case(group: Iterable[str], rows_of: Mapping[str, Iterable[int]]) -> FieldProblem:
    """The problem of patient ids on several rows that differ only in case (``SYN-01`` on row 2,
    ``syn-01`` on row 9), naming each id's rows; shared by :func:`read_table` and
    ``table_columns``."""
    where = "; ".join(
        f"{pid!r} in row{'s' if len(list(rows_of[pid])) > 1 else ''} "
        f"{', '.join(map(str, rows_of[pid]))}"
        for pid in group
    )
    return FieldProblem(
        "column patient_id",
        None,
        f"ids differ only in case ({where}): patient ids are case-sensitive, so these would be "
        "different patients; if they are one patient, keep one row and write its id one way, "
        "and if they are different patients, give them ids that differ in more than case",
    )


def field_filled_twice(header: _Header, targets: dict[tuple[str, ...], str]) -> FieldProblem | None:
    """Refuse a column that fills the same field as an earlier one (``crp_mg_per_L`` and
    ``crp_mg_per_dL``), rather than let the second overwrite the first.

    ``targets`` maps each field filled by the columns seen so far to the first column filling
    it; ``header``'s field is added to it unless refused.
    """
    if header.kind == "scalar" and header.path in targets:
        return FieldProblem(
            f"column {header.name}",
            None,
            f"fills {'.'.join(header.path)} like column {targets[header.path]}; keep one",
        )
    targets.setdefault(header.path, header.name)
    return None


def table_items(cell: Any) -> list[str]:
    """The items of a list cell (``a; b; c``)."""
    return _items(cell)


def _frame_columns(frame: pd.DataFrame) -> tuple[list[int], dict[str, list[Any]], str]:
    """The row numbers in the file of checked cells (:func:`read_frame`, :func:`check_frame`),
    the cells of each column, and the table's name."""
    columns = {str(k): v for k, v in frame.to_dict(orient="list").items()}
    return frame.index.tolist(), columns, frame.attrs["source"]


EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
"""Suffixes of the table files read as Excel workbooks; every other table is delimited text."""

OLD_EXCEL = (
    "is an Excel 97–2003 workbook (.xls), which is not read: its percentage formats cannot be "
    "checked, so a cell shown as 50% could be read as 0.5; save it as an Excel workbook "
    "(.xlsx) or as CSV UTF-8"
)
"""Why an ``.xls`` workbook is refused (the reader it needs, xlrd, is not installed either)."""
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of an Excel 97–2003 workbook (an OLE2 compound file), whatever its suffix."""

_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}

MISSING_MARKERS = frozenset(
    {"na", "n/a", "n.a.", "nan", "null", "#n/a", "#na", "<na>", "na_real_", "na_character_",
     ".", "-", "--", "?", "—", "–"}
)  # fmt: skip
"""Cell texts that stand for a missing value in some exports (R's ``NA``, Excel's ``#N/A``,
SAS's ``.``). A table refuses them, in every column: an empty cell is the one missing value."""

_SPREADSHEET_ERRORS = frozenset(
    {"#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!"}
)

_DECIMAL_COMMA_CELL = re.compile(r"^\s*[-+]?\d+,\d+(?:[eE][-+]?\d+)?\s*$")
_DECIMAL_POINT_CELL = re.compile(r"^\s*[-+]?\d*\.\d+(?:[eE][-+]?\d+)?\s*$")


def header_as_written(
    path: Path, sep: str = ",", *, sheet: str | int | None = None, skip: int = 0
) -> list[str | None]:
    """The header row of a table file as written: ``None`` for an empty cell.

    pandas reads a repeated column name as a new one (``crp``, ``crp.1``), so a table read with
    it cannot tell that a name was repeated; this can. Delimited text (compressed too) is split
    at ``sep``, after ``skip`` lines (a ``sep=;`` line, comments); an Excel file is read by its
    suffix, from ``sheet`` (a name or a 0-based position; the first sheet when omitted).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("patient,crp,,crp\\np1,3,200,4\\n")
    >>> header_as_written(path, ",")
    ['patient', 'crp', None, 'crp']
    """
    if path.suffix.lower() in EXCEL_SUFFIXES:
        header = pd.read_excel(
            path, sheet_name=0 if sheet is None else sheet, dtype=object, header=None, nrows=1
        )
    else:
        header = pd.read_csv(
            path,
            sep=sep,
            header=None,
            nrows=1,
            skiprows=skip,
            dtype=str,
            compression="infer",
            encoding="utf-8-sig",
        )
    if header.empty:
        return []
    return [str(v).strip() if pd.notna(v) else None for v in header.iloc[0]]


def _table_error(source: str, field: str, message: str) -> ValidationError:
    return ValidationError([FieldProblem(field, None, message)], source=source)


def _sheet_to_read(workbook: Any, path: Path, sheet: str | int | None) -> tuple[str, str]:
    """The name of the worksheet of ``workbook`` (opened by openpyxl from ``path``) to read and
    how to name the table in messages.

    With ``sheet`` omitted, the one worksheet that holds anything is read; a workbook with
    more than one is refused, naming them, rather than read from its first sheet unseen.
    """
    sheets = workbook.worksheets
    names = [s.title for s in sheets]
    if sheet is not None:
        if isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise _table_error(
                    str(path),
                    "(sheet)",
                    f"sheet={sheet} is not a sheet position of this workbook: it has "
                    f"{counted(len(names), 'sheet')}, 0 to {len(names) - 1}: "
                    + ", ".join(map(repr, names)),
                )
            name = names[sheet]
        elif sheet in names:
            name = str(sheet)
        else:
            raise _table_error(
                str(path),
                "(sheet)",
                f"no sheet named {sheet!r}; the workbook's sheets are "
                + ", ".join(map(repr, names)),
            )
    else:
        filled = [
            s
            for s in sheets
            if any(v not in (None, "") for row in s.iter_rows(values_only=True) for v in row)
        ]
        if len(filled) > 1:
            described = ", ".join(
                repr(s.title) + ("" if s.sheet_state == "visible" else " (hidden)") for s in filled
            )
            example = next((s for s in filled if s.sheet_state == "visible"), filled[0])
            raise _table_error(
                str(path),
                "(sheet)",
                f"the workbook has {len(filled)} sheets with data: {described}; say which "
                f"holds the patients (sheet={example.title!r} in Python, --sheet "
                f"{example.title!r} on the command line), or delete the others",
            )
        name = filled[0].title if filled else names[0]
    source = str(path) if len(names) == 1 else f"{path} (sheet {name!r})"
    return name, source


def text_separator(path: Path, expected: str) -> tuple[str, int]:
    """The separator of a delimited text table and the rows to skip before its header.

    A file whose header does not split at ``expected`` but at exactly one other separator
    (``;``, as Excel writes CSV where the decimal mark is the comma; a tab) is read with that
    one. Excel's first line ``sep=;`` names the separator and is skipped.

    Parameters
    ----------
    path
        The text table.
    expected
        The separator its suffix implies (``,``; a tab for ``.tsv``).

    Returns
    -------
    tuple of str and int
        The separator and the number of lines to skip before the header (1 after ``sep=;``).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "patients.csv"
    >>> _ = path.write_text("patient_id;diagnosis\\nP1;NSCLC\\n", encoding="utf-8")
    >>> text_separator(path, ",")
    (';', 0)
    """
    first = pd.read_csv(
        path,
        sep=expected,
        header=None,
        nrows=1,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8-sig",
    )
    cells = [c for c in first.iloc[0] if c] if not first.empty else []
    line = expected.join(first.iloc[0]) if not first.empty else ""
    declared = re.fullmatch(r"sep=(.)", line.strip(" "))
    if declared and declared.group(1) in _SEPARATORS:
        return declared.group(1), 1
    if len(cells) == 1:
        others = [s for s in _SEPARATORS if s != expected and s in cells[0]]
        if len(others) == 1:
            return others[0], 0
    return expected, 0


@functools.cache
def _field_kinds() -> dict[tuple[str, ...], str]:
    return {tuple(f.path.split(".")): f.kind for f in record_fields()}


def _number_column(name: str | None) -> bool:
    """Whether the column ``name`` holds numbers (a quantity, a score, a count)."""
    if name is None:
        return False
    header = parse_table_header(name)
    if isinstance(header, str) or header.kind in _STRUCTURED:
        return False
    if header.kind in ("ihc", "cytokine", "hypoxia", "burden"):
        return True
    if header.kind == "risk":
        return header.groups["what"] == "score"
    if header.unit:
        return True
    return _field_kinds().get(header.path) in ("integer", "number")


def _decimal_commas(
    frame: pd.DataFrame, written: list[str | None], source: str, pids: list[str]
) -> pd.DataFrame:
    """Read the decimal commas of a ``;``-separated table (``1,5`` is 1.5) in its number columns.

    A table that writes decimals both ways (``1,5`` and ``2.5``) is refused: there ``1,500``
    could be 1.5 or 1500.
    """
    frame = frame.copy()
    commas: list[tuple[int, int]] = []
    points: list[tuple[int, int]] = []
    numeric = [c for c, name in enumerate(written) if _number_column(name)]
    for c in numeric:
        for r, cell in enumerate(frame.iloc[:, c].tolist()):  # a text table holds text only
            if "," in cell and _DECIMAL_COMMA_CELL.match(cell):
                commas.append((r, c))
            elif "." in cell and _DECIMAL_POINT_CELL.match(cell):
                points.append((r, c))
    if commas and points:

        def where(rc: tuple[int, int]) -> str:
            r, c = rc
            return f"row {frame.index[r]} ({pids[r]}) column {written[c]} {frame.iat[r, c]!r}"

        raise _table_error(
            source,
            "(file)",
            "this ';'-separated table writes decimals both with a comma "
            f"({where(commas[0])}) and with a point ({where(points[0])}), so '1,500' could be "
            "1.5 or 1500; write every decimal the same way",
        )
    for c in numeric:
        rows = [r for r, column in commas if column == c]
        if rows:
            cells = frame.iloc[rows, c].astype(str).str.replace(",", ".", regex=False)
            frame.iloc[rows, c] = cells.to_numpy(dtype=object)
    return frame


_PERCENT_CELL = re.compile(r"^\s*(?P<number>[^%]*?)\s*%\s*$")
_PLAIN_PERCENT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$")
_COMMA_PERCENT = re.compile(r"^[-+]?[0-9]+,[0-9]+$")


def _percent_signs(
    frame: pd.DataFrame, written: list[str | None], sep: str, pids: list[str]
) -> tuple[pd.DataFrame, list[FieldProblem]]:
    """Read ``50%`` typed as text in a percent column (``…_percent``) as 50; refuse it in any
    other number column, where the percentage is not in the column's unit.

    A number the reader would refuse anyway (``1.200%``, ``３%``) is left as written, so that its
    own refusal names the cell as the user wrote it.
    """
    problems: list[FieldProblem] = []
    copied = False
    for c, name in enumerate(written):
        if not _number_column(name):
            continue
        column = frame.iloc[:, c]
        signed = np.flatnonzero(column.astype(str).str.contains("%", regex=False).to_numpy())
        if not len(signed):
            continue
        if not copied:
            frame, copied = frame.copy(), True
        header = parse_table_header(str(name))
        unit = "" if isinstance(header, str) else header.unit
        for r in map(int, signed):
            cell = frame.iat[r, c]
            if not isinstance(cell, str):
                continue
            match = _PERCENT_CELL.match(cell)
            if match is None:
                continue  # refused as not a number, as written
            number = match["number"]
            if unit != "%":
                fix = (
                    f"in {unit}: write the value in {unit}, without '%'"
                    if unit
                    else "not in percent: write the number without '%'"
                )
                problems.append(
                    FieldProblem(
                        f"row {frame.index[r]} ({pids[r]}) column {name}",
                        cell,
                        f"is a percentage, but this column is {fix}",
                    )
                )
            elif (_PLAIN_PERCENT.match(number) and number_text_problem(number) is None) or (
                sep == ";" and _COMMA_PERCENT.match(number)
            ):
                frame.iat[r, c] = number
    return frame, problems


def _marker_problems(
    frame: pd.DataFrame, written: list[str | None], pids: list[str]
) -> list[FieldProblem]:
    """Cells holding a missing-value marker (``NA``, ``#N/A``, ``.``) or a spreadsheet error."""
    problems = []
    for c, name in enumerate(written):
        if name is None or name == "prior_therapies":  # refuses them with its own advice
            continue
        for r, cell in enumerate(frame.iloc[:, c].tolist()):
            if not isinstance(cell, str):
                continue
            folded = cell.strip().casefold()
            if folded not in MISSING_MARKERS and folded not in _SPREADSHEET_ERRORS:
                continue
            if folded in MISSING_MARKERS:
                message = number_text_problem(cell) or (
                    f"{cell.strip()!r} marks a missing value in some programs, not here: leave "
                    'the cell empty for a missing value (from R: write.csv(x, na = ""))'
                )
            else:
                message = (
                    f"the spreadsheet shows an error ({cell.strip()}) here; correct the formula, "
                    "or leave the cell empty for a missing value"
                )
            where = f"row {frame.index[r]} ({pids[r]}) column {name}"
            problems.append(FieldProblem(where, cell, message))
    return problems


def _read_raw(
    path: Path, sheet: str | int | None
) -> tuple[pd.DataFrame, int, str, str, list[_FormatCell] | None]:
    """The table's cells with its header row, the file row number of that header, the
    separator (``""`` for a workbook), how to name the table in messages and, for a workbook,
    its error and percentage cells (:func:`_sheet_cells`)."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(len(_OLE2_SIGNATURE))
    if suffix == ".xls" or (suffix in EXCEL_SUFFIXES and head == _OLE2_SIGNATURE):
        raise _table_error(str(path), "(file)", OLD_EXCEL)
    if suffix in EXCEL_SUFFIXES:
        if head[:2] != b"PK":  # a workbook is a zip archive
            raise _table_error(
                str(path),
                "(file)",
                f"is not an Excel workbook (a {suffix} file is a zip archive); if it is a "
                "text table, give it the suffix .csv or .tsv",
            )
        import openpyxl

        # one opening serves the choice of sheet and one pass over it its cells and formats
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            name, source = _sheet_to_read(workbook, path, sheet)
            raw, formats = _sheet_cells(workbook[name])
        finally:
            workbook.close()
        return raw, 1, "", source, formats
    if sheet is not None:
        raise _table_error(
            str(path), "(sheet)", f"sheet={sheet!r} is for Excel workbooks; this is a text table"
        )
    sep, skip = text_separator(path, "\t" if suffix in {".tsv", ".tab"} else ",")
    raw = pd.read_csv(
        path,
        sep=sep,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        skiprows=skip,
        encoding="utf-8-sig",
    )
    return raw, 1 + skip, sep, str(path), None


def _header_line_below(path: Path) -> int | None:
    """The line number of a text table's column names when they are below its first line (a
    title line above them), told by a cell ``patient_id``; else ``None``."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            lines = [handle.readline() for _ in range(_HEADER_SEARCH_ROWS + 1)]
    except OSError:
        return None
    for number, line in enumerate(lines[1:], start=2):
        if "patient_id" in (cell.strip().strip('"') for cell in re.split("[,;\t]", line)):
            return number
    return None


def _read_error(path: Path, exc: Exception) -> ValidationError:
    """Why a table file cannot be read, in words a user can act on."""
    if isinstance(exc, UnicodeDecodeError):
        utf16 = exc.object[:2] in (b"\xff\xfe", b"\xfe\xff") if exc.start == 0 else False
        what = "UTF-16 text (as Excel's 'Unicode Text' saves it)" if utf16 else "not UTF-8 text"
        return _table_error(
            str(path),
            "(file)",
            # no byte position: pandas decodes in chunks and counts from the chunk's start
            f"is {what}; save it as CSV UTF-8 (Excel: Save As › CSV UTF-8)",
        )
    text = str(exc)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        expected, line, saw = fields.groups()
        below = _header_line_below(path)
        if below is not None:
            return _table_error(str(path), "row 1", _names_below(1, below))
        return _table_error(
            str(path),
            f"line {line}",
            f"has {saw} cells but the header has {expected}: a separator inside a cell "
            "(a decimal comma such as 1,5, or a list) splits it; write 1.5, or put the cell "
            "in double quotes",
        )
    unclosed = re.search(r"EOF inside string starting at row (\d+)", text)
    if unclosed:
        return _table_error(
            str(path),
            f"row {int(unclosed.group(1)) + 1}",
            'a cell opened with a double quote (") is not closed before the end of the file; '
            "close it, or remove the stray quote",
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return _table_error(str(path), "(file)", "cannot be read as a table: it is empty")
    first = text.splitlines()[0] if text else type(exc).__name__
    return _table_error(str(path), "(file)", f"cannot be read as a table: {first}")


def read_frame(path: Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/Excel file as cells (empty cells as ``""`` or NaN), refusing what would be
    misread.

    The frame's index is the row number each row has in the file (the header is row 1), so
    that messages name the row a spreadsheet shows; rows with every cell empty are left out.
    ``frame.attrs["source"]`` names the file (and the sheet read, for a workbook of several).

    Refused, naming the cells: a repeated column name (pandas would rename it ``crp.1``), a row
    with more cells than the header, a missing-value marker (:data:`MISSING_MARKERS`) or a
    spreadsheet error (``#DIV/0!``), a workbook with more than one sheet of data and no
    ``sheet``, and an ``.xls`` workbook. A ``;``-separated file (Excel's CSV where the decimal
    mark is the comma) is read with its decimal commas (``1,5`` is 1.5) in the number columns.
    A percentage typed as text (``50%``) is read as 50 in a percent column (``…_percent``) and
    refused in any other number column.

    Parameters
    ----------
    path
        ``.csv``, ``.tsv``/``.tab`` (compressed too) or ``.xlsx``/``.xlsm``.
    sheet
        For a workbook: the sheet to read, by name or 0-based position; by default the one
        sheet that holds data.

    Returns
    -------
    pandas.DataFrame
        One column per named header cell, one row per non-empty row.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("patient_id;diagnosis;crp_mg_per_L\\nP1;FL;1,5\\n")
    >>> read_frame(path).loc[2, "crp_mg_per_L"]
    '1.5'
    """
    try:
        raw, header_row, sep, source, formats = _read_raw(path, sheet)
    except ValidationError:
        raise
    except (
        ValueError,
        OSError,
        ImportError,  # a workbook format whose reader is not installed
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        zipfile.BadZipFile,  # an .xlsx that is not a zip archive
        pd.errors.OptionError,  # a zip archive that is not a workbook
        KeyError,  # a zip archive without a workbook's parts
    ) as exc:
        raise _read_error(path, exc) from None
    if raw.empty:
        raise _table_error(source, "(file)", "cannot be read as a table: it is empty")
    written = [None if _missing(v) else (str(v).strip() or None) for v in raw.iloc[0]]
    return _checked_cells(
        raw.iloc[1:].copy(), written, header_row=header_row, sep=sep, source=source, formats=formats
    )


def check_frame(table: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Check a ``DataFrame`` of patient cells as :func:`read_frame` checks a file's cells.

    The same cells are refused with the same messages as in a file: a column name given twice
    (after surrounding spaces are removed), a column with values but no name, a missing-value
    marker (``NA``, ``-``, ``#N/A``) or a spreadsheet error text in any column, and a
    percentage (``45%``) outside a percent column; ``45%`` in a percent column is read as 45.
    Rows with every cell empty (``None``, NaN, ``pd.NA``, blank text) are left out. Two
    checks are only for files: decimal commas are read only in a ``;``-separated file, the
    separator telling that the comma is the decimal mark (a frame has none, so ``1,5`` is
    refused with the advice to write ``1.5``, as in a ``,``-separated file), and percentage
    and error formats exist only in a workbook.

    A frame that :func:`read_frame` (or this function) returned is checked again as it is,
    keeping the file's name (``attrs["source"]``) and, while its index is still the file's row
    numbers (whole numbers from 2, increasing: rows may have been left out, not reordered), its
    rows: messages name the cells as they would name them in the file.

    Parameters
    ----------
    table
        Cells under their column names, as a table file holds them.
    source
        How messages name the table; by default the file a :func:`read_frame` frame came from,
        else ``(table)``.

    Returns
    -------
    pandas.DataFrame
        The cells (objects; empty ones ``None``), indexed by the row number the table would
        have in a file (the header is row 1), columns named as written without surrounding
        spaces; ``attrs["source"]`` is ``source``.

    Raises
    ------
    ValidationError
        Naming each refused cell as ``row N (patient id) column NAME``.

    Examples
    --------
    >>> frame = pd.DataFrame({"patient_id": ["P1"], "pdl1_tps_percent": ["45%"]})
    >>> check_frame(frame).loc[2, "pdl1_tps_percent"]
    '45'
    """
    cells = table.astype(object)
    cells = cells.where(cells.notna(), None)
    written = [None if _missing(c) else (str(c).strip() or None) for c in table.columns]
    read = table.attrs.get("source")
    if source is None:
        source = read if isinstance(read, str) else "(table)"
    rows = table.index if isinstance(read, str) and _file_rows(table.index) else None
    return _checked_cells(
        cells, written, header_row=1, sep="", source=source, formats=None, rows=rows
    )


def _file_rows(index: pd.Index) -> bool:
    """Whether ``index`` is row numbers of a file as :func:`read_frame` gives them (whole
    numbers from 2, increasing), rather than positions."""
    if not pd.api.types.is_integer_dtype(index.dtype):
        return False
    numbers = index.to_numpy()
    return bool(len(numbers) == 0 or (numbers[0] >= 2 and (np.diff(numbers) > 0).all()))


_HEADER_SEARCH_ROWS = 10
"""How many rows below the first a table's column names are looked for (a title above them)."""


def _names_below(first: int, found: int) -> str:
    return (
        f"the column names are in row {found} (where 'patient_id' is), not in row {first}: "
        "delete the rows above them (a title, a merged group header), so that the names are "
        "the first row"
    )


def _header_row_below(frame: pd.DataFrame) -> int | None:
    """The file row number of the first of the rows just below the header that has a cell
    ``patient_id``: the table's column names, under a title or a group header row."""
    for number, row in zip(
        frame.index[:_HEADER_SEARCH_ROWS],
        frame.head(_HEADER_SEARCH_ROWS).itertuples(index=False),
        strict=True,
    ):
        if any(isinstance(cell, str) and cell.strip() == "patient_id" for cell in row):
            return int(number)
    return None


def _names_a_column(text: str) -> bool:
    """Whether ``text`` is a column name, or one with its unit in brackets (``CRP (mg/dL)``)
    that names a known column once written as the reader asks (``crp_mg_per_dL``)."""
    if not isinstance(parse_table_header(text), str):
        return True
    candidate = _unit_in_name(text)
    return candidate is not None and not isinstance(parse_table_header(candidate), str)


def _names_split(frame: pd.DataFrame, written: list[str | None], header_row: int) -> str | None:
    """Why the column names look split over two rows, or ``None``.

    A workbook with a group header (a merged ``Laboratory`` cell above ``crp_mg_per_L`` and
    ``ldh_U_per_L``, ``patient_id`` merged down over both rows) has the group names in the
    header row and the column names of the group in the row below, where a column without a
    name or with an unknown one has a known column name below it.
    """
    if frame.empty:
        return None
    below = frame.iloc[0].tolist()
    moved = [
        c
        for c, name in enumerate(written)
        if c < len(below)
        and isinstance(below[c], str)
        and _names_a_column(below[c].strip())
        and (name is None or isinstance(parse_table_header(name), str))
    ]
    if not moved:
        return None
    # the group of a column is the nearest header at or left of it (a merged cell keeps its
    # text in its first column), unless that is a column name itself
    nearest = [next((written[g] for g in range(c, -1, -1) if written[g]), None) for c in moved]
    groups = sorted(
        {str(n) for n in nearest if n is not None and isinstance(parse_table_header(n), str)}
    )
    named = ", ".join(f"{_column_letter(c)} ({str(below[c]).strip()})" for c in moved)
    group = f" below the group header {', '.join(map(repr, groups))}" if groups else ""
    second = frame.index[0]
    return (
        f"the column names are split over rows {header_row} and {second}: row {second} names "
        f"column(s) {named}{group} in row {header_row}, which groups them; write every column "
        f"name in row {second} (unmerge merged cells first: a merged cell keeps its text in its "
        f"first row only) and delete row {header_row}, so that the names are the first row"
    )


def _checked_cells(
    frame: pd.DataFrame,
    written: list[str | None],
    *,
    header_row: int,
    sep: str,
    source: str,
    formats: list[_FormatCell] | None,
    rows: pd.Index | None = None,
) -> pd.DataFrame:
    """The checks of :func:`read_frame` on the cells below a header (``written``, ``None`` for
    an empty header cell) at file row ``header_row``; ``sep`` is ``""`` for a workbook or a
    frame. ``rows`` are the cells' row numbers in the file, by default counted from the
    header."""
    twice = repeated(name or None for name in written)
    if twice:
        raise ValidationError(
            [
                FieldProblem(f"column {c}", None, "column name is written more than once; keep one")
                for c in twice
            ],
            source=source,
        )
    frame.index = (
        pd.RangeIndex(header_row + 1, header_row + 1 + len(frame)) if rows is None else rows
    )
    if "patient_id" not in written:
        below = _header_row_below(frame)
        if below is not None:
            raise _table_error(source, f"row {header_row}", _names_below(header_row, below))
    split = _names_split(frame, written, header_row)
    if split is not None:
        raise _table_error(source, f"row {header_row}", split)
    if formats is not None:  # a workbook's percentage and error formats; a text file has none
        frame = _workbook_formats(formats, frame, written, source)
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
                    "has values but no name in the header row; name it, or delete it"
                    + ("" if any(written) else " (the header row is empty: names go in row 1)"),
                )
                for i in with_values
            ],
            source=source,
        )
    empty = [
        all(map(_missing, row)) for row in zip(*(frame[c].tolist() for c in frame), strict=True)
    ]
    frame = frame.loc[[not e for e in empty]]
    named = [i for i, name in enumerate(written) if name is not None]
    frame = frame.iloc[:, named]
    written = [written[i] for i in named]
    frame.columns = [str(name) for name in written]
    ids = frame["patient_id"] if "patient_id" in frame.columns else None
    pids = [
        "?" if ids is None or _missing(v) else str(v).strip()
        for v in (ids if ids is not None else [None] * len(frame))
    ]
    problems = _marker_problems(frame, list(written), pids)
    frame, percent_problems = _percent_signs(frame, list(written), sep, pids)
    problems += percent_problems
    if problems:
        raise ValidationError(problems, source=source)
    if sep == ";":  # the one separator that says a comma is the decimal mark
        frame = _decimal_commas(frame, list(written), source, pids)
    frame.attrs["source"] = source
    return frame


_FormatCell = tuple[int, int, Any, str, str]
"""A workbook cell below the header: 0-based row (row 2 is 0) and column, value, data type,
number format."""

_PLAIN_NUMBER_FORMATS = frozenset({"", "General", "0", "@"})
"""Number formats that show a number as its digits (``@`` is Excel's text format)."""

_ID_COLUMNS = frozenset({"patient_id", "expression_sample_id"})


def _sheet_cells(worksheet: Any) -> tuple[pd.DataFrame, list[_FormatCell]]:
    """The cells of an openpyxl ``worksheet`` (header row included) and the cells below the
    header that show an error or that are numbers with a number format other than plain digits
    (see :func:`_workbook_formats`), read in one pass over the sheet.

    A cell holds its value as the workbook stores it, a whole number as an ``int`` (``5.0`` is
    5, as pandas reads it); an empty or error cell is NaN. Text is kept as written: unlike
    ``pandas.read_excel``, ``NA``, ``n/a``, ``#N/A`` or ``None`` typed in a cell are not made
    empty, so that they are refused (:data:`MISSING_MARKERS`) or read (``none`` for no prior
    therapy) as in a text table. Trailing empty rows and columns are left out.
    """
    worksheet.reset_dimensions()  # a workbook may declare a smaller extent than it holds
    rows: list[list[Any]] = []
    formats: list[_FormatCell] = []
    filled_rows = 0
    for r, row in enumerate(worksheet.iter_rows()):
        values: list[Any] = []
        width = 0
        for c, cell in enumerate(row):
            value, data_type = cell.value, cell.data_type
            number = isinstance(value, int | float) and not isinstance(value, bool)
            number_format = str(getattr(cell, "number_format", "") or "")
            if r > 0 and (
                data_type == "e" or (number and number_format not in _PLAIN_NUMBER_FORMATS)
            ):
                formats.append((r - 1, c, value, data_type, number_format))
            if value is None or data_type == "e" or value == "":
                values.append(math.nan)
                continue
            if number and float(value).is_integer() and math.isfinite(value):
                value = int(value)
            values.append(value)
            width = c + 1
        rows.append(values[:width])
        if width:
            filled_rows = r + 1
    rows = rows[:filled_rows]
    columns = max((len(row) for row in rows), default=0)
    cells = [row + [math.nan] * (columns - len(row)) for row in rows]
    return pd.DataFrame(cells, columns=range(columns), dtype=object), formats


def _workbook_formats(
    cells: list[_FormatCell], frame: pd.DataFrame, written: list[str | None], source: str
) -> pd.DataFrame:
    """Read cells that the workbook formats as a percentage as the percentage shown, and
    refuse error cells (``#DIV/0!``, ``#N/A``), which pandas reads as empty, and numbers in an
    identifier column shown with a number format (``0000`` shows 12 as 0012).

    Excel stores a cell shown as ``50%`` as 0.5; read as it is stored, a PD-L1 TPS of 50 % in
    ``pdl1_tps_percent`` would become 0.5 %. In a percent column (``…_percent``) such a cell is
    read as the percentage shown (50); in any other column it is refused, since what it means
    there cannot be known.
    """
    problems: list[FieldProblem] = []
    frame = frame.copy()
    id_column = written.index("patient_id") if "patient_id" in written else None
    for r, c, value, data_type, number_format in cells:
        if r >= frame.shape[0] or c >= frame.shape[1]:
            continue
        name = written[c] or f"{c + 1} ({_column_letter(c)})"
        pid = "?" if id_column is None else _row_id({"patient_id": frame.iat[r, id_column]})
        where = f"row {frame.index[r]} ({pid}) column {name}"
        if data_type != "e" and "%" not in number_format:
            if name in _ID_COLUMNS:
                # 12 formatted "0000" is shown as 0012 but stored as 12
                stored = number_as_text(value)
                shown = (
                    f"as {stored.zfill(len(number_format))} "
                    if re.fullmatch("0+", number_format) and stored.isdigit()
                    else ""
                )
                problems.append(
                    FieldProblem(
                        where,
                        value,
                        f"the workbook shows this identifier {shown}with the number format "
                        f"{number_format!r} but stores the number {stored}, which is what would "
                        "be read; format the column as text and type the identifiers as they "
                        "should be kept",
                    )
                )
            continue
        if data_type == "e":
            problems.append(
                FieldProblem(
                    where,
                    value,
                    f"the workbook shows an error ({value}) here; correct the formula, or leave "
                    "the cell empty for a missing value",
                )
            )
        elif name.endswith("_percent"):
            frame.iat[r, c] = round_significant(float(value) * 100)
        else:
            problems.append(
                FieldProblem(
                    where,
                    float(value),
                    f"the workbook shows this cell as a percentage ({float(value) * 100:g}%) but "
                    "the column is not in percent; remove the percentage format, or write the "
                    "value in the column's unit",
                )
            )
    if problems:
        raise ValidationError(problems, source=source)
    return frame


def _column_letter(index: int) -> str:
    """The spreadsheet letter of the column at 0-based ``index`` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause Python's automatic garbage collection while records are built.

    Building ten thousand records allocates millions of objects that all stay alive, and each
    automatic collection walks every one of them again: most of a large table's reading time
    went there. The records hold no reference cycles to free, so nothing is lost by waiting;
    collection is resumed (if it was on) when the records are built, or on an error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_records(
    headers: list[_Header],
    by_row: list[tuple[Any, ...]],
    cells: Mapping[str, list[Any]],
    has_ids: bool,
    wheres: list[str],
    pids: list[str],
    base: Path | None,
    problems: list[FieldProblem],
) -> tuple[list[PatientRecord], list[Outcome]]:
    """The records and outcomes of a table's rows (``by_row``: what each cell of a row gives,
    :func:`_column_values`), adding each bad cell to ``problems``."""
    records: list[PatientRecord] = []
    outcomes: list[Outcome] = []
    text_columns = [h for h in headers if is_text_column(h)]
    for i, (row_values, where, pid) in enumerate(zip(by_row, wheres, pids, strict=True)):
        data, outcome, origin = _row_to_data(headers, list(row_values))
        if has_ids:  # a blank id is named by its column too
            origin.setdefault(("patient", "id"), "patient_id")
        for h in text_columns:
            if isinstance(cells[h.name][i], dt.date):
                problems.append(
                    FieldProblem(f"{where} column {h.name}", str(cells[h.name][i]), DATE_IN_TEXT)
                )
        try:
            records.append(PatientRecord.model_validate(data, context=FROM_TEXT).read_from(base))
        except pydantic.ValidationError as exc:
            for p in field_problems(exc, PatientRecord):
                loc = tuple(
                    int(x) if x.isdigit() else x for x in re.split(r"[.\[\]]+", p.field) if x
                )
                column = _column_of(loc, origin)
                problems.append(
                    FieldProblem(
                        f"{where} column {column}",
                        _cell(p.value, cells, i, column),
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
                    if p.field == "patient_id":  # reported once, under patient_id, by the record
                        continue
                    col = origin.get(("outcome", p.field)) or _outcome_columns(p.message, origin)
                    problems.append(
                        FieldProblem(
                            f"{where} column {col}", _cell(p.value, cells, i, col), p.message
                        )
                    )
    return records, outcomes


def read_table(
    table: str | Path | pd.DataFrame,
    *,
    sheet: str | int | None = None,
    folder: str | Path | None = None,
) -> Cohort:
    """Read a CSV, TSV or Excel table of patients (one row each) with any outcome columns.

    Parameters
    ----------
    table
        ``.csv``, ``.tsv`` or ``.xlsx`` file; see this module's documentation for the columns.
        A ``;``-separated ``.csv`` (Excel's CSV where the decimal mark is the comma) is read
        with its decimal commas; see :func:`read_frame` for what is refused. Or a
        ``DataFrame`` of the same columns, its cells checked by :func:`check_frame` as a
        file's are; the cells :func:`read_frame` returned are read without opening the file
        again, messages naming the file and its rows as they would for the file.
    sheet
        For a workbook: the sheet to read, by name or 0-based position. By default the one
        sheet that holds data; a workbook with several is refused, naming them. Refused with
        a ``DataFrame``.
    folder
        The folder that relative paths in the records (an ``expression_path``) are read from;
        by default the table file's folder, and for a ``DataFrame`` none (the working
        directory, or the ``base_dir`` given to :func:`~immunoprecise.profile`).

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

    A sheet read once, its cells looked at before they are read as records:

    >>> cells = read_frame(example_path("fl_cohort.csv"))
    >>> "diagnosis" in cells.columns, len(read_table(cells).records)
    (True, 200)
    """
    if isinstance(table, pd.DataFrame):
        if sheet is not None:
            raise _table_error(
                str(table.attrs.get("source", "(table)")),
                "(sheet)",
                f"sheet={sheet!r} is for Excel workbooks; a DataFrame holds one table",
            )
        frame = check_frame(table)
        base = None if folder is None else Path(folder)
    else:
        path = Path(table)
        frame = read_frame(path, sheet=sheet)
        base = path.parent if folder is None else Path(folder)
    numbers, cells, source = _frame_columns(frame)
    if not numbers:
        raise ValidationError(
            [FieldProblem("(file)", None, "the table has no rows")], source=source
        )
    scalars = _scalar_columns()
    headers: list[_Header] = []
    problems: list[FieldProblem] = []
    for name in cells:
        parsed = _parse_header(name, scalars)
        if isinstance(parsed, str):
            problems.append(FieldProblem(f"column {name}", None, parsed))
        else:
            headers.append(parsed)
    targets: dict[tuple[str, ...], str] = {}
    for h in headers:
        twice = field_filled_twice(h, targets)
        if twice is not None:
            problems.append(twice)
    ids = cells.get("patient_id")
    pids = [_id_text(cell) for cell in ids] if ids is not None else ["?"] * len(numbers)
    wheres = [f"row {number} ({pid})" for number, pid in zip(numbers, pids, strict=True)]
    read_cells: dict[str, list[Any]] = {}  # columns read other than as written
    for h in headers:  # an event column is read as a whole: 1/2 is refused, not each 2
        if h.kind == "scalar" and h.path[0] == "outcome" and h.path[1] in EVENT_COLUMNS:
            flags, refused = event_flags(h.name, cells[h.name], wheres)
            problems += refused
            read_cells[h.name] = flags
    if problems:
        raise ValidationError(problems, source=source)
    # every column read at once (its cells stripped, parsed as numbers with their units), and
    # each row's record built from what its cells give
    values = [_column_values(h, read_cells.get(h.name, cells[h.name])) for h in headers]
    by_row = list(zip(*values, strict=True)) if values else [() for _ in numbers]
    with _collection_paused():
        records, outcomes = _build_records(
            headers, by_row, cells, ids is not None, wheres, pids, base, problems
        )
    rows_of: dict[str, list[int]] = {}
    for number, pid in zip(numbers, pids, strict=True):
        rows_of.setdefault(pid, []).append(number)
    for pid, numbers in rows_of.items():
        if len(numbers) > 1 and pid != "?":  # named with its rows, not only as the cohort's ids
            problems.append(id_on_rows(pid, numbers))
    for group in ids_differing_in_case(pid for pid in rows_of if pid != "?"):
        problems.append(ids_in_another_case(group, rows_of))
    if problems:
        raise ValidationError(problems, source=source)
    try:
        return Cohort(records=tuple(records), outcomes=tuple(outcomes))
    except pydantic.ValidationError as exc:
        raise ValidationError(field_problems(exc, Cohort), source=source) from None
