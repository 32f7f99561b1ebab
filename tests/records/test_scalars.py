"""A record's whole numbers, numbers, dates and flags take only what its JSON Schema allows.

pydantic's lax mode would read ``true`` as ECOG 1, ``"3"`` as 3 and ``0`` as 1970-01-01. In a
document these are refused with the field named; in a table (text cells) numeric text is read.
The fields are found by walking the model, so a field added later is checked too.
"""

from __future__ import annotations

import copy
import datetime as dt
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest

from immunoprecise.errors import ValidationError
from immunoprecise.records import PatientRecord, read_table, validate_model
from immunoprecise.records.cohort import Outcome
from immunoprecise.records.scalars import FROM_TEXT, CalendarDate, Flag, Number, WholeNumber

KINDS = {
    typing.get_args(alias)[1]: name
    for alias, name in (
        (WholeNumber, "whole"),
        (Number, "number"),
        (CalendarDate, "date"),
        (Flag, "flag"),
    )
}

# Smallest valid item of each list the scalars live in.
ITEMS: dict[str, dict[str, Any]] = {
    "patient.prior_therapies": {"name": "R-CHOP"},
    "disease.risk_indices": {"name": "FLIPI"},
    "disease.burden": {"date": "2026-01-05", "sum_of_diameters": 50},
    "tumor.hypoxia": {"marker": "CA9"},
    "toxicity": {"day": 1},
}

# Values a document must not give, and a valid value read from text in a table cell.
REFUSED = {
    "whole": [True, "2", "two"],
    "number": [False, "2.5"],
    "date": [20260105, 1.5e9, True, "1767571200", "05/01/2026", "2026-01-05T13:00"],
    "flag": ["yes", 1, 0.0, "true"],
}
FROM_TEXT_OK = {"whole": "2", "number": "2.5", "date": "2026-01-05", "flag": "yes"}
ACCEPTED = {"whole": [2, 2.0], "number": [2, 2.5], "date": ["2026-01-05"], "flag": [True, False]}


def _kind(annotation: Any) -> str | None:
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            if meta in KINDS:
                return KINDS[meta]
    for arg in typing.get_args(annotation):
        if (found := _kind(arg)) is not None:
            return found
    return None


