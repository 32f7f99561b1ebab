"""Whole numbers, numbers, dates and flags of a record, read as its JSON Schema states them.

In pydantic's lax mode an integer field takes ``true`` as 1 and ``"3"`` as 3, a date field takes
``0`` as 1970-01-01, and a boolean field takes ``"no"`` as false. In a patient document (JSON,
YAML, a REST body) such a value is a mistake that would be read silently, so these types refuse
it and name the field:

- :data:`WholeNumber`: an integer (a whole float such as ``2.0`` too, as JSON Schema allows);
- :data:`Number`: an integer or a float;
- :data:`CalendarDate`: an ISO 8601 date as text (``2026-09-22``) or a date;
- :data:`Flag`: ``true`` or ``false``;
- :data:`Identifier`: text; an integer (``id: 12``, as numeric hospital numbers are written) is
  read as its decimal text, unless it was written otherwise (``+12``, ``!!int 0x1F``), which
  would change the identifier, and is refused with the advice to quote it.

Table cells and FHIR ``valueString`` values are text by nature. Their readers validate with the
context :data:`FROM_TEXT`, in which numeric text is read as a number and ``yes``/``no``,
``true``/``false``, ``1``/``0`` (text, or a spreadsheet's number) as a flag, by pydantic's own
parsing.

Examples
--------
>>> from pydantic import BaseModel
>>> class Scan(BaseModel):
...     lesions: WholeNumber
>>> Scan.model_validate({"lesions": 3}).lesions
3
>>> Scan.model_validate({"lesions": "3"}, context=FROM_TEXT).lesions
3
>>> Scan.model_validate({"lesions": True})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Scan
lesions
  expected a whole number, got true/false ...
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from immunoprecise.documents import WrittenInteger

__all__ = [
    "EARLIEST_DATE",
    "FROM_TEXT",
    "IDENTIFIER_TEXT",
    "SUSPICIOUS_NUMBER",
    "CalendarDate",
    "Choice",
    "Flag",
    "Identifier",
    "Number",
    "OptionalNumber",
    "OptionalWholeNumber",
    "WholeNumber",
    "canonical_choice",
    "date_problem",
    "field_error",
    "latest_date",
    "number_text_problem",
    "number_with_unit",
    "read_from_text",
    "received",
]

FROM_TEXT: Final[dict[str, bool]] = {"values_are_text": True}
"""Validation context of readers whose values are text (table cells, FHIR ``valueString``)."""


def read_from_text(info: ValidationInfo) -> bool:
    """Whether the values being validated were read from text (see :data:`FROM_TEXT`)."""
    context = info.context
    return isinstance(context, dict) and bool(context.get("values_are_text"))


def field_error(kind: str, message: str) -> PydanticCustomError:
    """A pydantic error of type ``kind`` whose message is ``message`` as written.

    Braces in a message (from the user's value) would otherwise be read by pydantic as
    template fields.
    """
    return PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}"))


def received(value: Any, hint: str = "") -> str:
    """How an error names a value of the wrong kind: ``true/false``, ``text '5'`` + ``hint``,
    or the type and value.

    Examples
    --------
    >>> received(True), received("5", "; write the number without quotes"), received([1])
    ('true/false', "text '5'; write the number without quotes", 'list [1]')
    """
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"text {value!r}{hint}"
    return f"{type(value).__name__} {value!r}"


def _refused(kind: str, expected: str, value: Any, hint: str = "") -> PydanticCustomError:
    return field_error(kind, f"expected {expected}, got {received(value, hint)}")


# Numbers as some laboratory reports print them, which a plain reading would get wrong:
# "1,2" (decimal comma), "1 200", "1,200" or "1.200" (thousands separators), "<5" (a detection
# limit), "10E8" (10^8 as a unit writes it, but 10 × 10^8 as a number), "nan"/"inf" (no value).
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+(?!\d)")
_THOUSANDS = re.compile(r"^\s*[-+]?\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?![\d,.])")
# a dot before exactly three digits: 1.200 is 1.2, or 1200 written with a dot between thousands
_DOT_THOUSANDS = re.compile(
    r"^\s*(?P<sign>[-+]?)(?P<int>[1-9]\d{0,2})(?P<groups>(?:\.\d{3})+)(?P<decimals>,\d+)?"
    r"(?![\d.,eE_])"
)
_TEN_E = re.compile(r"^\s*[-+]?10(?:\.0*)?[eE][-+]?\d+(?![\d.])")
_NOT_A_NUMBER = re.compile(r"^\s*[-+]?(?:nan|inf|infinity)(?![a-z])", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*[-+]?\d+(?:_\d+)+")
_CENSORED = re.compile(r"^\s*(?:<=?|>=?|≤|≥)\s*\d")
# a digit other than 0-9 (full-width ３, Arabic-Indic ٣) at the start of a number
_OTHER_DIGITS = re.compile(r"^\s*[-+\uff0b\uff0d]?[0-9.,\uff0c\uff0e]*(?![0-9])\d")
SUSPICIOUS_NUMBER: Final[re.Pattern[str]] = re.compile(
    "|".join(
        f"(?:{p.pattern})"
        for p in (
            _OTHER_DIGITS,
            _CENSORED,
            _DECIMAL_COMMA,
            _THOUSANDS,
            _DOT_THOUSANDS,
            _TEN_E,
            _UNDERSCORES,
        )
    )
    + r"|^\s*[-+]?(?:nan|inf)",
    re.IGNORECASE,
)
"""Text that may be a number :func:`number_text_problem` refuses (a quick test for whole
columns; ask :func:`number_text_problem` about each match)."""


_NUMBER_WITH_UNIT = re.compile(
    r"([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*((?:10\^|[^\s0-9.,+-]).*)"
)


def number_with_unit(text: str) -> tuple[float, str] | None:
    """A cell holding a number followed by its unit (``12 mg/L``, ``1.2 mg/dL``, ``35%``,
    ``1.2 10^9/L``), as the number and the unit as written.

    ``None`` for any other text: a plain number, text that is no number, and a number
    :func:`number_text_problem` would refuse (``12,5 mg/L``, ``1 200 cells/µL``), which is
    refused with its advice where it is read.

    Parameters
    ----------
    text
        The cell as written.

    Returns
    -------
    tuple of (float, str) or None
        The finite number and the unit.

    Examples
    --------
    >>> number_with_unit("1.2 mg/dL"), number_with_unit("35%"), number_with_unit("12")
    ((1.2, 'mg/dL'), (35.0, '%'), None)
    """
    match = _NUMBER_WITH_UNIT.fullmatch(text.strip())
    if match is None or number_text_problem(text) is not None:
        return None
    number = float(match[1])
    return (number, match[2].strip()) if math.isfinite(number) else None


def number_text_problem(text: str) -> str | None:
    """Why a number written as ``text`` must not be read as it stands, and how to write it.

    A plain reading gets these wrong: ``1 200 cells/µL`` would be 1 × "200 cells/µL",
    ``12,5 mg/L`` 12 × "5 mg/L", and ``<5`` is a detection limit, not a value. Digits other
    than 0-9 (full-width ``３``, Arabic-Indic ``٣``) are refused too, with the number written in
    0-9: Python reads some of them as numbers and others not, so every reader refuses them
    alike rather than reading some.

    Parameters
    ----------
    text
        A number as written, alone or followed by its unit.

    Returns
    -------
    str or None
        The problem and the number as it should be written; ``None`` when ``text`` is fine.

    Examples
    --------
    >>> number_text_problem("12,5 mg/L")
    "write the number with a decimal point: '12.5 mg/L'"
    >>> print(number_text_problem("1,200"))  # doctest: +NORMALIZE_WHITESPACE
    '1,200' could be 1200 or 1.200: write the number with a decimal point and no thousands
    separator
    >>> print(number_text_problem("1.200 mg/L"))  # doctest: +NORMALIZE_WHITESPACE
    '1.200' could be 1.2 or 1200 (a dot between thousands): write 1200 without a separator, or
    the decimal with more or fewer decimals (1.2000 or 1.2)
    >>> print(number_text_problem("10E8 cells"))  # doctest: +NORMALIZE_WHITESPACE
    '10E8' could be 10^8 (as a unit such as 10E9/L means 10^9) or 10 × 10^8: write 1e8 or 1e9
    >>> number_text_problem("３.５ mg/L")  # full-width digits
    "write the number with the digits 0-9: '3.5 mg/L'"
    >>> number_text_problem("1200 cells/µL") is None, number_text_problem("0.125") is None
    (True, True)
    """
    if _OTHER_DIGITS.match(text):
        plain = "".join(
            str(unicodedata.digit(ch))
            if ch.isdecimal()
            else unicodedata.normalize("NFKC", ch)
            if ch in "\uff0b\uff0d\uff0c\uff0e"
            else ch
            for ch in text.strip()
        )
        return f"write the number with the digits 0-9: {plain!r}"
    if _CENSORED.match(text):
        return (
            f"{text.strip()!r} is a detection limit, not a measured value; leave the field "
            "empty, or write the number your analysis should use (e.g. the limit itself)"
        )
    not_a_number = _NOT_A_NUMBER.match(text)
    if not_a_number:
        return (
            f"{not_a_number.group().strip()!r} is not a finite number; leave the field empty "
            "for a missing value"
        )
    ten_e = _TEN_E.match(text)
    if ten_e:
        written = ten_e.group().strip()
        exponent = int(re.split("[eE]", written)[1])
        return (
            f"{written!r} could be 10^{exponent} (as a unit such as 10E9/L means 10^9) or "
            f"10 × 10^{exponent}: write 1e{exponent} or 1e{exponent + 1}"
        )
    dotted = _DOT_THOUSANDS.match(text)
    if dotted:
        number = dotted.group().strip()
        plain = dotted["sign"] + dotted["int"] + dotted["groups"].replace(".", "")
        if dotted["decimals"] or dotted["groups"].count(".") > 1:  # 1.200,5 or 1.200.000
            decimals = (dotted["decimals"] or "").replace(",", ".")
            return f"write the number without thousands separators: {plain + decimals!r}"
        decimal = number.rstrip("0").rstrip(".")
        shorter = f" or {decimal}" if decimal != number else ""
        return (
            f"{number!r} could be {decimal} or {plain} (a dot between thousands): write {plain} "
            f"without a separator, or the decimal with more or fewer decimals ({number}0"
            f"{shorter})"
        )
    underscores = _UNDERSCORES.match(text)
    if underscores:
        plain = underscores.group().strip().replace("_", "")
        return f"write the number without '_' separators: {plain!r}"
    grouped = _THOUSANDS.match(text)
    if grouped and grouped.group().count(",") == 1:
        number = grouped.group().strip()
        return (
            f"{number!r} could be {number.replace(',', '')} or {number.replace(',', '.')}: "
            "write the number with a decimal point and no thousands separator"
        )
    if grouped:
        plain = re.sub(r"[ ,\u00a0\u202f]", "", grouped.group()) + text[grouped.end() :]
        return f"write the number without thousands separators: {plain.strip()!r}"
    comma = _DECIMAL_COMMA.match(text)
    if comma:
        point = comma.group().replace(",", ".") + text[comma.end() :]
        return f"write the number with a decimal point: {point.strip()!r}"
    return None


def _plain_number(kind: str, expected: str) -> BeforeValidator:
    """Refuse ``true``/``false``, text outside :data:`FROM_TEXT`, and within it a number that
    :func:`number_text_problem` finds would be misread; pydantic does the rest."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) or (isinstance(value, str) and not read_from_text(info)):
            raise _refused(kind, expected, value, "; write the number without quotes")
        if isinstance(value, str) and (problem := number_text_problem(value)) is not None:
            raise field_error(kind, problem)
        if isinstance(value, float) and not math.isfinite(value):
            # NaN passes every range check as a comparison that is false
            raise field_error(kind, f"expected {expected} that is finite, got {value}")
        return value

    return BeforeValidator(check)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?")


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
"""English month names by their first three letters, for the hint of a date written with one."""


def _iso_hint(year: int, month: int, day: int) -> str:
    """The hint to write a date read unambiguously as ``YYYY-MM-DD``, or to write a date that
    exists (31 February does not)."""
    try:
        return f"; write it as {dt.date(year, month, day).isoformat()}"
    except ValueError:
        return f"; there is no day {day} in month {month} of {year}: write a date as YYYY-MM-DD"


def _date_hint(text: str) -> str:
    """How to write a date that is not ISO 8601, where its form says it."""
    with_time = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}\S*", text)
    if with_time:
        return f"; the field holds a date without a time of day: write {with_time.group(1)}"
    year_first = re.fullmatch(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})", text)
    if year_first and (len(text) == 8 or not text.isdigit()):
        year, month, day = year_first.groups()
        return f"; write it as {year}-{int(month):02d}-{int(day):02d}"
    day_first = re.fullmatch(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})", text)
    if day_first:
        first, second, year = (int(n) for n in day_first.groups())
        if first <= 12 and second <= 12:
            return "; day and month could be either way round: write YYYY-MM-DD"
        # 25/03/2024 has the day first, 03/25/2024 the month: one reading only
        month, day = (second, first) if first > 12 else (first, second)
        return _iso_hint(year, month, day)
    named = re.fullmatch(
        r"(?:(?P<d1>\d{1,2})[-. ]?(?P<m1>[A-Za-z]{3,9})\.?[-. ,]+|(?P<m2>[A-Za-z]{3,9})\.? "
        r"(?P<d2>\d{1,2}),? )(?P<year>\d{4})",
        text,
    )
    if named:
        month = _MONTHS.get((named["m1"] or named["m2"]).casefold()[:3])
        if month is not None:  # 05-Mar-2024, 5 March 2024, Mar 5, 2024
            return _iso_hint(int(named["year"]), month, int(named["d1"] or named["d2"]))
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return " (a timestamp or a spreadsheet's day number is not read as a date)"
    return ""


