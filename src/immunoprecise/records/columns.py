"""Patients as columns: one array per record field, for work over large tables at once.

:class:`RecordColumns` holds the fields of ``n`` patients in their canonical units — numbers as
``float64`` arrays with ``NaN`` for a missing value, texts as ``object`` arrays with ``None``. It
is built either from validated records (:func:`record_columns`) or straight from a table in the
layout of :func:`~immunoprecise.records.read_table` (:func:`table_columns`), which converts and
range-checks whole columns without building a record per row.

Keys are field paths as in :func:`~immunoprecise.records.record_fields` (``host.crp``,
``tumor.msi_status``), plus:

=============================================  ================================================
key                                            holds
=============================================  ================================================
``microenvironment.densities[CD8, tumor_core]``  IHC density of a marker in a region (cells/mm²)
``disease.burden[latest].<measure>``           the latest recorded burden: ``marrow_blasts``
                                               and ``m_protein`` each from the latest entry
                                               that has it; ``cell_count``,
                                               ``sum_of_diameters`` and ``spd`` (one tumour
                                               size measurement) from the latest entry that
                                               has any of them
``patient.prior_therapies``                    number of prior lines (distinct line numbers)
``patient.autoimmune_diseases``                1 if any autoimmune disease is recorded, else 0
``tumor.driver_mutations``                     tuple of ``(gene, alteration)`` per patient
``tumor.antigens``                             tuple of ``(name, kind, status)`` per patient
``patient.prior_therapies[]``                  tuple of ``(name, class, date, irae_grade)``
                                               per patient (date: ISO end, else start, or None)
``patient.hla_type``                           the HLA alleles as text, ``A*02:01, B*07:02``
``patient.comorbidities``                      tuple of the comorbidities per patient
``host.cytokines{IFNG}``                       a serum cytokine (pg/mL)
``tumor.hypoxia[CA9]``                         a hypoxia marker, percent of cells positive
``disease.risk_indices[FLIPI].score``          a risk index's score (``.category``: its group)
``outcome.<treatment, best_response, pfs,      a cohort table's outcome columns (times in
os, pfs_event, os_event>``                     days, events 1/0, read as ``read_table``
                                               reads them; only from a table)
``toxicity[]``                                 tuple of the record's toxicity observations
                                               (``ToxicityObservation``), None when it has none
=============================================  ================================================
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pydantic
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from immunoprecise.errors import FieldProblem, UnitError, ValidationError
from immunoprecise.records.cell_text import number_as_text
from immunoprecise.records.cohort import Outcome
from immunoprecise.records.disease import ONCOTREE_PATTERN, BurdenMeasurement, RiskIndex
from immunoprecise.records.events import event_flags
from immunoprecise.records.fields import FieldDoc, record_fields
from immunoprecise.records.host import CytokineLevel
from immunoprecise.records.microenvironment import IHCDensity
from immunoprecise.records.patient import HLA_ALLELE as _HLA
from immunoprecise.records.patient import (
    NO_PRIOR_THERAPY,
    PATIENT_ID_PATTERN,
    BestResponse,
    ids_differing_in_case,
    is_none_placeholder,
)
from immunoprecise.records.quantity import Quantity
from immunoprecise.records.record import PatientRecord
from immunoprecise.records.scalars import (
    SUSPICIOUS_NUMBER,
    CalendarDate,
    canonical_choice,
    number_text_problem,
    number_with_unit,
)
from immunoprecise.records.table import (
    DATE_IN_TEXT,
    check_frame,
    field_filled_twice,
    id_on_rows,
    ids_in_another_case,
    is_text_column,
    parse_table_header,
    read_frame,
    table_items,
)
from immunoprecise.records.tumor import AntigenKind, HypoxiaMarker, Positivity
from immunoprecise.records.units import convert, convert_array
from immunoprecise.records.validation import field_problems

__all__ = [
    "RecordColumns",
    "cytokine_key",
    "density_key",
    "hypoxia_key",
    "latest_burden",
    "record_columns",
    "risk_key",
    "table_columns",
]

Array = npt.NDArray[Any]
_NUMERIC_KINDS = {"quantity", "integer", "number"}
_MAX_PROBLEMS = 50
_CODE = re.compile(ONCOTREE_PATTERN)
_BURDEN_MEASURES = ("sum_of_diameters", "spd", "cell_count", "marrow_blasts", "m_protein")
# one tumour size measurement: taken together from one entry (the tumour-cell estimate prefers
# the cell count, then the sum of diameters, then the SPD of the same measurement)
_SIZE_MEASURES = ("sum_of_diameters", "spd", "cell_count")


def density_key(marker: str, region: str) -> str:
    """The column key of an IHC density, e.g. ``microenvironment.densities[CD8, tumor_core]``."""
    return f"microenvironment.densities[{marker.upper()}, {region}]"


def cytokine_key(name: str) -> str:
    """The column key of a serum cytokine, e.g. ``host.cytokines{IFNG}`` (pg/mL)."""
    return f"host.cytokines{{{name.upper()}}}"


def hypoxia_key(marker: str) -> str:
    """The column key of a hypoxia marker's percent positive, e.g. ``tumor.hypoxia[CA9]``."""
    return f"tumor.hypoxia[{marker.upper()}]"


