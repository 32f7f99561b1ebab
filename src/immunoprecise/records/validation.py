"""Turn pydantic's validation errors into field-level messages a clinician can act on."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records.disease import MORPHOLOGY_PATTERN, ONCOTREE_PATTERN, TOPOGRAPHY_PATTERN
from immunoprecise.records.patient import PATIENT_ID_PATTERN

__all__ = ["field_problems", "model_in", "not_a_record", "validate_model"]

M = TypeVar("M", bound=pydantic.BaseModel)

# What each text pattern of the record and trial-design models asks for, in words (a regular
# expression is no answer to a clinician); a pattern not listed here is shown as it is.
_PATTERNS: dict[str, str] = {
    PATIENT_ID_PATTERN: (
        "a pseudonymous identifier of 1–64 characters: letters A–Z or a–z, digits, '_', '.' "
        "or '-', starting with a letter or digit, without spaces or accents (e.g. 'SYN-CRC-001')"
    ),
    ONCOTREE_PATTERN: (
        "an OncoTree code of 2–16 letters, digits or '_', starting with a letter "
        "(e.g. 'LUAD', 'COAD', 'FL')"
    ),
    MORPHOLOGY_PATTERN: (
        "an ICD-O-3 morphology code: 4 digits, '/' and the behaviour digit 0, 1, 2, 3, 6 or 9 "
        "(e.g. '8140/3')"
    ),
    TOPOGRAPHY_PATTERN: (
        "an ICD-O-3 topography code: 'C', 2 digits and an optional '.digit' (e.g. 'C34.1')"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9.+/-]{0,20}$": (
        "a marker name of 1–21 letters, digits, '.', '+', '/' or '-', starting with a letter "
        "or digit, without spaces (e.g. 'CD8', 'FOXP3')"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$": (
        "a short id of 1–64 characters: letters A–Z or a–z, digits, '_', '.', '+' or '-', "
        "starting with a letter or digit, without spaces (e.g. 'R', 'R+gd')"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9.-]{0,30}$": (
        "an HGNC gene symbol of 1–31 letters, digits, '.' or '-', without spaces "
        "(e.g. 'BRAF', 'KRAS')"
    ),
}


def model_in(annotation: Any) -> type[pydantic.BaseModel] | None:
    """The pydantic model inside an annotation such as ``X | None`` or ``tuple[X, ...]``.

    Parameters
    ----------
    annotation
        A field's annotation.

    Returns
    -------
    type[pydantic.BaseModel] | None
        The first model found in it, or ``None`` where it holds none.

    Examples
    --------
    >>> from immunoprecise.records import PatientRecord
    >>> model_in(PatientRecord | None) is PatientRecord
    True
    >>> model_in(int | None) is None
    True
    """
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        for arg in typing.get_args(annotation):
            found = model_in(arg)
            if found is not None:
                return found
    return None


def _fields_at(model: type[pydantic.BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    current: type[pydantic.BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, str) and part in current.model_fields:
            current = model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def _message(error: Mapping[str, Any], model: type[pydantic.BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown field; {hint}allowed here: {', '.join(allowed)}"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        return "expected " + _PATTERNS.get(pattern, f"text matching {pattern}")
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(record)"


def field_problems(
    exc: pydantic.ValidationError, model: type[pydantic.BaseModel], *, prefix: str = ""
) -> list[FieldProblem]:
    """List every problem in ``exc`` as a :class:`~immunoprecise.errors.FieldProblem`.

    Parameters
    ----------
    exc
        The pydantic error raised while validating ``model``.
    model
        The model that was validated (used to suggest field names for unknown fields).
    prefix
        Text put before each field path, e.g. ``"row 3 (P003): "``.
    """
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        value = None if error["type"] == "missing" else error.get("input")
        if error["type"] == "extra_forbidden" or isinstance(value, dict | list | tuple):
            value = None if isinstance(value, dict | list | tuple) else value
        problems.append(FieldProblem(prefix + _where(loc), value, _message(error, model)))
    return problems


def validate_model(
    model: type[M], data: Any, *, source: str | None = None, context: Any = None
) -> M:
    """Validate ``data`` as ``model``, raising one error that lists every invalid field.

    Parameters
    ----------
    model
        The pydantic model class, e.g. :class:`~immunoprecise.records.PatientRecord`.
    data
        Parsed input (mapping from JSON/YAML, or a row turned into a mapping).
    source
        Name of the input, shown in the error (file name, row).
    context
        pydantic validation context; :data:`immunoprecise.records.scalars.FROM_TEXT` where the
        values were read from text (numeric text is then read as a number).

    Returns
    -------
    M
        The validated, frozen model.

    Raises
    ------
    ValidationError
        Listing every invalid field with the value received and what is expected.

    Examples
    --------
    >>> from immunoprecise.records import PatientRecord
    >>> validate_model(PatientRecord, {"patient": {"id": "P1", "age": 300},
    ...                                "disease": {"diagnosis": "FL"}}, source="p1.json")
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ValidationError: p1.json: 1 invalid field
      - patient.age = 300: 300 years is outside the plausible range 0–120 years
    """
    try:
        return model.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        raise ValidationError(field_problems(exc, model), source=source) from None


def not_a_record(given: object, *, call: str, field: str = "record") -> ValidationError:
    """The error for a call given something other than a patient record: a file path (read it
    first) or a mapping (validate it first), instead of an ``AttributeError`` on its fields.

    Parameters
    ----------
    given
        What the call was given.
    call
        The call as the user writes it (``ip.profile``), to show the corrected call.
    field
        The parameter's name.

    Returns
    -------
    ValidationError
        To raise; it names the path as written or the type given, and what to do.

    Examples
    --------
    >>> print(not_a_record({"patient": {}}, call="ip.profile"))
    1 invalid field
      - record: expected a PatientRecord, not a dict; read or validate it first: ...
    """
    if isinstance(given, str | Path):
        return ValidationError(
            [
                FieldProblem(
                    field,
                    str(given),
                    f"expected a PatientRecord, not a file path; read the file first: "
                    f"{call}(ip.read_patient(path))",
                )
            ]
        )
    how = "read or validate it first: ip.read_patient(path), or PatientRecord.model_validate(data)"
    return ValidationError(
        [
            FieldProblem(
                field, None, f"expected a PatientRecord, not a {type(given).__name__}; {how}"
            )
        ]
    )
