"""Reading request bodies: patient records (record JSON or a FHIR R4 Bundle), and JSON objects
that name a key more than once (:func:`repeated_keys`)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import annotated_types
from pydantic import BaseModel

from immunoprecise.documents import load_yaml
from immunoprecise.errors import FieldProblem, ValidationError
from immunoprecise.records import PatientRecord, read_fhir_bundle, validate_model
from immunoprecise.records.validation import model_in
from immunoprecise.registry import RecordVersion

__all__ = [
    "RECORD_BODY_SCHEMA",
    "escaped",
    "in_body",
    "lone_surrogates",
    "named_in_body",
    "parse_record",
    "repeated_keys",
    "safe_load_unique",
    "too_large_message",
    "version_json",
]

RECORD_BODY_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/PatientRecord"},
                        {
                            "type": "object",
                            "description": "A FHIR R4 / mCODE Bundle with one Patient.",
                            "properties": {"resourceType": {"const": "Bundle"}},
                            "required": ["resourceType"],
                        },
                    ]
                }
            }
        },
    }
}
"""OpenAPI description of a body that is a patient record or a FHIR Bundle."""


def parse_record(body: Any) -> tuple[PatientRecord, list[str]]:
    """Validate a request body as a patient record, or import it as a FHIR R4 Bundle.

    Parameters
    ----------
    body
        The parsed JSON body.

    Returns
    -------
    tuple of PatientRecord and list of str
        The record, and notes on how it was read (FHIR: resources skipped, values derived).

    Raises
    ------
    ValidationError
        Listing every invalid field.
    """
    if not isinstance(body, dict):
        raise ValidationError(
            [FieldProblem("body", None, "send a patient record or a FHIR Bundle as a JSON object")]
        )
    if body.get("resourceType") == "Bundle":
        imported = read_fhir_bundle(body)
        notes = [*imported.notes, *(f"skipped {s}" for s in imported.skipped)]
        return imported.record, notes
    return validate_model(PatientRecord, body), []


TOO_LARGE = "Unable to parse input string as an integer, exceeded maximum size"
"""pydantic's message for a whole-number field given a number beyond its integer reader (such
as ``1e30``): replaced by :func:`too_large_message`."""
_LARGEST_READ = 2**63 - 1
"""The largest whole number pydantic reads from a number written with an exponent or a
decimal point (a signed 64-bit integer)."""


def _bounds(model: type[BaseModel] | None, path: tuple[str | int, ...]) -> tuple[Any, Any]:
    """The lower and upper bounds (``ge``/``gt`` and ``le``/``lt`` as whole numbers) of the field
    at ``path`` in ``model``; ``None`` for a bound not declared or a field not found."""
    current: type[BaseModel] | None = model
    low = high = None
    for i, part in enumerate(path):
        field = current.model_fields.get(part) if current and isinstance(part, str) else None
        if field is None:
            return None, None
        if i < len(path) - 1:
            current = model_in(field.annotation)
            continue
        for item in field.metadata:
            if isinstance(item, annotated_types.Ge):
                low = item.ge
            elif isinstance(item, annotated_types.Gt) and isinstance(item.gt, int):
                low = item.gt + 1
            elif isinstance(item, annotated_types.Le):
                high = item.le
            elif isinstance(item, annotated_types.Lt) and isinstance(item.lt, int):
                high = item.lt - 1
        extra = field.json_schema_extra
        maximum = extra.get("maximum") if isinstance(extra, dict) else None
        if high is None and isinstance(maximum, int):
            high = maximum
    return low, high


def too_large_message(
    value: Any, model: type[BaseModel] | None, path: tuple[str | int, ...]
) -> str:
    """What a 422 says of a whole-number field given a number too large to read as one.

    Parameters
    ----------
    value
        The value received.
    model
        The model the request was validated as (its bounds name the range), if known.
    path
        The field's path in ``model`` (without a leading ``body``).

    Returns
    -------
    str
        The value, and the range of whole numbers expected.

    Examples
    --------
    >>> from pydantic import Field
    >>> class Ask(BaseModel):
    ...     version: int = Field(ge=1, le=10)
    >>> too_large_message(1e30, Ask, ("version",))
    '1e+30 is too large: expected a whole number from 1 to 10'
    >>> too_large_message(1e30, None, ("seed",))
    '1e+30 is too large: expected a whole number of at most 9223372036854775807'
    """
    low, high = _bounds(model, path)
    high = _LARGEST_READ if high is None else min(high, _LARGEST_READ)
    expected = f"from {low} to {high}" if low is not None else f"of at most {high}"
    return f"{value!r} is too large: expected a whole number {expected}"


def in_body(problem: FieldProblem, *, model: type[BaseModel] | None = None) -> FieldProblem:
    """``problem`` of a JSON request body, named as the REST API names body fields
    (``body.<field>``), with a whole number too large to read worded with its range.

    Examples
    --------
    >>> in_body(FieldProblem("regimen", "???", "unknown agent")).field
    'body.regimen'
    >>> in_body(FieldProblem("body.seed", -1, "negative")).field
    'body.seed'
    """
    field = problem.field
    if not (field == "body" or field.startswith(("body.", "body["))):
        field = f"body{field}" if field.startswith("[") else f"body.{field}"
    message = problem.message
    if message == TOO_LARGE:
        path = tuple(p for p in re.split(r"\.|\[(\d+)\]", field)[1:] if p)
        message = too_large_message(problem.value, model, path)
    return FieldProblem(field, problem.value, message)


@contextlib.contextmanager
def named_in_body(model: type[BaseModel] | None = None, *, body: Any = None) -> Iterator[None]:
    """Name the fields of a :class:`~immunoprecise.errors.ValidationError` raised inside the
    block as fields of the request body (:func:`in_body`).

    Parameters
    ----------
    model
        The model the body is validated as, whose bounds word a number too large to read.
    body
        The parsed body, if it may be a FHIR Bundle: the problems of a Bundle name its
        resources (``Observation/crc-crp: host.crp``) and are left as they are.

    Examples
    --------
    >>> with named_in_body():
    ...     raise ValidationError([FieldProblem("version", "x", "a whole number")])
    Traceback (most recent call last):
    ...
    immunoprecise.errors.ValidationError: 1 invalid field
      - body.version = 'x': a whole number
    """
    try:
        yield
    except ValidationError as exc:
        if isinstance(body, dict) and body.get("resourceType") == "Bundle":
            raise
        problems = [in_body(p, model=model) for p in exc.problems]
        raise ValidationError(problems, source=exc.source) from None


def version_json(version: RecordVersion, *, with_record: bool = True) -> dict[str, Any]:
    """A stored version as JSON (optionally without the record itself)."""
    data = version.model_dump(mode="json")
    if not with_record:
        data.pop("record", None)
    return data


class _Repeated(dict[str, Any]):
    """A JSON object in which some keys were given more than once: every value of each."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        self.repeated = {key: given for key, given in values.items() if len(given) > 1}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:60] + "…"