def risk_key(name: str, what: str) -> str:
    """The column key of a risk index's score or category, e.g.
    ``disease.risk_indices[FLIPI].score``."""
    return f"disease.risk_indices[{name.upper()}].{what}"


def burden_key(measure: str) -> str:
    """The column key of a measure of the latest burden, e.g. ``disease.burden[latest].spd``."""
    return f"disease.burden[latest].{measure}"


def latest_burden(burden: Sequence[BurdenMeasurement]) -> dict[str, Quantity]:
    """The latest recorded value of each burden measure.

    A later entry that lacks a measure does not hide it: ``marrow_blasts`` and ``m_protein``
    each come from the latest entry that has it, and the tumour size measures (``cell_count``,
    ``sum_of_diameters``, ``spd``) from the latest entry that has any of them, together (so an
    older cell count never stands in for a newer sum of diameters).

    Examples
    --------
    >>> from immunoprecise.records.disease import BurdenMeasurement
    >>> burden = [BurdenMeasurement(date="2026-03-01", marrow_blasts=62),
    ...           BurdenMeasurement(date="2026-03-20", cell_count=1e11)]
    >>> {k: q.value for k, q in latest_burden(burden).items()}
    {'cell_count': 100000000000.0, 'marrow_blasts': 62.0}
    """
    newest_first = sorted(burden, key=lambda b: b.date, reverse=True)
    out: dict[str, Quantity] = {}
    size = next(
        (b for b in newest_first if any(getattr(b, m) is not None for m in _SIZE_MEASURES)), None
    )
    groups: list[tuple[tuple[str, ...], BurdenMeasurement | None]] = [(_SIZE_MEASURES, size)]
    for measure in ("marrow_blasts", "m_protein"):
        entry = next((b for b in newest_first if getattr(b, measure) is not None), None)
        groups.append(((measure,), entry))
    for measures, entry in groups:
        for measure in measures:
            q = getattr(entry, measure) if entry is not None else None
            if q is not None:
                out[measure] = q
    return out


@dataclass(frozen=True)
class RecordColumns:
    """Record fields of ``n`` patients as columns (see the module documentation for the keys).

    Examples
    --------
    >>> import immunoprecise as ip
    >>> cols = record_columns([ip.read_patient(ip.data.example_path("crc_msih.json"))])
    >>> cols.n, cols.text("tumor.msi_status")[0], bool(cols.present("tumor.pdl1_tps")[0])
    (1, 'MSI-H', False)
    """

    n: int
    patient_ids: Array
    columns: Mapping[str, Array]

    def number(self, key: str) -> npt.NDArray[np.float64]:
        """The numbers under ``key`` (all NaN if no patient has the field)."""
        col = self.columns.get(key)
        return np.full(self.n, np.nan) if col is None else col

    def text(self, key: str) -> Array:
        """The texts (or tuples) under ``key`` (all None if no patient has the field)."""
        col = self.columns.get(key)
        return np.full(self.n, None, dtype=object) if col is None else col

    def present(self, key: str) -> npt.NDArray[np.bool_]:
        """Which patients have a value under ``key``."""
        col = self.columns.get(key)
        if col is None:
            return np.zeros(self.n, dtype=bool)
        if col.dtype == object:
            return np.asarray(col != None, dtype=bool)  # noqa: E711 (element-wise)
        return ~np.isnan(col)

    def keys(self, prefix: str = "") -> list[str]:
        """The keys that start with ``prefix``, sorted."""
        return sorted(k for k in self.columns if k.startswith(prefix))

    def take(self, rows: npt.NDArray[np.intp]) -> RecordColumns:
        """The patients at positions ``rows``."""
        return RecordColumns(
            n=len(rows),
            patient_ids=self.patient_ids[rows],
            columns={k: v[rows] for k, v in self.columns.items()},
        )


@functools.cache
def _scalar_fields() -> tuple[FieldDoc, ...]:
    return tuple(
        f
        for f in record_fields()
        if "[]" not in f.path and "{name}" not in f.path and not f.kind.startswith("list")
    )