def canonical_choice(text: str, choices: Iterable[str]) -> str | None:
    """The allowed value that ``text`` names, in its canonical spelling, or ``None``.

    Letter case is ignored (``msi-h`` is ``MSI-H``) unless two allowed values differ only by
    case, which then must be written exactly.

    Examples
    --------
    >>> canonical_choice(" msi-h ", ["MSI-H", "MSI-L", "MSS"]), canonical_choice("x", ["MSS"])
    ('MSI-H', None)
    """
    allowed = list(choices)
    stripped = text.strip()
    if stripped in allowed:
        return stripped
    folded = [c for c in allowed if c.casefold() == stripped.casefold()]
    same_but_case = {c.casefold() for c in allowed}
    if len(folded) == 1 and len(same_but_case) == len(allowed):
        return folded[0]
    return None


class Choice(StrEnum):
    """An enumeration of allowed text values that reads any letter case (``Positive``,
    ``MSI-h``) as the canonical spelling; unknown values are refused as before.

    Examples
    --------
    >>> class Status(Choice):
    ...     MSI_H = "MSI-H"
    >>> Status("msi-h")
    <Status.MSI_H: 'MSI-H'>
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            found = canonical_choice(value, [m.value for m in cls])
            if found is not None:
                return cls(found)
        return None


EARLIEST_DATE: Final = dt.date(1900, 1, 1)
"""The earliest date a record takes; an earlier one is a typing error (``1800``, ``0001``)."""


def latest_date() -> dt.date:
    """The latest date a record takes: tomorrow, read at reading time (one day of slack for
    time zones)."""
    return dt.date.today() + dt.timedelta(days=1)


def date_problem(date: dt.date) -> str | None:
    """Why ``date`` is implausible (before 1900 or more than a day in the future), or ``None``.

    The one rule for every date of a record (dates of birth, diagnosis, measurements,
    therapies, FHIR effective times).

    Examples
    --------
    >>> print(date_problem(dt.date(1800, 1, 1)))  # doctest: +ELLIPSIS
    date 1800-01-01 is outside the accepted range 1900-01-01 to ... (tomorrow)
    >>> date_problem(dt.date(2020, 5, 1)) is None
    True
    """
    latest = latest_date()
    if EARLIEST_DATE <= date <= latest:
        return None
    return (
        f"date {date.isoformat()} is outside the accepted range {EARLIEST_DATE.isoformat()} to "
        f"{latest.isoformat()} (tomorrow)"
    )


def _plausible_date(value: dt.date) -> dt.date:
    problem = date_problem(value)
    if problem is not None:
        raise field_error("date_range", problem)
    return value


def _calendar_date(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise _refused("date_type", "a date as text, YYYY-MM-DD", value)
    if isinstance(value, str):
        # pydantic alone would read numeric text as Unix time ("1767571200" → 2026-01-05)
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            return text
        midnight = _ISO_MIDNIGHT.fullmatch(text)
        if midnight:
            return midnight.group(1)
        raise _refused("date_type", "a date as YYYY-MM-DD", value, _date_hint(text))
    return value


_DECIMAL_FLAGS: Final = {"1.0": True, "0.0": False}
"""A 0/1 column with a blank cell, written by pandas, holds ``1.0`` and ``0.0``."""


def _flag(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, bool) and not read_from_text(info):
        raise _refused("bool_type", "true or false", value)
    if isinstance(value, str) and value.strip() in _DECIMAL_FLAGS:
        return _DECIMAL_FLAGS[value.strip()]
    return value


# one validator each, shared by the plain and the optional alias
_WHOLE_NUMBER = _plain_number("int_type", "a whole number")
_NUMBER = _plain_number("float_type", "a number")

WholeNumber = Annotated[int, _WHOLE_NUMBER]
"""An integer; refuses ``true``/``false`` and (outside :data:`FROM_TEXT`) numeric text."""

OptionalWholeNumber = Annotated[int | None, _WHOLE_NUMBER]
""":data:`WholeNumber` or ``None``. Unlike ``WholeNumber | None``, a ``Field(ge=..., le=...)``
on it reaches the JSON Schema as ``minimum``/``maximum``."""

Number = Annotated[float, _NUMBER]
"""A number; refuses ``true``/``false`` and (outside :data:`FROM_TEXT`) numeric text."""

OptionalNumber = Annotated[float | None, _NUMBER]
""":data:`Number` or ``None``, with bounds in the JSON Schema (see :data:`OptionalWholeNumber`)."""

CalendarDate = Annotated[dt.date, BeforeValidator(_calendar_date), AfterValidator(_plausible_date)]
"""A date as ISO 8601 text or a date; refuses numbers (pydantic would read them as Unix time)
and dates outside 1900-01-01 … tomorrow (:func:`date_problem`)."""

Flag = Annotated[bool, BeforeValidator(_flag)]
"""``true`` or ``false``; ``yes``, ``1`` and the like only within :data:`FROM_TEXT`."""


def _identifier(value: Any) -> Any:
    if isinstance(value, bool):
        raise _refused("string_type", "an identifier as text", value)
    if isinstance(value, int):
        text = str(int(value))
        if isinstance(value, WrittenInteger) and value.written != text:
            raise field_error(
                "string_type",
                f"{value.written} is read as the number {text}, which would change the "
                f'identifier; write it in quotes: "{value.written}"',
            )
        return text
    if isinstance(value, float):
        raise field_error(
            "string_type",
            f"expected an identifier as text, got the number {value!r}; write the identifier "
            "in quotes, as it should be kept",
        )
    return value


IDENTIFIER_TEXT: Final = BeforeValidator(_identifier)
"""The validator of :data:`Identifier`, to place after a ``Field`` with a ``pattern`` (placed
before it, pydantic leaves the pattern out of the JSON Schema)."""

Identifier = Annotated[str, IDENTIFIER_TEXT]
"""Text that names something (a patient, a sample). An integer is read as its decimal text
(``12`` as ``'12'``; numeric hospital numbers are written so); one written otherwise (``+12``,
YAML's ``!!int 0x1F``, JSON's ``-0``) and any other number or ``true``/``false`` is refused."""