def _fields(model: type[pydantic.BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    """(path, kind) of every exact-scalar field; ``[]`` marks a list item, ``{}`` a dict value."""
    out = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        kind = _kind(annotation) or next((KINDS[m] for m in info.metadata if m in KINDS), None)
        path = f"{prefix}{name}"
        origin = typing.get_origin(annotation)
        if kind is not None:
            suffix = "{}" if origin is dict else ""
            out.append((path + suffix, kind))
            continue
        for arg in typing.get_args(annotation) or (annotation,):
            if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
                item = "[]" if origin is tuple else ""
                out.extend(_fields(arg, f"{path}{item}."))
    return out


FIELDS = _fields(PatientRecord)


def _put(record: dict[str, Any], path: str, value: Any) -> None:
    node: Any = record
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        if part.endswith("[]"):
            key = part[:-2]
            node.setdefault(key, [copy.deepcopy(ITEMS[".".join([*parts[:i], key])])])
            node = node[key][0]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if last.endswith("{}"):
        node[last[:-2]] = {"grade_over_2": value}
    else:
        node[last] = value


def _read(record: PatientRecord, path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        node = getattr(node, part.rstrip("[]{}"))
        if part.endswith("[]"):
            node = node[0]
    return node["grade_over_2"] if path.endswith("{}") else node


def test_every_kind_of_scalar_is_found_in_the_record() -> None:
    kinds = {kind for _, kind in FIELDS}
    assert kinds == {"whole", "number", "date", "flag"}
    paths = {path for path, _ in FIELDS}
    assert {"patient.ecog", "collected_on", "tumor.pdl1_cps", "toxicity[].motor_weakness"} <= paths
    assert "disease.risk_indices[].components{}" in paths


@pytest.mark.parametrize(("path", "kind"), FIELDS, ids=[p for p, _ in FIELDS])
def test_documents_get_no_lax_coercion(minimal: dict[str, Any], path: str, kind: str) -> None:
    for value in REFUSED[kind]:
        record = copy.deepcopy(minimal)
        _put(record, path, value)
        with pytest.raises(ValidationError) as caught:
            validate_model(PatientRecord, record, source="test")
        (problem,) = caught.value.problems
        where = path.replace("[]", "[0]").replace("{}", ".grade_over_2")
        assert problem.field == where, (value, problem)
        assert problem.value == value
        expected = {"whole": "whole number", "number": "a number", "date": "YYYY-MM-DD"}
        assert expected.get(kind, "true or false") in problem.message


@pytest.mark.parametrize(("path", "kind"), FIELDS, ids=[p for p, _ in FIELDS])
def test_what_the_schema_allows_is_accepted(minimal: dict[str, Any], path: str, kind: str) -> None:
    for value in ACCEPTED[kind]:
        record = copy.deepcopy(minimal)
        _put(record, path, value)
        parsed = _read(validate_model(PatientRecord, record, source="test"), path)
        assert parsed == (dt.date.fromisoformat(value) if kind == "date" else value)


@pytest.mark.parametrize(("path", "kind"), FIELDS, ids=[p for p, _ in FIELDS])
def test_values_read_from_text_are_parsed(minimal: dict[str, Any], path: str, kind: str) -> None:
    record = copy.deepcopy(minimal)
    _put(record, path, FROM_TEXT_OK[kind])
    if kind != "date":  # a date is text in a document too
        with pytest.raises(ValidationError):
            validate_model(PatientRecord, record, source="test")
    parsed = validate_model(PatientRecord, record, source="test", context=FROM_TEXT)
    expected = {"whole": 2, "number": 2.5, "date": dt.date(2026, 1, 5), "flag": True}[kind]
    assert _read(parsed, path) == expected


def test_a_quantity_mapping_takes_a_number_not_text(minimal: dict[str, Any]) -> None:
    minimal["host"]["crp"] = {"value": "12", "unit": "mg/dL"}
    with pytest.raises(ValidationError) as caught:
        validate_model(PatientRecord, minimal, source="test")
    (problem,) = caught.value.problems
    assert problem.field == "host.crp"
    assert "'12 mg/dL'" in problem.message  # says how to write it as text instead
    minimal["host"]["crp"] = "12 mg/dL"  # a quantity as one text is in the schema
    assert validate_model(PatientRecord, minimal).host.crp is not None
    minimal["host"]["crp"] = {"value": "12", "unit": "mg/dL"}
    parsed = validate_model(PatientRecord, minimal, context=FROM_TEXT)
    assert parsed.host.crp is not None
    assert parsed.host.crp.value == pytest.approx(120)


def test_outcome_event_flags_are_true_or_false() -> None:
    base = {"patient_id": "P1", "pfs": 100}
    with pytest.raises(pydantic.ValidationError, match="expected true or false"):
        Outcome.model_validate({**base, "pfs_event": 1})
    assert Outcome.model_validate({**base, "pfs_event": 1}, context=FROM_TEXT).pfs_event is True
    assert Outcome.model_validate({**base, "pfs_event": False}).pfs_event is False


def test_tables_still_read_numbers_dates_and_flags_from_text(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    table.write_text(
        "patient_id,age_years,diagnosis,ecog,collected_on,crp_mg_per_L,pfs_days,pfs_event\n"
        "P1,61,FL,1,2026-01-05,12,200,yes\n"
        "P2,70,FL,2,2026-02-01,3.5,90,0\n",
        encoding="utf-8",
    )
    cohort = read_table(table)
    assert [r.patient.ecog for r in cohort.records] == [1, 2]
    assert cohort.records[0].collected_on == dt.date(2026, 1, 5)
    assert [o.pfs_event for o in cohort.outcomes] == [True, False]


@pytest.mark.parametrize(
    ("cell", "advice"),
    [
        ("1767571200", "a timestamp or a spreadsheet's day number is not read as a date"),
        ("46027", "a timestamp or a spreadsheet's day number is not read as a date"),
        ("20260105", "write it as 2026-01-05"),
        ("2026/1/5", "write it as 2026-01-05"),
        ("05/01/2026", "day and month could be either way round"),
    ],
)
def test_a_table_date_is_iso_8601_text_only(tmp_path: Path, cell: str, advice: str) -> None:
    # pydantic alone reads numeric text as Unix time: "1767571200" would be 2026-01-05
    table = tmp_path / "cohort.csv"
    table.write_text(f"patient_id,diagnosis,collected_on\nP1,FL,{cell}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_table(table)
    (problem,) = caught.value.problems
    assert problem.field.startswith("row 2 (P1) column collected_on")
    assert "expected a date as YYYY-MM-DD" in problem.message
    assert advice in problem.message


def test_a_midnight_date_time_is_its_date(minimal: dict[str, Any]) -> None:
    for written in ("2026-01-05T00:00:00", "2026-01-05 00:00:00", "2026-01-05T00:00Z"):
        minimal["collected_on"] = written
        assert validate_model(PatientRecord, minimal).collected_on == dt.date(2026, 1, 5)


def test_a_table_number_that_would_be_misread_says_how_to_write_it(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    table.write_text(
        'patient_id,diagnosis,pdl1_cps,neoantigen_count\nP1,FL,"12,5","1 200"\n', encoding="utf-8"
    )
    with pytest.raises(ValidationError) as caught:
        read_table(table)
    messages = {p.field.split(" column ")[1]: p.message for p in caught.value.problems}
    assert messages["pdl1_cps"].startswith("write the number with a decimal point: '12.5'")
    assert messages["neoantigen_count"].startswith(
        "write the number without thousands separators: '1200'"
    )