def _leaf(record: PatientRecord, path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        node = getattr(node, part)
        if node is None:
            return None
    if isinstance(node, Quantity):
        return node.value
    if isinstance(node, enum.Enum):
        return node.value
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date is not None else None


def _prior_lines(record: PatientRecord) -> float:
    therapies = record.patient.prior_therapies
    if therapies is None:
        return np.nan  # not recorded
    numbered = {t.line for t in therapies if t.line is not None}
    return len(numbered) + sum(1 for t in therapies if t.line is None)


def record_columns(records: Sequence[PatientRecord]) -> RecordColumns:
    """Lay validated records out as columns.

    Parameters
    ----------
    records
        Validated patient records.

    Returns
    -------
    RecordColumns
        One entry per record, in order.
    """
    n = len(records)
    data: dict[str, Array] = {}
    for f in _scalar_fields():
        values = [_leaf(r, f.path) for r in records]
        if f.kind in _NUMERIC_KINDS:
            data[f.path] = np.array([np.nan if v is None else v for v in values], dtype=float)
        else:
            data[f.path] = np.array(values, dtype=object)

    def put(key: str, i: int, value: float) -> None:
        data.setdefault(key, np.full(n, np.nan))[i] = value

    drivers = np.empty(n, dtype=object)
    antigens = np.empty(n, dtype=object)
    history = np.empty(n, dtype=object)
    hla = np.full(n, None, dtype=object)
    toxicity = np.full(n, None, dtype=object)
    comorbidities = np.empty(n, dtype=object)
    for i, r in enumerate(records):
        if r.toxicity:
            toxicity[i] = r.toxicity
        for d in r.microenvironment.densities:
            put(density_key(d.marker, d.region.value), i, d.density.value)
        for measure, q in latest_burden(r.disease.burden).items():
            put(burden_key(measure), i, q.value)
        put("patient.prior_therapies", i, _prior_lines(r))
        therapies = r.patient.prior_therapies
        history[i] = (
            None
            if therapies is None
            else tuple(
                (t.name, t.therapy_class or "", _iso(t.end or t.start), t.irae_grade)
                for t in therapies
            )
        )
        hla[i] = ", ".join(r.patient.hla_type) or None
        comorbidities[i] = r.patient.comorbidities
        for name, q in r.host.cytokines.items():
            put(cytokine_key(name), i, q.value)
        for marker in r.tumor.hypoxia:
            if marker.percent_positive is not None:
                put(hypoxia_key(marker.marker), i, marker.percent_positive.value)
        for index in r.disease.risk_indices:
            if index.score is not None:
                put(risk_key(index.name, "score"), i, index.score)
            if index.category is not None:
                data.setdefault(risk_key(index.name, "category"), np.full(n, None, dtype=object))[
                    i
                ] = index.category
        put("patient.autoimmune_diseases", i, float(bool(r.patient.autoimmune_diseases)))
        drivers[i] = tuple((m.gene, m.alteration) for m in r.tumor.driver_mutations)
        antigens[i] = tuple((a.name, a.kind.value, a.status.value) for a in r.tumor.antigens)
    data["tumor.driver_mutations"] = drivers
    data["tumor.antigens"] = antigens
    data["patient.prior_therapies[]"] = history
    data["patient.hla_type"] = hla
    data["toxicity[]"] = toxicity
    data["patient.comorbidities"] = comorbidities
    ids = np.array([r.patient.id for r in records], dtype=object)
    return RecordColumns(n=n, patient_ids=ids, columns=data)


class _Problems:
    """Collects bad cells as ``row N (patient) column NAME`` problems."""

    def __init__(self, ids: Array, row_numbers: npt.NDArray[np.int_]) -> None:
        self.ids = ids
        self.row_numbers = row_numbers  # each row's number in the file (the header is row 1)
        self.items: list[FieldProblem] = []
        self.count = 0

    def cells(self, column: str, rows: npt.NDArray[np.intp], raw: Array, message: str) -> None:
        self.count += len(rows)
        for i in rows[: max(0, _MAX_PROBLEMS - len(self.items))]:
            where = f"row {self.row_numbers[i]} ({self.ids[i]}) column {column}"
            self.items.append(FieldProblem(where, raw[i], message))

    def column(self, problem: FieldProblem) -> None:
        """Add a problem named as it is (a whole column's, or a cell's)."""
        self.count += 1
        self.items.append(problem)

    def raise_any(self, source: str) -> None:
        if self.count > len(self.items):
            more = self.count - len(self.items)
            self.items.append(FieldProblem("(table)", None, f"… and {more} more bad cells"))
        if self.items:
            raise ValidationError(self.items, source=source)


def _bad_ids(ids: Array, raw: Array, problems: _Problems) -> None:
    """Name each patient id that is not a pseudonymous identifier (``Pé-1``, ``P 1``) once,
    under ``patient_id``, with the message ``read_table`` gives."""
    given = pd.Series(ids[ids != None], dtype=object).drop_duplicates()  # noqa: E711
    # one vectorized match first: a table of a million ids is not validated id by id
    odd = given[~given.astype(str).str.fullmatch(PATIENT_ID_PATTERN.strip("^$"))]
    for pid in odd:
        try:
            Outcome.model_validate({"patient_id": pid})
        except pydantic.ValidationError as exc:
            for p in field_problems(exc, Outcome):
                problems.cells("patient_id", np.flatnonzero(ids == pid), raw, p.message)


def _repeated_ids(ids: Array, row_numbers: npt.NDArray[np.int_], problems: _Problems) -> None:
    """Name each patient id given on more than one row, with its rows, as ``read_table`` does
    (a table has one row per patient; two rows would be two profiles of one patient)."""
    given = pd.Series(ids[ids != None])  # noqa: E711
    for pid in given[given.duplicated()].unique():
        problems.column(id_on_rows(pid, row_numbers[np.flatnonzero(ids == pid)].tolist()))
    for group in ids_differing_in_case(given.unique().tolist()):
        rows_of = {pid: row_numbers[np.flatnonzero(ids == pid)].tolist() for pid in group}
        problems.column(ids_in_another_case(group, rows_of))


def _numbers(
    name: str,
    raw: Array,
    *,
    unit: str,
    target: str,
    bounds: tuple[float | None, float | None],
    range_text: str,
    integer: bool,
    problems: _Problems,
) -> npt.NDArray[np.float64]:
    """Parse, convert and range-check one column of numbers; missing cells stay NaN.

    A text cell that :func:`~immunoprecise.records.scalars.number_text_problem` finds would be
    misread (``1.200``, ``12,5``, ``10E8``, ``nan``, ``<5``) is refused with its advice, as
    :func:`~immunoprecise.records.read_table` refuses it.
    """
    series = pd.Series(raw, dtype=object)
    flags = np.fromiter((isinstance(c, bool | np.bool_) for c in raw), dtype=bool, count=len(raw))
    if flags.any():  # a spreadsheet's TRUE/FALSE is no number (pandas would read it as 1/0)
        problems.cells(name, np.flatnonzero(flags), raw, "expected a number, got true/false")
        series[flags] = None
    is_text = np.fromiter((isinstance(c, str) for c in raw), dtype=bool, count=len(raw))
    if is_text.any():
        texts = series[is_text].astype(str)
        for i in np.flatnonzero(is_text)[texts.str.match(SUSPICIOUS_NUMBER).to_numpy()]:
            problem = number_text_problem(str(raw[i]))
            if problem is not None:
                problems.cells(name, np.array([i]), raw, problem)
                series.iat[i] = None  # reported once, not again as "expected a number"
    values = np.array(pd.to_numeric(series, errors="coerce"), dtype=float)
    unparsed = np.isnan(values)
    if unparsed.any():  # blank cells are missing; padded numbers are read; the rest is bad
        rows = np.flatnonzero(unparsed)
        text = series.iloc[rows].astype(str).str.strip()
        values[rows] = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        blank = series.iloc[rows].isna().to_numpy() | text.isin(["", "nan", "NaN"]).to_numpy()
        bad = np.zeros(len(values), dtype=bool)
        bad[rows] = ~blank & np.isnan(values[rows])
    else:
        bad = np.zeros(len(values), dtype=bool)
    own_unit: dict[int, float] = {}  # cells written with their unit (1.2 mg/dL), in target
    if bad.any() and (unit or target):
        for i in np.flatnonzero(bad):
            written = number_with_unit(raw[i]) if isinstance(raw[i], str) else None
            if written is None:
                continue
            bad[i] = False
            try:
                own_unit[int(i)] = convert(written[0], written[1], target or unit)
            except UnitError as exc:  # as the record model words it for read_table
                message = f"{exc}; expected a unit like '{target or unit}'"
                problems.cells(name, np.array([i]), raw, message)
    if bad.any():
        expected = f"a number in {unit or target}" if (unit or target) else "a number"
        problems.cells(name, np.flatnonzero(bad), raw, f"expected {expected}")
    if unit and target and unit != target:
        values = convert_array(values, unit, target)
    for i, value in own_unit.items():
        values[i] = value
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        out = np.zeros(len(values), dtype=bool)
        if lo is not None:
            out |= values < lo
        if hi is not None:
            out |= values > hi
        if integer:
            out |= ~np.isnan(values) & (values != np.round(values))
    if out.any():
        what = f"an integer in {range_text}" if integer else f"a value in {range_text}"
        problems.cells(name, np.flatnonzero(out), raw, f"expected {what}")
    return values


def raw_missing(raw: Array) -> npt.NDArray[np.bool_]:
    """Which cells of a raw column are empty (None, NaN or blank text)."""
    series = pd.Series(raw, dtype=object)
    missing = series.isna().to_numpy() | (series == "").to_numpy()
    others = np.flatnonzero(~missing)
    if len(others):
        texts = series.iloc[others]
        is_text = np.array([isinstance(t, str) for t in texts], dtype=bool)
        padded = others[is_text]
        missing[padded] = series.iloc[padded].str.strip().eq("").to_numpy()
    return np.asarray(missing, dtype=bool)


def _texts(raw: Array) -> Array:
    series = pd.Series(raw, dtype=object)
    missing = raw_missing(raw)
    # a spreadsheet's number in a text column as read_table reads it (1001.0 → '1001')
    series = series.map(
        lambda c: number_as_text(c) if isinstance(c, int | float) and not isinstance(c, bool) else c
    )
    out = series.astype(str).str.strip().to_numpy(dtype=object)
    out[missing] = None
    return out


_DATE: TypeAdapter[dt.date] = TypeAdapter(CalendarDate)


def _dates(name: str, raw: Array, problems: _Problems) -> Array:
    """Read a column of dates as :func:`~immunoprecise.records.read_table` does (ISO 8601,
    1900-01-01 … tomorrow); the ISO texts, None for an empty cell."""
    # a spreadsheet's date-time cell is read as its date, as read_table reads it
    texts = _texts(np.array([c.date() if isinstance(c, dt.datetime) else c for c in raw], object))
    out = np.full(len(raw), None, dtype=object)
    for i, text in enumerate(texts):
        if text is None:
            continue
        try:
            out[i] = _DATE.validate_python(text).isoformat()
        except pydantic.ValidationError as exc:
            problems.cells(name, np.array([i]), raw, str(exc.errors()[0]["msg"]))
    return out


def _parse_lists(raw: Array, parse: Any) -> Array:
    out = np.empty(len(raw), dtype=object)
    missing = raw_missing(raw)
    for i, cell in enumerate(raw):
        out[i] = () if missing[i] else tuple(parse(item) for item in table_items(cell))
    return out


def _measurement(h: Any) -> tuple[Any, str]:
    """The measurement spec (unit, bounds, range text) and column key of an IHC density, burden,
    cytokine or hypoxia column."""
    if h.kind == "ihc":
        return (
            IHCDensity.model_fields["density"].metadata[0],
            density_key(h.groups["marker"], h.groups["region"]),
        )
    if h.kind == "burden":
        what = h.groups["what"]
        return BurdenMeasurement.model_fields[what].metadata[0], burden_key(what)
    if h.kind == "cytokine":
        return typing.get_args(CytokineLevel)[1], cytokine_key(h.groups["name"])
    return (
        HypoxiaMarker.model_fields["percent_positive"].metadata[0],
        hypoxia_key(h.groups["marker"]),
    )


def _named_lists(name: str, raw: Array, problems: _Problems) -> Array:
    """A list column of names (``comorbidities``, ``autoimmune_diseases``), refusing cells that
    hold a placeholder for none as an item, as the record refuses it."""
    lists = _parse_lists(raw, str)
    placeholders = [any(map(is_none_placeholder, items)) for items in lists]
    if any(placeholders):
        problems.cells(
            name,
            np.flatnonzero(placeholders),
            raw,
            "'none', 'N/A', '-' and the like are not names; leave the cell empty when none is "
            "known",
        )
    return lists


def _driver(item: str) -> tuple[str, str]:
    gene, _, alteration = item.partition(" ")
    return gene.upper(), alteration.strip() or "unspecified"


def _prior_therapy(item: str) -> tuple[str, str, None, None]:
    name = item.rpartition(":")[0] if ":" in item else item
    return name.strip(), "", None, None


def _antigen(item: str) -> tuple[str, str, str]:
    name, kind, status = ([p.strip() for p in item.split(":")] + ["", "", ""])[:3]
    # any letter case, as the record reads it (CD19:Lineage:Positive)
    kind = canonical_choice(kind, [k.value for k in AntigenKind]) or kind
    status = canonical_choice(status, [p.value for p in Positivity]) or status
    return name, kind, status


def _bounds_of(field: FieldInfo) -> tuple[float, float]:
    """The ``ge``/``le`` bounds of a whole-number field."""
    lo = next(m.ge for m in field.metadata if getattr(m, "ge", None) is not None)
    hi = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
    return float(lo), float(hi)


def _outcome_column(
    name: str, what: str, unit: str, raw: Array, data: dict[str, Array], problems: _Problems
) -> None:
    """Read an outcome column (``treatment``, ``best_response``, ``pfs_<unit>``, ``pfs_event``,
    ``os_<unit>``, ``os_event``) under the key ``outcome.<what>``, checked as
    :class:`~immunoprecise.records.Outcome` checks it (times in days, events 1/0)."""
    key = f"outcome.{what}"
    if what in ("pfs", "os"):
        spec = Outcome.model_fields[what].metadata[0]
        data[key] = _numbers(
            name,
            raw,
            unit=unit or spec.unit,
            target=spec.unit,
            bounds=(spec.ge, spec.le),
            range_text=spec.range_text,
            integer=False,
            problems=problems,
        )
    elif what.endswith("_event"):
        cells = [None if m else c for c, m in zip(raw, raw_missing(raw), strict=True)]
        where = [f"row {n} ({i})" for n, i in zip(problems.row_numbers, problems.ids, strict=True)]
        read, refused = event_flags(name, cells, where)
        for problem in refused:  # one for a column coded 1/2, not one per row
            problems.column(problem)
        if refused:
            # a refused cell counts as given: no "give both" problem for its row as well
            read = [None if c is None else True for c in cells]
        data[key] = np.array([np.nan if f is None else float(f) for f in read], dtype=float)
    elif what == "best_response":
        texts = _texts(raw)
        allowed = [b.value for b in BestResponse]
        canonical = [None if t is None else canonical_choice(t, allowed) for t in texts]
        bad = [t is not None and c is None for t, c in zip(texts, canonical, strict=True)]
        if any(bad):
            problems.cells(name, np.flatnonzero(bad), raw, "expected one of " + ", ".join(allowed))
        data[key] = np.array(canonical, dtype=object)
    else:
        data[key] = _texts(raw)


def table_columns(
    table: pd.DataFrame | str | Path, *, sheet: str | int | None = None
) -> RecordColumns:
    """Read a patient table (the layout of :func:`~immunoprecise.records.read_table`) as columns.

    Every column is parsed, converted to its field's unit and range-checked at once; no record is
    built per row. Columns the record does not know are refused as by ``read_table``.

    Parameters
    ----------
    table
        A ``DataFrame`` with the table's column names (its cells checked by
        :func:`~immunoprecise.records.table.check_frame` as a file's are: ``NA``, ``45%`` in a
        column not in percent, …), or the path of a CSV/TSV/Excel file (read by
        :func:`~immunoprecise.records.table.read_frame`, as ``read_table`` reads it).
    sheet
        For a workbook: the sheet to read, by name or 0-based position; by default the one
        sheet that holds data. Refused with a ``DataFrame``.

    Returns
    -------
    RecordColumns
        One entry per row, in order.

    Raises
    ------
    ValidationError
        Naming each bad cell as ``row N (patient id) column NAME`` with the value and what was
        expected (the first 50, and how many more).

    Examples
    --------
    >>> from immunoprecise.data import example_path
    >>> cols = table_columns(example_path("fl_cohort.csv"))
    >>> cols.n, round(float(cols.number("host.crp")[0]), 1)
    (200, 6.0)
    """
    if isinstance(table, pd.DataFrame):
        if sheet is not None:
            raise ValidationError(
                [
                    FieldProblem(
                        "(sheet)",
                        None,
                        f"sheet={sheet!r} is for Excel workbooks; a DataFrame holds one table",
                    )
                ],
                source=str(table.attrs.get("source", "(table)")),
            )
        # the cells a file with this header and these cells would hold, checked alike
        frame = check_frame(table)
    else:
        frame = read_frame(Path(table), sheet=sheet)
    source = frame.attrs["source"]
    row_numbers = frame.index.to_numpy(dtype=int)
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    header_problems: list[FieldProblem] = []
    headers = []
    targets: dict[tuple[str, ...], str] = {}
    for name in frame.columns:
        parsed = parse_table_header(name)
        if isinstance(parsed, str):
            header_problems.append(FieldProblem(f"column {name}", None, parsed))
            continue
        twice = field_filled_twice(parsed, targets)  # refused as read_table refuses it
        if twice is not None:
            header_problems.append(twice)
            continue
        headers.append(parsed)
    if "patient_id" not in frame.columns:
        header_problems.append(FieldProblem("column patient_id", None, "is required"))
    if header_problems:
        raise ValidationError(header_problems, source=source)
    n = len(frame)
    ids_raw = frame["patient_id"].to_numpy(dtype=object)
    ids = _texts(ids_raw)
    problems = _Problems(np.where(ids == None, "?", ids), row_numbers)  # noqa: E711
    if (ids == None).any():  # noqa: E711
        problems.cells("patient_id", np.flatnonzero(ids == None), ids_raw, "is required")  # noqa: E711
    _bad_ids(ids, ids_raw, problems)
    _repeated_ids(ids, row_numbers, problems)
    docs = {tuple(f.path.split(".")): f for f in _scalar_fields()}
    data: dict[str, Array] = {}
    for h in headers:
        raw = frame[h.name].to_numpy(dtype=object)
        if is_text_column(h):
            in_text = [isinstance(c, dt.date) for c in raw]
            if any(in_text):
                problems.cells(h.name, np.flatnonzero(in_text), raw, DATE_IN_TEXT)
        if h.kind == "scalar" and h.path in docs:
            doc = docs[h.path]
            if doc.kind in _NUMERIC_KINDS:
                spec = doc.spec
                data[doc.path] = _numbers(
                    h.name,
                    raw,
                    unit=h.unit or doc.unit,
                    target=doc.unit,
                    bounds=(spec.ge, spec.le) if spec else doc.bounds,
                    range_text=doc.range_text,
                    integer=doc.kind == "integer",
                    problems=problems,
                )
            else:
                texts = _texts(raw)
                allowed = set(doc.choices)
                if doc.kind == "ISO date":
                    data[doc.path] = _dates(h.name, raw, problems)
                    continue
                if doc.path == "disease.oncotree_code":
                    # OncoTree codes are capitals; 'luad' is LUAD, as the record model reads it
                    texts = np.array(
                        [None if t is None else t.upper() for t in texts], dtype=object
                    )
                    bad = [t is not None and not _CODE.match(t) for t in texts]
                    message = "expected an OncoTree code such as 'FL' or 'LUAD'"
                elif allowed:
                    # any letter case, written as the canonical value (msi-h → MSI-H)
                    canonical = [
                        None if t is None else canonical_choice(t, doc.choices) for t in texts
                    ]
                    bad = [
                        t is not None and c is None for t, c in zip(texts, canonical, strict=True)
                    ]
                    texts = np.array(
                        [c if c is not None else t for t, c in zip(texts, canonical, strict=True)],
                        dtype=object,
                    )
                    message = "expected one of " + ", ".join(doc.choices)
                else:
                    bad = []
                    message = ""
                if any(bad):
                    problems.cells(h.name, np.flatnonzero(bad), raw, message)
                data[doc.path] = texts
        elif h.kind == "scalar" and h.is_list and h.path == ("patient", "autoimmune_diseases"):
            diseases = _named_lists(h.name, raw, problems)
            data["patient.autoimmune_diseases"] = np.array([len(d) > 0 for d in diseases], float)
        elif h.kind in ("ihc", "burden", "cytokine", "hypoxia"):
            spec, key = _measurement(h)
            data[key] = _numbers(
                h.name,
                raw,
                unit=h.unit,
                target=spec.unit,
                bounds=(spec.ge, spec.le),
                range_text=spec.range_text,
                integer=False,
                problems=problems,
            )
        elif h.kind == "scalar" and h.is_list and h.path == ("patient", "comorbidities"):
            data["patient.comorbidities"] = _named_lists(h.name, raw, problems)
        elif h.kind == "risk":
            key = risk_key(h.groups["name"], h.groups["what"])
            if h.groups["what"] == "score":
                field = RiskIndex.model_fields["score"]
                bounds = _bounds_of(field)
                data[key] = _numbers(
                    h.name,
                    raw,
                    unit="",
                    target="",
                    bounds=bounds,
                    range_text=f"{bounds[0]:g}–{bounds[1]:g}",
                    integer=True,
                    problems=problems,
                )
            else:
                data[key] = _texts(raw)
        elif h.kind == "scalar" and h.path[0] == "outcome":
            _outcome_column(h.name, h.path[1], h.unit, raw, data, problems)
        elif h.kind == "driver_mutations":
            data["tumor.driver_mutations"] = _parse_lists(raw, _driver)
        elif h.kind == "antigens":
            antigens = _parse_lists(raw, _antigen)
            kinds, statuses = {k.value for k in AntigenKind}, {p.value for p in Positivity}
            bad = [
                any(not n or k not in kinds or st not in statuses for n, k, st in row)
                for row in antigens
            ]
            if any(bad):
                problems.cells(
                    h.name,
                    np.flatnonzero(bad),
                    raw,
                    "expected items name:kind:status, kind one of "
                    + ", ".join(sorted(kinds))
                    + "; status one of "
                    + ", ".join(sorted(statuses)),
                )
            data["tumor.antigens"] = antigens
        elif h.kind == "prior_therapies":
            lines = _parse_lists(raw, _prior_therapy)
            responses = [b.value for b in BestResponse]
            unknown = [
                any(
                    canonical_choice(item.rpartition(":")[2], responses) is None
                    for item in table_items(cell)
                    if ":" in item and item.rpartition(":")[2].strip()
                )
                if not missing
                else False
                for cell, missing in zip(raw, raw_missing(raw), strict=True)
            ]
            if any(unknown):
                problems.cells(
                    h.name,
                    np.flatnonzero(unknown),
                    raw,
                    "expected therapy:response, the response one of " + ", ".join(responses),
                )
            recorded = ~raw_missing(raw)  # an empty cell: not recorded
            naive = [len(t) == 1 and t[0][0].casefold() == NO_PRIOR_THERAPY for t in lines]
            for i in np.flatnonzero(naive):
                lines[i] = ()
            placeholders = [any(is_none_placeholder(t[0]) for t in row) for row in lines]
            if any(placeholders):
                problems.cells(
                    h.name,
                    np.flatnonzero(placeholders),
                    raw,
                    f"write {NO_PRIOR_THERAPY!r} alone for no prior therapy, or leave the cell "
                    "empty when it is not recorded",
                )
            lines[~recorded] = None
            data["patient.prior_therapies"] = np.array(
                [np.nan if t is None else len(t) for t in lines], dtype=float
            )
            data["patient.prior_therapies[]"] = lines
        elif h.kind == "scalar" and h.is_list and h.path == ("patient", "hla_type"):
            alleles = _parse_lists(raw, lambda a: a.strip().removeprefix("HLA-"))
            bad = [any(not _HLA.match(a) for a in row) for row in alleles]
            if any(bad):
                problems.cells(
                    h.name, np.flatnonzero(bad), raw, "expected HLA alleles such as 'A*02:01'"
                )
            data["patient.hla_type"] = np.array([", ".join(a) or None for a in alleles], object)
        elif h.kind != "burden_date":
            # a column read_table knows must never be dropped here without a word
            problems.count += 1
            problems.items.append(
                FieldProblem(f"column {h.name}", None, "is not read as columns; leave it out")
            )
    for what in ("pfs", "os"):
        time, event = data.get(f"outcome.{what}"), data.get(f"outcome.{what}_event")
        given = np.zeros(n, bool) if time is None else ~np.isnan(time)
        flagged = np.zeros(n, bool) if event is None else ~np.isnan(event)
        if (given != flagged).any():
            column = next(c for c in frame.columns if c.startswith(what))
            problems.cells(
                column,
                np.flatnonzero(given != flagged),
                frame[column].to_numpy(dtype=object),
                f"give both {what} and {what}_event, or neither",
            )
    pfs, os_ = data.get("outcome.pfs"), data.get("outcome.os")
    if pfs is not None and os_ is not None:  # as Outcome refuses it
        with np.errstate(invalid="ignore"):
            longer = np.flatnonzero(pfs > os_ + 1e-9)
        names = {h.path[1]: h.name for h in headers if h.path[0] == "outcome"}
        for i in longer:
            problems.cells(
                f"{names['pfs']}, {names['os']}",
                np.array([i]),
                np.full(n, None, dtype=object),  # two cells: named by their columns
                f"pfs ({pfs[i]:g} days) is longer than os ({os_[i]:g} days); progression-free "
                "time cannot exceed overall follow-up",
            )
    if "burden_date" in frame.columns:
        _dates("burden_date", frame["burden_date"].to_numpy(dtype=object), problems)
        dated = ~raw_missing(frame["burden_date"].to_numpy(dtype=object))
        measured = np.zeros(n, dtype=bool)
        for measure in _BURDEN_MEASURES:
            measured |= ~np.isnan(data.get(burden_key(measure), np.full(n, np.nan)))
        if (dated & ~measured).any():
            problems.cells(
                "burden_date",
                np.flatnonzero(dated & ~measured),
                frame["burden_date"].to_numpy(dtype=object),
                f"give at least one of {', '.join(_BURDEN_MEASURES)}",
            )
    problems.raise_any(source)
    data.setdefault("patient.prior_therapies", np.full(n, np.nan))  # no column: not recorded
    data.setdefault("patient.autoimmune_diseases", np.zeros(n))
    data.setdefault("patient.hla_type", np.full(n, None, dtype=object))
    if "patient.comorbidities" not in data:
        data["patient.comorbidities"] = _parse_lists(np.full(n, None, dtype=object), str)
    if "patient.prior_therapies[]" not in data:
        data["patient.prior_therapies[]"] = np.full(n, None, dtype=object)
    for key in ("tumor.driver_mutations", "tumor.antigens"):
        if key not in data:
            empty = np.empty(n, dtype=object)
            empty[:] = [()] * n
            data[key] = empty
    return RecordColumns(n=n, patient_ids=ids, columns=data)