def _where(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _collect(data: Any, path: tuple[str | int, ...], problems: list[FieldProblem]) -> None:
    if isinstance(data, _Repeated):
        for key, given in data.repeated.items():
            last = given[-1]
            problems.append(
                FieldProblem(
                    _where((*path, key)),
                    None if isinstance(last, dict | list) else last,
                    f"the key {key!r} is given {len(given)} times in one object "
                    f"({', '.join(_shown(v) for v in given)}); give each key once",
                )
            )
    if isinstance(data, dict):
        for key, value in data.items():
            _collect(value, (*path, key), problems)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _collect(item, (*path, i), problems)


def repeated_keys(raw: bytes | str, *, where: str = "body") -> list[FieldProblem]:
    """Every key that a JSON text gives more than once in one object, anywhere in it.

    Python's JSON reader (and so FastAPI's) keeps the last value of a repeated key and drops
    the others without a word: ``{"age": 50, "age": 70}`` would be read as age 70.

    Parameters
    ----------
    raw
        The JSON text (bytes as received).
    where
        How the problems name the text's top level (``body``, or an uploaded file's name).

    Returns
    -------
    list of FieldProblem
        One per repeated key (its path, its last value, every value given); empty when there
        is none, or when ``raw`` is not JSON (that is reported where it is read).

    Examples
    --------
    >>> [p.field for p in repeated_keys(b'{"patient": {"age": 50, "age": 70}}')]
    ['body.patient.age']
    >>> repeated_keys('{"a": [{"b": 1}, {"b": 2}]}')
    []
    """
    found = False

    def make(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        made = dict(pairs)
        if len(made) == len(pairs):
            return made
        found = True
        return _Repeated(pairs)

    try:
        data = json.loads(raw, object_pairs_hook=make)
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError)
        return []
    if not found:
        return []
    problems: list[FieldProblem] = []
    _collect(data, (where,), problems)
    return problems


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
r"""A JSON escape of a UTF-16 surrogate (``\ud800`` to ``\udfff``): only these make a JSON text
that decodes to a lone surrogate (raw UTF-8 bytes cannot)."""
_SURROGATE_MESSAGE = (
    r"holds an unpaired UTF-16 surrogate escape (such as \ud800), which is no character: "
    "send the text as UTF-8, or escape a character beyond U+FFFF as a surrogate pair"
)


def escaped(text: str) -> str:
    r"""``text`` with any lone surrogate written as its escape (``\ud800``), so that it can be
    encoded as UTF-8 (in an answer, a page or a log line).

    Examples
    --------
    >>> escaped("a" + chr(0xD800) + "b")
    'a\\ud800b'
    >>> escaped("Ωé")
    'Ωé'
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _lone(data: Any, path: tuple[str | int, ...], problems: list[FieldProblem]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            where = (*path, escaped(key))
            if _has_surrogate(key):
                problems.append(FieldProblem(_where(where), None, _SURROGATE_MESSAGE))
            _lone(value, where, problems)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _lone(item, (*path, i), problems)
    elif isinstance(data, str) and _has_surrogate(data):
        problems.append(FieldProblem(_where(path), escaped(data), _SURROGATE_MESSAGE))


def lone_surrogates(raw: bytes | str, *, where: str = "body") -> list[FieldProblem]:
    r"""Every text (value or key) of a JSON text that holds a lone UTF-16 surrogate.

    JSON lets a text escape a character as ``\ud800``; a surrogate without its pair is no
    character, cannot be written as UTF-8 (in an answer, a page, the database) and would fail
    wherever the text goes next.

    Parameters
    ----------
    raw
        The JSON text (bytes as received).
    where
        How the problems name the text's top level (``body``, or an uploaded file's name).

    Returns
    -------
    list of FieldProblem
        One per text holding one (its path, the text with the surrogate escaped); empty when
        there is none, or when ``raw`` is not JSON (that is reported where it is read).

    Examples
    --------
    >>> [(p.field, p.value) for p in lone_surrogates(b'{"a": ["ok", "x\\ud800"]}')]
    [('body.a[1]', 'x\\ud800')]
    >>> lone_surrogates(b'{"a": "\\ud83d\\ude00"}')  # a pair: one character
    []
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not _SURROGATE_ESCAPE.search(data):
        return []
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    problems: list[FieldProblem] = []
    _lone(parsed, (where,), problems)
    return problems


def safe_load_unique(text: str) -> Any:
    """A YAML body or upload read as written (:func:`immunoprecise.documents.load_yaml`): a key
    given twice is an error, and plain scalars follow the YAML 1.2 core schema (``0012`` is text,
    ``no`` is not ``False``), as files read by the command line.

    Raises
    ------
    yaml.YAMLError
        Invalid YAML, or a repeated key (a ``ConstructorError`` whose ``problem`` names the key
        and whose ``problem_mark`` is where it is repeated).

    Examples
    --------
    >>> import yaml
    >>> safe_load_unique("{a: 1, b: {c: 2}, id: 0012}")
    {'a': 1, 'b': {'c': 2}, 'id': '0012'}
    >>> try:
    ...     safe_load_unique("{age: 50, age: 70}")
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem)
    the key 'age' is given twice (first at line 1); give each key once
    """
    return load_yaml(text)
