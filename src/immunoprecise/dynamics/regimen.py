"""Treatment regimens: which agent, how much, and on which days.

A :class:`Regimen` is an immutable list of :class:`RegimenItem` (one line as written, such as
``chemo 1 mg/kg q21d x6``); :meth:`Regimen.doses` expands it into the :class:`Dose` objects the
integrator applies (boluses and constant-rate infusions), and :meth:`Regimen.breakpoints` gives
the times where the integration must be split.

Text form
---------
Items are separated by ``;`` or by new lines; ``#`` starts a comment that runs to the end of the
line. Each item is ``AGENT AMOUNT UNIT SCHEDULE…``:

``AGENT``
    One token without spaces, kept as written: ``chemo``, ``IL2``, ``IL-2``, ``CAR-T``, ``TIL``,
    ``anti-PD-1``, ``5-FU``. It must contain a letter.
``AMOUNT``
    A positive number; decimals and scientific notation are allowed: ``1``, ``0.5``, ``5e6``,
    ``1.2E+9``.
``UNIT``
    One token that :mod:`immunoprecise.records.units` reads: ``mg``, ``mg/kg``, ``mg/m2``,
    ``IU/d``, ``IU/kg/d``, ``cells``, ``cells/kg``, ``cells/d``. A unit *per time* (``IU/d``,
    ``mg/kg/d``, ``cells/d``) makes the item a constant-rate **infusion** whose amount is a rate;
    any other unit makes every administration a **bolus**. (``IU`` itself is a bolus: only an
    explicit time unit such as ``/d`` or ``/h`` makes a rate; so is ``MBq``.)

    The unit must be an amount a dose can be: a mass (``mg``, ``g``, ``mcg``), an amount of
    substance (``mmol``), enzyme or international units (``IU``, ``U``, ``MU`` = 10⁶ units,
    ``mU`` = 10⁻³ units), cells (``cells``, ``x10^6cells``) or a radioactivity (``MBq``,
    ``mCi``); optionally per body weight (``/kg``), per body surface area (``/m2``) or per volume
    (``/L``, a concentration given straight to a concentration state), and per time for an
    infusion. A volume (``mL``, ``mL/h``: give the amount it holds), a pure number (``%``) or
    any other quantity is refused when the text is read. A per-kg dose is multiplied by the body
    weight and a per-m² dose by the body surface area of the simulation (``simulate(...,
    body_weight_kg=, body_surface_m2=)``, ``immunoprecise simulate --body-weight --body-surface``;
    by default the ICRP reference adult, 70 kg and 1.8 m²).

    Unit symbols are case-sensitive, and upper-case clinical spellings are **not** guessed: ``MG``
    is a megagauss, ``Mg`` a megagram, ``ML`` a megaliter, ``IU/D`` IU per debye. A unit whose
    symbols differ only in case from a dose unit (``MG``, ``MG/KG``, ``mg/M2``, ``mg/ML``,
    ``CELLS``, ``IU/D``) is refused with the unit to write (``mg``, ``mg/kg``, ``mg/m2``…).
    ``MU`` (million units) and ``mU`` (milliunits) differ only in case and are both read as
    written; ``MIU`` (million IU) is read as ``MU``.
``SCHEDULE``
    Tokens in any order, each kind at most once:

    - ``dN`` — on day ``N`` (``N ≥ 0``, decimals allowed: ``d0.5``). Without a day, ``d0``.
      For an infusion, ``dN`` is one day of infusion, over ``[N, N+1)``. A day (or a repeat
      interval) has at most :data:`DAY_DECIMALS` (9) decimals, the schedule's resolution of
      10⁻⁹ day (≈ 86 µs) at which dose times and the integrator's breakpoints are kept:
      ``d10.0000000001`` is refused, naming the item and the value, rather than silently given
      on day 10 (trailing zeros, ``d10.5000000000``, lose nothing and are read).
    - ``dN-M`` — days ``N`` to ``M`` inclusive (``M − N`` a whole number of days): a bolus item
      gives one bolus on each of the days ``N, N+1, …, M``; an infusion item runs continuously
      over ``[N, M+1)``, i.e. for ``M − N + 1`` days.
    - ``dN,M,K`` — a list of days (in any order, each once): one bolus, or one day of infusion,
      on each. Infusion days must be at least 1 apart (each runs over ``[N, N+1)``; overlapping
      days would add their rates).
    - ``qNd`` / ``qNw`` — repeat the whole day block every ``N`` days / weeks (``qd`` = ``q1d``,
      ``qw`` = ``q1w``). It needs ``xK``.
    - ``xK`` — ``K`` cycles (administrations of the day block); it needs ``qNd`` or ``qNw``.

    With a repeat, the first cycle is on the days written (``d0`` by default) and cycle ``c``
    (counted from 0) is shifted by ``c`` times the interval; the day block must fit within one
    interval. Token letters may be upper or lower case.

    One item gives at most :data:`MAX_ADMINISTRATIONS` (10,000) administrations over all its
    cycles — daily for 27 years, weekly for 191 years — counting one bolus per day of a bolus
    range ``dN-M`` and one infusion per cycle of an infusion range; ``x100000000`` or
    ``d1-100000000`` is refused, naming the item, the number and the limit, before any dose is
    expanded. Split a longer schedule into several items.

For example ``chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12 q21d x2; CAR-T 1e8 cells d42`` gives
chemo boluses on days 0, 21, 42, 63, 84 and 105, IL2 infusions at 5·10⁶ IU/d over [8, 13) and
[29, 34), and one CAR-T bolus of 10⁸ cells on day 42. The empty text is the empty regimen
(a no-treatment control). Text that breaks these rules raises :class:`RegimenSyntaxError`, which
names the item, the column, and shows the text with a caret under the offending token.

YAML form
---------
Either a list of items, or a mapping ``{name: ..., items: [...]}``. Each item is a mapping::

    name: chemo, then IL-2 and CAR-T
    items:
      - {agent: chemo, dose: 1 mg/kg, days: 0, every_days: 21, cycles: 6}
      - {agent: IL2, dose: 5e6 IU/d, days: "8-12"}
      - {agent: CAR-T, dose: 1e8 cells, days: [42]}
      - TIL 1e10 cells d60      # an item may also be written in the text form

``agent`` and ``dose`` (amount and unit in one string) are required; ``days`` is a number, a
list of numbers, or a string in the day-token form without or with the ``d`` (``"8-12"``,
``"0,7,14"``); ``every_days`` (or ``every_weeks``) and ``cycles`` go together. ``items`` may
also be one text string in the text form. Invalid items raise
:class:`~immunoprecise.errors.ValidationError` naming every bad field as ``items[3].every_days``
(items counted from 0).

A regimen *file* with nothing in it (zero bytes, or only blanks and comments) is refused: an
empty or truncated file is more likely a mistake than a plan. No treatment is asked for
explicitly with ``items: []`` (or, with ``immunoprecise simulate``, by leaving out
``--regimen-file``).

Examples
--------
>>> r = Regimen.parse("chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12; CAR-T 1e8 cells d42")
>>> [d.start for d in r.doses() if d.agent == "chemo"]
[0.0, 21.0, 42.0, 63.0, 84.0, 105.0]
>>> [(d.start, d.end, d.is_infusion) for d in r.doses() if d.agent == "IL2"]
[(8.0, 13.0, True)]
>>> str(r)
'chemo 1 mg/kg d0 q21d x6; IL2 5e6 IU/d d8-12; CAR-T 1e8 cells d42'
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import yaml

from immunoprecise.documents import load_yaml
from immunoprecise.errors import FieldProblem, UnitError, ValidationError
from immunoprecise.records.units import convert, unit_registry
from immunoprecise.records.units import parse_unit as _parse_unit
from immunoprecise.wording import counted

__all__ = [
    "DAY_DECIMALS",
    "EMPTY_FILE_PROBLEM",
    "MAX_ADMINISTRATIONS",
    "Dose",
    "Regimen",
    "RegimenItem",
    "RegimenSyntaxError",
]

DAY_DECIMALS = 9
"""Decimals of a day the schedule keeps: its resolution is 10⁻⁹ day (≈ 86 µs).

Every dose time and breakpoint is rounded to it, so that shifts and repeats do not leave
floating-point noise (0.1 + 0.2) in dose times, and the integrator splits its integration at
these rounded times. A day or repeat interval *written* with more decimals (``d10.0000000001``,
``q21.0000000001d``, ``days: 10.0000000001``) is refused rather than silently read as another
day; trailing zeros (``d10.5000000000``) lose nothing and are read."""
_DAY_DECIMALS = DAY_DECIMALS

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DAY_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"
_DAY_SINGLE = re.compile(rf"[dD]?({_DAY_NUMBER})")
_DAY_RANGE = re.compile(rf"[dD]?({_DAY_NUMBER})-[dD]?({_DAY_NUMBER})")
_DAY_LIST = re.compile(rf"[dD]?{_DAY_NUMBER}(?:,[dD]?{_DAY_NUMBER})+")
_REPEAT = re.compile(rf"[qQ]({_DAY_NUMBER})?([dDwW])")
_CYCLES = re.compile(r"[xX×](\d+)")
_TOKEN = re.compile(r"#[^\n]*|[;\n]|[^\s;#]+")
# "m2" → "m^2" (body-surface doses, mg/m2); the units module reads only mm2 and um2.
_AREA = re.compile(r"\b([A-Za-zµ]+)([23])\b")

LATE_DAYS_SHOWN = 4
"""Late dose days a note lists per agent; a longer list shows the first three, ``…`` and the
last (a weekly 5-year schedule simulated for 120 days would list 250 days)."""
MAX_ADMINISTRATIONS = 10_000
"""Most administrations (boluses or infusions) one regimen item may give, over all its cycles.

Daily for 27 years, weekly for 191 years (a 5-year weekly maintenance is 261). It keeps a typo
such as ``x100000000`` or ``d1-100000000`` from expanding into a dose list that exhausts memory.
"""

EMPTY_FILE_PROBLEM = (
    "is empty (no regimen item in it, only blanks or comments): it is refused rather than read "
    "as no treatment; to simulate no treatment on purpose write 'items: []' in the file"
)
"""Why a regimen file with nothing in it is refused, and how to ask for no treatment."""

_SCHEDULE_HELP = "expected dN, dN-M, dN,M,K (days), qNd or qNw (repeat) or xK (cycles)"
_UNIT_HELP = "write a unit such as mg/kg, mg/m2, IU/d, cells or cells/d"
#: Number words written where a unit is expected ("100 million cells"), and what they multiply.
_NUMBER_WORDS = {"thousand": 1e3, "million": 1e6, "mio": 1e6, "billion": 1e9, "bn": 1e9}


def _number_word_problem(word: str, amount_text: str, amount: float) -> str | None:
    """The refusal of a number word written where the unit goes (``100 million cells``), with
    the number to write instead; ``None`` when ``word`` is no number word.

    >>> _number_word_problem("million", "100", 100.0)[-24:]
    'unit: 100 million is 1e8'
    """
    multiplier = _NUMBER_WORDS.get(word.lower())
    if multiplier is None:
        return None
    return (
        f"{word!r} is not a unit; write the amount as one number before the unit: "
        f"{amount_text} {word} is {_fmt(amount * multiplier)}"
    )


_DOSE_KINDS = (
    "a dose is a mass (mg), an amount of substance (mmol), units (IU, U, MU), cells or a "
    "radioactivity (MBq), optionally per kg, per m2 or per L, and per time (/d) for an infusion"
)


# ----------------------------------------------------------------------------------------------
# numbers and units


def _fmt(x: float) -> str:
    """Shortest text that reads back as ``x``: ``1``, ``0.5``, ``5e6``, ``1.25e-5``."""
    if x == int(x) and abs(x) < 1e5:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e5:
        return repr(x)
    mantissa, _, exponent = f"{Decimal(repr(x)).normalize():e}".partition("e")
    return f"{mantissa}e{int(exponent)}"


def _fmt_day(x: float) -> str:
    """A day or interval as the grammar reads it back: plain digits, never ``1e5`` or ``5e-5``."""
    text = format(Decimal(repr(float(x))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(x: float) -> int | float:
    """``x`` as an int when it is a whole number (for tidy YAML)."""
    return int(x) if x == int(x) and abs(x) < 1e15 else x


def _decimals(number: str) -> int:
    """Decimals ``number`` (text of a day, as written) needs: ``10.50`` → 1, ``1e-10`` → 10."""
    _, digits, exponent = Decimal(number).as_tuple()  # exact: no rounding to 28 digits
    if not isinstance(exponent, int) or not any(digits):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing)


def _precision_problem(number: str, what: str) -> str | None:
    """Why a day or interval written as ``number`` is finer than the schedule keeps, or None."""
    decimals = _decimals(number)
    if decimals <= _DAY_DECIMALS:
        return None
    kept = _fmt_day(round(float(number), _DAY_DECIMALS))
    return (
        f"{what} {number} has {decimals} decimals, more than the {_DAY_DECIMALS} the schedule "
        f"keeps (its resolution is 1e-{_DAY_DECIMALS} day, about 86 microseconds): it would be "
        f"read as {kept}; write it with at most {_DAY_DECIMALS} decimals"
    )


def _pint_unit(unit: str) -> str:
    return _AREA.sub(r"\1^\2", unit)


def _normalize_unit(unit: str) -> str:
    return "".join(unit.split())


# Dose unit symbols as clinicians write them, by their lower case. Unit symbols are
# case-sensitive: "MG" is a megagauss, "Mg" a megagram, "ML" a megaliter, "D" a debye, "H" a
# henry; such a spelling is refused and the symbol below suggested. Lower-case forms that name two
# dose units (mu: MU million units or mU milliunits; miu; mbq: MBq or mBq) are not listed: they
# are read as written.
_CLINICAL_SPELLINGS: dict[str, tuple[str, ...]] = {
    **{u.lower(): (u,) for u in ("mg", "g", "kg", "mcg", "µg", "ug", "ng", "pg")},
    **{u.lower(): (u,) for u in ("mol", "mmol", "µmol", "umol", "nmol")},
    **{u.lower(): (u,) for u in ("IU", "kIU", "cells", "cell", "m")},
    **{u.lower(): (u,) for u in ("d", "h", "min", "day", "days", "hour", "wk", "week")},
    **{u.lower(): (u,) for u in ("Bq", "kBq", "GBq", "Ci", "mCi", "µCi")},
    **{u.lower(): (u, u.lower()) for u in ("L", "mL", "dL", "µL", "uL")},  # l is also a liter
    "u": ("U",),  # u is the atomic mass unit (dalton)
}
_UNIT_WORD = re.compile(r"[A-Za-zµ]+")


def _case_suggestion(unit: str) -> str | None:
    """``unit`` with its symbols in clinical case (``MG/M2`` → ``mg/m2``), if any differs."""
    suggestion = _UNIT_WORD.sub(
        lambda m: (
            m.group()
            if m.group() in _CLINICAL_SPELLINGS.get(m.group().lower(), (m.group(),))
            else _CLINICAL_SPELLINGS[m.group().lower()][0]
        ),
        unit,
    )
    return None if suggestion == unit else suggestion


def _dose_kind_problem(quantity: Any) -> str | None:
    """Why a unit (without its time units) is not an amount a dose can be, or None.

    A dose is an amount — a mass (mg), an amount of substance (mmol), enzyme or international
    units (IU, U, MU), cells, or a radioactivity (MBq, mCi) — optionally per body weight (/kg),
    per body surface area (/m2) or per volume (/L, a concentration).
    """
    ureg = unit_registry()
    amount: Any = ureg.dimensionless.dimensionality
    per: list[str] = []
    for name, exponent in quantity.unit_items():
        dims = dict(ureg.Unit(name).dimensionality)
        if dims == {"[time]": 1}:
            continue
        if exponent == -1 and dims == {"[mass]": 1}:
            per.append("body weight")
        elif (exponent == -2 and dims == {"[length]": 1}) or (
            exponent == -1 and dims == {"[length]": 2}
        ):
            per.append("body surface area")
        elif (exponent == -3 and dims == {"[length]": 1}) or (
            exponent == -1 and dims == {"[length]": 3}
        ):
            per.append("volume")
        else:
            amount = amount * ureg.Unit(name).dimensionality ** exponent
    kinds = {
        "[mass]": "a mass",
        "[substance]": "an amount of substance",
        "[substance] / [time]": "enzyme or international units",
        "[cell]": "cells",
        "1 / [time]": "a radioactivity",
    }
    if str(amount) not in kinds:
        names = {
            "dimensionless": "a pure number",
            "[length] ** 3": "a volume",
            "[length] ** 2": "an area",
            "[length]": "a length",
            "[temperature]": "a temperature",
        }
        return (
            f"measures {names.get(str(amount), str(amount))}, which is not an amount a dose can "
            f"be; {_DOSE_KINDS}"
        )
    if len(per) > 1:
        return f"is per {' and per '.join(per)}; a dose is per one of them at most"
    return None


@functools.lru_cache(maxsize=512)
def _is_rate(unit: str) -> bool:
    """Whether ``unit`` is an amount per time (an infusion rate).

    Only the explicit time units of the unit count (``day`` in ``IU/d``), not the time hidden in
    a derived unit (``IU`` is read as an enzyme unit, µmol/min, and ``Bq`` as decays per second:
    both are still bolus amounts).

    Raises
    ------
    UnitError
        If the unit is unknown, written in the wrong case (``MG``: megagauss, for ``mg``), or is
        not an amount a dose can be nor such an amount per time.
    """
    suggestion = _case_suggestion(unit)
    if suggestion is not None and _valid_dose_unit(suggestion):
        _refuse_case(unit, suggestion)
    quantity = _parse_unit(_pint_unit(unit))
    ureg = unit_registry()
    power = 0.0
    for name, exponent in quantity.unit_items():
        dims = dict(ureg.Unit(name).dimensionality)
        if dims == {"[time]": 1}:
            power += exponent
    if power not in (0, -1):
        raise UnitError(
            f"unit {unit!r} is neither an amount (mg/kg, cells) nor an amount per time (IU/d); "
            "a dose is one or the other"
        )
    problem = _dose_kind_problem(quantity)
    if problem:
        raise UnitError(f"unit {unit!r} {problem}")
    return power == -1


def _valid_dose_unit(unit: str) -> bool:
    try:
        _is_rate(unit)
    except UnitError:
        return False
    return True


def _refuse_case(unit: str, suggestion: str) -> NoReturn:
    try:
        meaning = str(_parse_unit(_pint_unit(unit)).units)
    except UnitError:
        meaning = "unknown"
    read = "is not a unit" if meaning == "unknown" else f"reads as {meaning}"
    raise UnitError(f"unit {unit!r} {read}: unit symbols are case-sensitive; write {suggestion!r}")


def _unit_problem(unit: str) -> str | None:
    if not unit:
        return f"the unit is missing; {_UNIT_HELP}"
    try:
        _is_rate(unit)
    except UnitError as exc:
        message = str(exc)
        unknown = message.startswith(("unknown unit", "cannot read unit"))
        if unknown and "case-sensitive" not in message:
            return f"unknown unit {unit!r}; {_UNIT_HELP}"
        return message
    return None


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    """A real number from YAML (int, float or numeric text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


# ----------------------------------------------------------------------------------------------
# errors


class RegimenSyntaxError(ValidationError):
    """Regimen text that does not follow the grammar of :mod:`immunoprecise.dynamics.regimen`.

    The message names the item, the column, what was expected, and shows the text with a caret
    under the offending token.

    Parameters
    ----------
    text
        The whole regimen text.
    reason
        What is wrong and what is expected, e.g. ``"unknown unit 'mgg/kg'"``.
    position
        0-based index, in ``text``, of the offending token (``len(text)`` when something is
        missing at the end).
    item
        1-based number of the item (items are separated by ``;`` or new lines).
    length
        Length of the offending token (the caret's width).
    field
        Name of the field shown in the message (``regimen``, or ``items[2]`` for a text item of
        a YAML regimen).
    source
        The file the text came from, if any.

    Attributes
    ----------
    position : int
        0-based index of the offending token in ``text``.
    column : int
        ``position + 1``: the 1-based character position in the whole text.
    line : int
        1-based line of the offending token.
    item : int
        1-based item number.
    reason : str
        The message without location and caret.

    Examples
    --------
    >>> try:
    ...     Regimen.parse("chemo 1 mgg/kg d0")
    ... except RegimenSyntaxError as err:
    ...     print(err.item, err.column)
    ...     print(err)
    1 9
    1 invalid field
      - regimen = 'chemo 1 mgg/kg d0': item 1, column 9: unknown unit 'mgg/kg'; ...
          chemo 1 mgg/kg d0
                  ^^^^^^
    """

    def __init__(
        self,
        text: str,
        reason: str,
        *,
        position: int,
        item: int,
        length: int = 1,
        field: str = "regimen",
        source: str | None = None,
    ) -> None:
        self.text = text
        self.reason = reason
        self.position = position
        self.column = position + 1
        self.line = text.count("\n", 0, position) + 1
        self.item = item
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        shown = text[line_start : len(text) if line_end < 0 else line_end]
        shown = shown.replace("\t", " ").replace("\r", " ")
        where = f"item {item}, column {self.column}"
        if "\n" in text:
            where += f" (line {self.line})"
        caret = " " * (position - line_start) + "^" * max(1, length)
        message = f"{where}: {reason}\n      {shown}\n      {caret}"
        super().__init__([FieldProblem(field=field, value=text, message=message)], source=source)


_NUMBER_TEXT = r"\d+(?:\.\d+)?"


def _clinical_spelling(words: list[str]) -> tuple[str, str] | None:
    """A schedule as clinicians write it at the start of ``words`` (``Day 0``, ``x 6``,
    ``d0, d21, d42``, ``every 3 weeks for 6 cycles``): the words as written and the tokens to
    write instead; ``None`` for anything else."""
    if len(words) >= 2 and words[0].lower() in ("day", "days") and re.fullmatch(r"\d+", words[1]):
        return f"{words[0]} {words[1]}", f"d{words[1]}"
    if len(words) >= 2 and words[0] in ("x", "X", "×") and re.fullmatch(r"\d+", words[1]):
        return f"{words[0]} {words[1]}", f"x{words[1]}"
    if re.fullmatch(r"[dD]\d+,", words[0]):
        listed = [words[0]]
        for word in words[1:]:
            if not re.fullmatch(r"[dD]?\d+,?", word):
                break
            listed.append(word)
            if not word.endswith(","):
                break
        if len(listed) > 1 and not listed[-1].endswith(","):
            days = ",".join(w.strip(",").lstrip("dD") for w in listed)
            return " ".join(listed), f"d{days}"
    lower = [w.lower() for w in words]
    if len(words) >= 3 and lower[0] == "every" and re.fullmatch(_NUMBER_TEXT, words[1]):
        unit = {"week": "w", "weeks": "w", "day": "d", "days": "d"}.get(lower[2])
        if unit is not None:
            written, rewrite = " ".join(words[:3]), f"q{words[1]}{unit}"
            if (
                len(words) >= 6
                and lower[3] == "for"
                and re.fullmatch(r"\d+", words[4])
                and lower[5] in ("cycles", "cycle", "doses", "dose", "times")
            ):
                written, rewrite = " ".join(words[:6]), f"{rewrite} x{words[4]}"
            return written, rewrite
    return None


class _Token(NamedTuple):
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _split_items(text: str) -> list[list[_Token]]:
    items: list[list[_Token]] = []
    current: list[_Token] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        if word.startswith("#"):
            continue
        if word in (";", "\n"):
            if current:
                items.append(current)
                current = []
            continue
        current.append(_Token(word, match.start()))
    if current:
        items.append(current)
    return items


# ----------------------------------------------------------------------------------------------
# the data model


@dataclass(frozen=True, slots=True)
class Dose:
    """One administration: a bolus at ``start``, or a constant-rate infusion from ``start``.

    Parameters
    ----------
    agent
        The agent, as written in the regimen (``chemo``, ``IL2``, ``CAR-T``).
    amount
        The amount given, in ``unit``; for an infusion, the rate (amount per time).
    unit
        The unit of ``amount`` as written, e.g. ``mg/kg``, ``cells`` or, for an infusion,
        ``IU/d``.
    start
        Day of the bolus, or day the infusion starts (days from the start of the regimen).
    duration
        Days the infusion lasts; ``0.0`` for a bolus.

    Examples
    --------
    >>> dose = Dose("IL2", 5e6, "IU/d", start=8.0, duration=5.0)
    >>> dose.is_infusion, dose.end
    (True, 13.0)
    >>> Dose("CAR-T", 1e8, "cells", start=42.0).is_infusion
    False
    """

    agent: str
    amount: float
    unit: str
    start: float
    duration: float = 0.0

    def __post_init__(self) -> None:
        not_numbers = [
            FieldProblem(key, value, "must be a number")
            for key, value in (
                ("amount", self.amount),
                ("start", self.start),
                ("duration", self.duration),
            )
            if not _is_real(value)
        ]
        if not_numbers:
            raise ValidationError(not_numbers, source="dose")
        problems = []
        if not math.isfinite(self.amount) or self.amount <= 0:
            problems.append(FieldProblem("amount", self.amount, "must be a positive number"))
        if not math.isfinite(self.start) or self.start < 0:
            problems.append(FieldProblem("start", self.start, "must be a day ≥ 0"))
        if not math.isfinite(self.duration) or self.duration < 0:
            problems.append(
                FieldProblem("duration", self.duration, "must be ≥ 0 days (0 for a bolus)")
            )
        if problems:
            raise ValidationError(problems, source="dose")

    @property
    def is_infusion(self) -> bool:
        """Whether this dose is a constant-rate infusion (``duration > 0``).

        Examples
        --------
        >>> Dose("chemo", 1.0, "mg/kg", start=0.0).is_infusion
        False
        """
        return self.duration > 0

    @property
    def end(self) -> float:
        """Day the dose ends, ``start + duration`` (``start`` for a bolus).

        Examples
        --------
        >>> Dose("IL2", 5e6, "IU/d", start=8.0, duration=5.0).end
        13.0
        """
        return self.start + self.duration

    def amount_in(self, target: str) -> float:
        """The amount (for an infusion, the rate) converted to the unit ``target``.

        Parameters
        ----------
        target
            A unit of the same kind, e.g. ``"IU/h"`` for a dose in ``IU/d``.

        Returns
        -------
        float
            The amount in ``target``.

        Raises
        ------
        UnitError
            If ``target`` is unknown or measures another kind of quantity.

        Examples
        --------
        >>> Dose("IL2", 2.4e6, "IU/d", start=0.0, duration=1.0).amount_in("IU/h")
        100000.0
        >>> Dose("chemo", 2.0, "mg/m2", start=0.0).amount_in("g/m^2")
        0.002
        """
        return convert(self.amount, _pint_unit(self.unit), _pint_unit(target))


def _item_problems(item: RegimenItem) -> list[FieldProblem]:
    """Every problem of an item, named by its dataclass field."""
    problems: list[FieldProblem] = []
    if not item.agent or any(c.isspace() or c in ";#" for c in item.agent):
        problems.append(
            FieldProblem("agent", item.agent, "must be one word without spaces, ';' or '#'")
        )
    elif not any(c.isalpha() for c in item.agent):
        problems.append(FieldProblem("agent", item.agent, "must contain a letter (e.g. IL2)"))
    if not math.isfinite(item.amount) or item.amount <= 0:
        problems.append(FieldProblem("amount", item.amount, "must be a positive number"))
    unit_problem = _unit_problem(item.unit)
    if unit_problem:
        problems.append(FieldProblem("unit", item.unit, unit_problem))
    if not item.days:
        problems.append(FieldProblem("days", item.days, "give at least one day"))
    elif any(not math.isfinite(d) or d < 0 for d in item.days):
        problems.append(FieldProblem("days", item.days, "days must be numbers ≥ 0"))
    elif len(set(item.days)) != len(item.days):
        problems.append(FieldProblem("days", item.days, "each day may be listed once"))
    elif item.range_end is None and len(item.days) > 1 and unit_problem is None:
        close = [(a, b) for a, b in zip(item.days, item.days[1:], strict=False) if b - a < 1 - 1e-9]
        if close and item.is_infusion:
            a, b = close[0]
            problems.append(
                FieldProblem(
                    "days",
                    item.days,
                    f"infusion days {_fmt_day(a)} and {_fmt_day(b)} overlap: with a rate "
                    f"({item.unit}) each listed day is one day of infusion, [N, N+1), so the "
                    "rates would add up; list days at least 1 apart, or write a range dN-M for "
                    "a continuous infusion",
                )
            )
    if item.range_end is not None:
        problem = _range_problem(item.days[0] if item.days else 0.0, item.range_end)
        if len(item.days) != 1:
            problems.append(
                FieldProblem("range_end", item.range_end, "a day range needs exactly one start day")
            )
        elif problem:
            problems.append(FieldProblem("range_end", item.range_end, problem))
    if item.every_days is None:
        if item.cycles != 1:
            problems.append(
                FieldProblem(
                    "cycles",
                    item.cycles,
                    f"x{item.cycles} needs a repeat interval such as q21d (every_days)",
                )
            )
    elif not math.isfinite(item.every_days) or item.every_days <= 0:
        problems.append(FieldProblem("every_days", item.every_days, "must be > 0 days"))
    if isinstance(item.cycles, bool) or not isinstance(item.cycles, int) or item.cycles < 1:
        problems.append(FieldProblem("cycles", item.cycles, "must be a whole number ≥ 1"))
    if not problems:
        problems.extend(_count_problems(item, infusion=unit_problem is None and item.is_infusion))
    if not problems and item.every_days is not None:
        problem = _fit_problem(item, item.every_days)
        if problem:
            problems.append(FieldProblem("every_days", item.every_days, problem))
    return problems


def _count_problems(item: RegimenItem, *, infusion: bool) -> list[FieldProblem]:
    """The item's administrations beyond :data:`MAX_ADMINISTRATIONS` (checked before expanding)."""
    if item.range_end is not None:
        per_cycle = 1 if infusion else round(item.range_end - item.days[0]) + 1
    else:
        per_cycle = len(item.days)
    total = per_cycle * item.cycles
    if total <= MAX_ADMINISTRATIONS:
        return []
    limit = (
        f"at most {MAX_ADMINISTRATIONS:,} administrations per item (daily for 27 years, "
        "weekly for 191 years); split a longer schedule into several items"
    )
    if item.range_end is not None and per_cycle > MAX_ADMINISTRATIONS:
        return [
            FieldProblem(
                "range_end",
                item.range_end,
                f"the day range {item._days_text()} gives {per_cycle:,} boluses, one a day; "
                f"{limit}",
            )
        ]
    per = "" if per_cycle == 1 else f" of {per_cycle:,} administrations"
    return [
        FieldProblem(
            "cycles",
            item.cycles,
            f"x{item.cycles} cycles{per} give {total:,} administrations; {limit}",
        )
    ]


def _range_problem(first: float, last: float) -> str | None:
    label = f"d{_fmt_day(first)}-{_fmt_day(last)}"
    if last < first:
        return f"day range {label} ends before it starts"
    if not math.isclose(last - first, round(last - first), abs_tol=1e-9):
        return f"day range {label} must span a whole number of days"
    return None


def _fit_problem(item: RegimenItem, every_days: float) -> str | None:
    """Why the day block of a repeating item does not fit in one interval, if it does not."""
    block = item._block()
    first = block[0][0]
    if item.is_infusion:
        span = max(s + d for s, d in block) - first
        fits = span <= every_days + 1e-9
    else:
        span = block[-1][0] - first
        fits = span < every_days - 1e-9
    if fits:
        return None
    return (
        f"the days {item._days_text()} do not fit in one cycle of q{_fmt_day(every_days)}d "
        "(cycles would overlap); use a longer interval or fewer days"
    )


@dataclass(frozen=True, slots=True)
class RegimenItem:
    """One item of a regimen as written: an agent, an amount and a schedule.

    Parameters
    ----------
    agent
        The agent, one word kept as written (``chemo``, ``IL-2``, ``anti-PD-1``).
    amount
        The amount per administration (for an infusion, the rate), in ``unit``; > 0.
    unit
        The unit, e.g. ``mg/kg`` (bolus) or ``IU/d`` (a rate: an infusion). Spaces are removed.
    days
        The days of the first cycle (sorted on construction); ``(0.0,)`` by default. With
        ``range_end``, the single first day of the range.
    range_end
        Last day (inclusive) of a day range ``dN-M``, or ``None``.
    every_days
        Repeat interval of the day block in days (``q21d``), or ``None`` for no repeat.
    cycles
        Number of cycles (``x6``); must be 1 without ``every_days``.
    source
        The text the item was read from (not compared; defaults to the canonical text).

    Raises
    ------
    ValidationError
        If a field is invalid (unknown unit, negative day, cycles without interval, …).

    Examples
    --------
    >>> item = RegimenItem("chemo", 1.0, "mg/kg", every_days=21.0, cycles=3)
    >>> str(item), item.is_infusion
    ('chemo 1 mg/kg d0 q21d x3', False)
    >>> [d.start for d in item.doses()]
    [0.0, 21.0, 42.0]
    """

    agent: str
    amount: float
    unit: str
    days: tuple[float, ...] = (0.0,)
    range_end: float | None = None
    every_days: float | None = None
    cycles: int = 1
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "unit", _normalize_unit(self.unit) if isinstance(self.unit, str) else "")
        days = tuple(self.days) if isinstance(self.days, Sequence) else (self.days,)
        numbers = {
            "amount": self.amount,
            "range_end": self.range_end,
            "every_days": self.every_days,
        }
        not_numbers = [
            FieldProblem(key, value, "must be a number")
            for key, value in [*numbers.items(), *(("days", d) for d in days)]
            if value is not None and not _is_real(value)
        ]
        if not_numbers:
            raise ValidationError(not_numbers, source=f"regimen item {self.agent!r}")
        set_(self, "amount", float(self.amount))
        set_(self, "days", tuple(sorted(round(float(d), _DAY_DECIMALS) for d in days)))
        if self.range_end is not None:
            set_(self, "range_end", round(float(self.range_end), _DAY_DECIMALS))
        if self.every_days is not None:
            set_(self, "every_days", round(float(self.every_days), _DAY_DECIMALS))
        problems = _item_problems(self)
        if problems:
            raise ValidationError(problems, source=f"regimen item {self.source or self.agent!r}")
        if not self.source:
            set_(self, "source", self.to_text())

    @classmethod
    def parse(cls, text: str) -> RegimenItem:
        """Read one item in the text form (see the module documentation).

        Parameters
        ----------
        text
            One item, e.g. ``"IL2 5e6 IU/d d8-12"``.

        Returns
        -------
        RegimenItem
            The item.

        Raises
        ------
        RegimenSyntaxError
            If the text is not one valid item.

        Examples
        --------
        >>> RegimenItem.parse("IL2 5e6 IU/d d8-12").is_infusion
        True
        """
        items = _split_items(text)
        if len(items) != 1:
            position = items[1][0].start if items else 0
            raise RegimenSyntaxError(
                text,
                "expected exactly one item (AGENT AMOUNT UNIT SCHEDULE); "
                "use Regimen.parse for several",
                position=position,
                item=2 if items else 1,
            )
        return _parse_item(text, items[0], 1)

    @property
    def is_infusion(self) -> bool:
        """Whether the unit is a rate (per time), making each administration an infusion.

        Examples
        --------
        >>> RegimenItem("IL2", 5e6, "IU/d").is_infusion, RegimenItem("IL2", 1e6, "IU").is_infusion
        (True, False)
        """
        return _is_rate(self.unit)

    def _block(self) -> list[tuple[float, float]]:
        """(start, duration) of each administration of the first cycle, by start."""
        rate = self.is_infusion
        if self.range_end is not None:
            first = self.days[0]
            n_days = round(self.range_end - first) + 1
            if rate:
                return [(first, float(n_days))]
            return [(first + k, 0.0) for k in range(n_days)]
        return [(d, 1.0 if rate else 0.0) for d in self.days]

    def doses(self) -> tuple[Dose, ...]:
        """Every administration of this item, sorted by start day.

        Returns
        -------
        tuple of Dose
            Boluses (``duration`` 0) or infusions (``duration`` in days, ``amount`` a rate).

        Examples
        --------
        >>> [(d.start, d.duration) for d in RegimenItem.parse("IL2 5e6 IU/d d8-12 q21d x2").doses()]
        [(8.0, 5.0), (29.0, 5.0)]
        """
        block = self._block()
        every = self.every_days or 0.0
        return tuple(
            Dose(
                self.agent,
                self.amount,
                self.unit,
                start=round(start + cycle * every, _DAY_DECIMALS),
                duration=duration,
            )
            for cycle in range(self.cycles)
            for start, duration in block
        )

    def shifted(self, days: float) -> RegimenItem:
        """The same item, every day moved by ``days`` (which may be negative).

        Parameters
        ----------
        days
            Days to add to every administration.

        Returns
        -------
        RegimenItem
            The shifted item.

        Raises
        ------
        ValidationError
            If a day would fall before day 0.

        Examples
        --------
        >>> str(RegimenItem.parse("IL2 5e6 IU/d d8-12").shifted(2))
        'IL2 5e6 IU/d d10-14'
        """
        return RegimenItem(
            self.agent,
            self.amount,
            self.unit,
            days=tuple(d + days for d in self.days),
            range_end=None if self.range_end is None else self.range_end + days,
            every_days=self.every_days,
            cycles=self.cycles,
        )

    def _days_text(self) -> str:
        if self.range_end is not None:
            return f"d{_fmt_day(self.days[0])}-{_fmt_day(self.range_end)}"
        return "d" + ",".join(_fmt_day(d) for d in self.days)

    def _days_value(self) -> int | float | str | list[int | float]:
        if self.range_end is not None:
            return f"{_fmt_day(self.days[0])}-{_fmt_day(self.range_end)}"
        if len(self.days) == 1:
            return _plain(self.days[0])
        return [_plain(d) for d in self.days]

    def to_text(self) -> str:
        """The canonical text of the item, which :meth:`parse` reads back to an equal item.

        Examples
        --------
        >>> RegimenItem.parse("chemo 1.0 mg/kg x6 q3w").to_text()
        'chemo 1 mg/kg d0 q21d x6'
        """
        parts = [self.agent, _fmt(self.amount), self.unit, self._days_text()]
        if self.every_days is not None:
            parts += [f"q{_fmt_day(self.every_days)}d", f"x{self.cycles}"]
        return " ".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        """The item as a plain mapping of the YAML form.

        Examples
        --------
        >>> RegimenItem.parse("chemo 1 mg/kg q21d x6").to_dict()
        {'agent': 'chemo', 'dose': '1 mg/kg', 'days': 0, 'every_days': 21, 'cycles': 6}
        """
        data: dict[str, Any] = {
            "agent": self.agent,
            "dose": f"{_fmt(self.amount)} {self.unit}",
            "days": self._days_value(),
        }
        if self.every_days is not None:
            data["every_days"] = _plain(self.every_days)
            data["cycles"] = self.cycles
        return data


# ----------------------------------------------------------------------------------------------
# reading the text form


def _parse_days(word: str) -> tuple[tuple[float, ...], float | None, str | None]:
    """Days of a day token (``d8``, ``8-12``, ``d0,7``): (days, range end, problem)."""
    if _DAY_SINGLE.fullmatch(word) or _DAY_RANGE.fullmatch(word) or _DAY_LIST.fullmatch(word):
        for number in re.findall(_DAY_NUMBER, word):
            if problem := _precision_problem(number, "day"):
                return (), None, problem
    if match := _DAY_SINGLE.fullmatch(word):
        return (float(match.group(1)),), None, None
    if match := _DAY_RANGE.fullmatch(word):
        first, last = float(match.group(1)), float(match.group(2))
        return (first,), last, _range_problem(first, last)
    if _DAY_LIST.fullmatch(word):
        days = [float(part.lstrip("dD")) for part in word.split(",")]
        for i, day in enumerate(days):
            if day in days[:i]:
                return (), None, f"day {_fmt_day(day)} is listed twice in {word!r}"
        return tuple(days), None, None
    if re.fullmatch(r"[dD]?-.*", word) or re.search(r",-|--", word):
        return (), None, f"days cannot be negative in {word!r}; day 0 is the first day"
    return (), None, f"cannot read the days in {word!r}; write dN, dN-M or dN,M,K (e.g. d8-12)"


def _parse_item(
    text: str, tokens: list[_Token], item_no: int, field: str = "regimen"
) -> RegimenItem:
    def fail(reason: str, position: int, length: int = 1) -> RegimenSyntaxError:
        return RegimenSyntaxError(
            text, reason, position=position, item=item_no, length=length, field=field
        )

    agent = tokens[0]
    if _NUMBER.fullmatch(agent.text):
        raise fail(
            f"expected an agent name before the amount {agent.text!r} "
            f"(e.g. 'chemo {agent.text} mg/kg d0')",
            agent.start,
            len(agent.text),
        )
    if not any(c.isalpha() for c in agent.text):
        raise fail(
            f"expected an agent name (a word such as chemo, IL2 or CAR-T), got {agent.text!r}",
            agent.start,
            len(agent.text),
        )
    if len(tokens) < 2:
        raise fail(f"expected an amount (a number) after the agent {agent.text!r}", agent.end)
    amount_token = tokens[1]
    if not _NUMBER.fullmatch(amount_token.text):
        hint = ""
        if amount_token.text.startswith("-"):
            hint = "; the amount must be positive"
        elif _NUMBER.match(amount_token.text):
            hint = "; put a space between the amount and the unit"
        raise fail(
            f"expected an amount (a number) after the agent {agent.text!r}, "
            f"got {amount_token.text!r}{hint}",
            amount_token.start,
            len(amount_token.text),
        )
    amount = float(amount_token.text)
    if not math.isfinite(amount) or amount <= 0:
        raise fail(
            f"the amount must be a positive number, got {amount_token.text!r}",
            amount_token.start,
            len(amount_token.text),
        )
    if len(tokens) < 3:
        raise fail(
            f"expected a unit after the amount {amount_token.text!r} ({_UNIT_HELP})",
            amount_token.end,
        )
    unit_token = tokens[2]
    unit_problem = _unit_problem(unit_token.text)
    if unit_problem:
        word = unit_token.text
        in_words = _number_word_problem(word, amount_token.text, amount)
        if in_words:
            unit_problem = in_words
        elif re.fullmatch(r"[dD][\d.\-,]+|[qQ][\d.]*[dDwW]|[xX×]\d+", word):
            unit_problem = (
                f"expected a unit after the amount {amount_token.text!r}, got the schedule "
                f"token {word!r}; {_UNIT_HELP} between the amount and {word!r}"
            )
        raise fail(unit_problem, unit_token.start, len(word))

    seen: dict[str, _Token] = {}
    what = {"days": "the days are", "repeat": "the repeat interval is", "cycles": "the cycles are"}
    days: tuple[float, ...] = (0.0,)
    range_end: float | None = None
    every_days: float | None = None
    cycles = 1
    for k, token in enumerate(tokens[3:], start=3):
        word = token.text
        rewrite = _clinical_spelling([t.text for t in tokens[k:]])
        if rewrite is not None:  # Day 0, x 6, d0, d21, every 3 weeks for 6 cycles
            raise fail(
                f"cannot read the schedule {rewrite[0]!r}; write {rewrite[1]!r} ({_SCHEDULE_HELP})",
                token.start,
                len(word),
            )
        if re.match(r"[dD][\d.\-]", word):
            kind = "days"
        elif re.match(r"[qQ]([\d.]|[dDwW]$)", word):
            kind = "repeat"
        elif re.match(r"[xX×]", word):
            kind = "cycles"
        else:
            raise fail(f"unknown schedule token {word!r}; {_SCHEDULE_HELP}", token.start, len(word))
        if kind in seen:
            previous = seen[kind].text
            extra = "; list several days in one token, e.g. d0,7,14" if kind == "days" else ""
            raise fail(
                f"duplicate schedule token {word!r}: {what[kind]} already given by "
                f"{previous!r}{extra}",
                token.start,
                len(word),
            )
        seen[kind] = token
        if kind == "days":
            days, range_end, problem = _parse_days(word)
            if problem:
                raise fail(problem, token.start, len(word))
        elif kind == "repeat":
            match = _REPEAT.fullmatch(word)
            if not match:
                raise fail(
                    f"cannot read the repeat interval {word!r}; write qNd or qNw, e.g. q21d or q3w",
                    token.start,
                    len(word),
                )
            n = float(match.group(1)) if match.group(1) else 1.0
            if match.group(1) and (
                problem := _precision_problem(match.group(1), "the repeat interval")
            ):
                raise fail(problem, token.start, len(word))
            if n <= 0:
                raise fail(
                    f"the repeat interval {word!r} must be longer than 0 days",
                    token.start,
                    len(word),
                )
            every_days = n * (7.0 if match.group(2) in "wW" else 1.0)
        else:
            match = _CYCLES.fullmatch(word)
            if not match:
                raise fail(
                    f"cannot read the number of cycles {word!r}; write xK with K a whole number, "
                    "e.g. x6",
                    token.start,
                    len(word),
                )
            cycles = int(match.group(1))
            if cycles < 1:
                raise fail(
                    f"the number of cycles {word!r} must be at least 1", token.start, len(word)
                )
    if "cycles" in seen and "repeat" not in seen:
        x = seen["cycles"]
        raise fail(
            f"{x.text} needs a repeat interval such as q21d (add qNd or qNw)",
            x.start,
            len(x.text),
        )
    if "repeat" in seen and "cycles" not in seen:
        q = seen["repeat"]
        raise fail(
            f"{q.text} needs a number of cycles such as x6 (how many times to repeat)",
            q.start,
            len(q.text),
        )
    source = text[tokens[0].start : tokens[-1].end]
    try:
        return RegimenItem(
            agent.text,
            amount,
            unit_token.text,
            days=days,
            range_end=range_end,
            every_days=every_days,
            cycles=cycles,
            source=source,
        )
    except ValidationError as exc:  # checks on the whole item, e.g. days longer than a cycle
        token = seen.get("days") or seen.get("repeat") or tokens[0]
        if exc.problems[0].field == "cycles":  # too many administrations
            token = seen.get("cycles", token)
        reason = "; ".join(p.message for p in exc.problems)
        raise fail(reason, token.start, len(token.text)) from None


def _parse_text(text: str, field: str = "regimen") -> tuple[RegimenItem, ...]:
    return tuple(
        _parse_item(text, tokens, number, field)
        for number, tokens in enumerate(_split_items(text), start=1)
    )


# ----------------------------------------------------------------------------------------------
# reading the YAML form

_ITEM_KEYS = ("agent", "dose", "days", "every_days", "every_weeks", "cycles")
_FIELD_TO_KEY = {"amount": "dose", "unit": "dose", "range_end": "days"}


def _yaml_precision_problem(value: object, what: str) -> str | None:
    """:func:`_precision_problem` of a YAML number (int, float or numeric text) as written."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, float):
        text = repr(value)  # the shortest text that reads back as the number: as written
    else:
        return None
    return _precision_problem(text, what) if _NUMBER.fullmatch(text) else None


def _yaml_days(
    value: object, where: str, problems: list[FieldProblem]
) -> tuple[tuple[float, ...], float | None]:
    if value is None:
        return (0.0,), None
    number = _number(value) if not isinstance(value, str) else None
    if number is not None and number >= 0:
        if problem := _yaml_precision_problem(value, "day"):
            problems.append(FieldProblem(where, value, problem))
            return (), None
        return (number,), None
    if isinstance(value, str):
        days, range_end, problem = _parse_days(value.strip().replace(" ", ""))
        if problem:
            problems.append(FieldProblem(where, value, problem))
        return days, range_end
    if isinstance(value, list) and value:
        numbers = [_number(v) for v in value]
        if all(n is not None and n >= 0 for n in numbers):
            for i, v in enumerate(value):
                if problem := _yaml_precision_problem(v, "day"):
                    problems.append(FieldProblem(f"{where}[{i}]", v, problem))
                    return (), None
            return tuple(n for n in numbers if n is not None), None
    problems.append(
        FieldProblem(
            where, value, "expected a day, a list of days or a range such as '8-12' (days ≥ 0)"
        )
    )
    return (), None


def _yaml_item(
    data: Mapping[Any, Any], where: str, problems: list[FieldProblem]
) -> RegimenItem | None:
    found: list[FieldProblem] = []
    for key in data:
        if key not in _ITEM_KEYS:
            found.append(
                FieldProblem(
                    f"{where}.{key}", None, f"unknown key; expected one of {', '.join(_ITEM_KEYS)}"
                )
            )
    agent = data.get("agent")
    if agent is None:
        found.append(FieldProblem(f"{where}.agent", None, "is required, e.g. agent: chemo"))
    elif not isinstance(agent, str):
        found.append(FieldProblem(f"{where}.agent", agent, "must be a name, e.g. chemo"))
    dose = data.get("dose")
    amount, unit = math.nan, ""
    if dose is None:
        found.append(FieldProblem(f"{where}.dose", None, "is required, e.g. dose: 1 mg/kg"))
    elif not isinstance(dose, str):
        found.append(
            FieldProblem(f"{where}.dose", dose, "write the amount with its unit, e.g. '1 mg/kg'")
        )
    else:
        amount_text, _, unit_text = dose.strip().partition(" ")
        unit = _normalize_unit(unit_text)
        if not _NUMBER.fullmatch(amount_text) or float(amount_text) <= 0:
            found.append(
                FieldProblem(
                    f"{where}.dose", dose, "expected a positive amount then a unit, e.g. '1 mg/kg'"
                )
            )
        elif problem := _unit_problem(unit):
            word = unit_text.split()[0] if unit_text.split() else ""
            problem = _number_word_problem(word, amount_text, float(amount_text)) or problem
            found.append(FieldProblem(f"{where}.dose", dose, problem))
        else:
            amount = float(amount_text)
    days, range_end = _yaml_days(data.get("days"), f"{where}.days", found)
    every_days: float | None = None
    if "every_days" in data and "every_weeks" in data:
        found.append(
            FieldProblem(
                f"{where}.every_weeks",
                data["every_weeks"],
                "give every_days or every_weeks, not both",
            )
        )
    for key, scale in (("every_days", 1.0), ("every_weeks", 7.0)):
        if key in data:
            number = _number(data[key])
            if number is None or number <= 0:
                found.append(FieldProblem(f"{where}.{key}", data[key], "must be a number > 0"))
            elif problem := _yaml_precision_problem(data[key], "the repeat interval"):
                found.append(FieldProblem(f"{where}.{key}", data[key], problem))
            else:
                every_days = number * scale
    cycles = data.get("cycles", 1)
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        found.append(FieldProblem(f"{where}.cycles", cycles, "must be a whole number ≥ 1"))
        cycles = 1
    has_every = "every_days" in data or "every_weeks" in data
    if has_every and "cycles" not in data:
        found.append(
            FieldProblem(f"{where}.cycles", None, "is required with every_days, e.g. cycles: 6")
        )
    if "cycles" in data and not has_every:
        found.append(
            FieldProblem(
                f"{where}.every_days",
                None,
                f"cycles: {data['cycles']} needs a repeat interval, e.g. every_days: 21",
            )
        )
    if found:
        problems.extend(found)
        return None
    try:
        return RegimenItem(
            str(agent),
            amount,
            unit,
            days=days,
            range_end=range_end,
            every_days=every_days,
            cycles=cycles,
        )
    except ValidationError as exc:
        problems.extend(
            FieldProblem(f"{where}.{_FIELD_TO_KEY.get(p.field, p.field)}", p.value, p.message)
            for p in exc.problems
        )
        return None


def _yaml_items(value: object, problems: list[FieldProblem]) -> list[RegimenItem]:
    if isinstance(value, str):
        try:
            return list(_parse_text(value, field="items"))
        except RegimenSyntaxError as exc:
            problems.extend(exc.problems)
            return []
    if not isinstance(value, Sequence):
        problems.append(
            FieldProblem("items", None, "expected a list of items (or one text in the text form)")
        )
        return []
    items: list[RegimenItem] = []
    for i, entry in enumerate(value):
        where = f"items[{i}]"
        if isinstance(entry, str):
            try:
                items.extend(_parse_text(entry, field=where))
            except RegimenSyntaxError as exc:
                problems.extend(exc.problems)
        elif isinstance(entry, Mapping):
            item = _yaml_item(entry, where, problems)
            if item is not None:
                items.append(item)
        else:
            problems.append(
                FieldProblem(
                    where,
                    entry,
                    "expected a mapping such as {agent: chemo, dose: 1 mg/kg, days: 0} "
                    "or a text item such as 'chemo 1 mg/kg d0'",
                )
            )
    return items


# ----------------------------------------------------------------------------------------------
# the regimen


def _join_names(a: str | None, b: str | None, sep: str) -> str | None:
    if a and b:
        return f"{a}{sep}{b}"
    return a or b


@dataclass(frozen=True, slots=True)
class Regimen:
    """A treatment regimen: items of agents, amounts and schedules, on one clock (days).

    Regimens are immutable and compared by value (their items, in order; the ``name`` is a
    label and is not compared). Read one with :meth:`parse` (text form) or :meth:`from_yaml`.

    Parameters
    ----------
    items
        The items, in the order written.
    name
        An optional label, e.g. ``"lymphodepletion + CAR-T"``.

    Examples
    --------
    >>> r = Regimen.parse("chemo 1 mg/kg q21d x2; CAR-T 1e8 cells d42", name="demo")
    >>> r.agents, r.end_day
    (('chemo', 'CAR-T'), 42.0)
    >>> Regimen.parse("") == Regimen()
    True
    """

    items: tuple[RegimenItem, ...] = ()
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        items = tuple(self.items)
        problems = [
            FieldProblem(f"items[{i}]", type(item).__name__, "must be a RegimenItem")
            for i, item in enumerate(items)
            if not isinstance(item, RegimenItem)
        ]
        if self.name is not None and not isinstance(self.name, str):
            problems.append(FieldProblem("name", self.name, "must be text or None"))
        if problems:
            raise ValidationError(problems, source="regimen")
        object.__setattr__(self, "items", items)

    # -- reading and writing -------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, *, name: str | None = None) -> Regimen:
        """Read a regimen in the text form (see the module documentation for the grammar).

        Parameters
        ----------
        text
            Items separated by ``;`` or new lines, e.g. ``"chemo 1 mg/kg q21d x6; CAR-T 1e8
            cells d42"``. The empty text gives the empty regimen.
        name
            A label for the regimen.

        Returns
        -------
        Regimen
            The regimen.

        Raises
        ------
        RegimenSyntaxError
            Naming the item and column of the first error, with a caret under it.

        Examples
        --------
        >>> [d.start for d in Regimen.parse("chemo 1 mg/kg d1-3").doses()]
        [1.0, 2.0, 3.0]
        """
        if not isinstance(text, str):
            raise ValidationError(
                [FieldProblem("regimen", type(text).__name__, "expected the regimen as text")]
            )
        return cls(_parse_text(text), name=name)

    @classmethod
    def from_yaml(
        cls, source: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Any] | None
    ) -> Regimen:
        """Read a regimen in the YAML form (see the module documentation).

        Parameters
        ----------
        source
            A path to a YAML file, YAML text, or already-loaded data: a list of items or a
            mapping with ``items`` and optionally ``name``. A string without a new line that
            names an existing file or ends in ``.yaml``/``.yml`` is read as a path.

        Returns
        -------
        Regimen
            The regimen.

        Raises
        ------
        ValidationError
            Listing every invalid field, e.g. ``items[1].every_days``; a file with nothing in it
            (zero bytes, blanks or comments only: write ``items: []`` for no treatment).

        Examples
        --------
        >>> r = Regimen.from_yaml('''
        ... name: demo
        ... items:
        ...   - {agent: chemo, dose: 1 mg/kg, every_days: 21, cycles: 2}
        ...   - IL2 5e6 IU/d d8-12
        ... ''')
        >>> r.name, str(r)
        ('demo', 'chemo 1 mg/kg d0 q21d x2; IL2 5e6 IU/d d8-12')
        """
        origin: str | None = None
        data: Any = source
        if isinstance(source, os.PathLike) or (
            isinstance(source, str)
            and "\n" not in source
            and (source.strip().endswith((".yaml", ".yml")) or _is_file(source))
        ):
            path = Path(os.fspath(source))
            origin = str(path)
            try:
                data = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValidationError(
                    [FieldProblem("(file)", None, f"cannot be read: {exc.strerror or exc}")],
                    source=origin,
                ) from None
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    [FieldProblem("(file)", None, _not_utf8_text(path, exc))], source=origin
                ) from None
        if isinstance(data, str):
            try:
                data = load_yaml(data)
            except yaml.YAMLError as exc:
                raise ValidationError(
                    [FieldProblem("(yaml)", None, f"is not valid YAML: {exc}")], source=origin
                ) from None
        problems: list[FieldProblem] = []
        name: str | None = None
        items: list[RegimenItem] = []
        if data is None and origin is not None:
            raise ValidationError([FieldProblem("(file)", None, EMPTY_FILE_PROBLEM)], source=origin)
        if data is None:
            pass
        elif isinstance(data, str):
            try:
                items = list(_parse_text(data))
            except RegimenSyntaxError as exc:
                problems.extend(exc.problems)
        elif isinstance(data, Mapping):
            for key in data:
                if key not in ("name", "items"):
                    problems.append(
                        FieldProblem(str(key), None, "unknown key; expected name and items")
                    )
            raw_name = data.get("name")
            if raw_name is not None and not isinstance(raw_name, str):
                problems.append(FieldProblem("name", raw_name, "must be text"))
            else:
                name = raw_name
            if "items" not in data:
                problems.append(FieldProblem("items", None, "is required (a list of items)"))
            else:
                items = _yaml_items(data["items"], problems)
        elif isinstance(data, Sequence):
            items = _yaml_items(list(data), problems)
        else:
            problems.append(
                FieldProblem(
                    "(regimen)",
                    None,
                    f"expected a list of items or a mapping with items, got {type(data).__name__}",
                )
            )
        if problems:
            raise ValidationError(problems, source=origin)
        return cls(tuple(items), name=name)

    def to_dict(self) -> dict[str, Any]:
        """The regimen as plain data of the YAML form (``name`` only when set).

        Examples
        --------
        >>> Regimen.parse("CAR-T 1e8 cells d42", name="demo").to_dict()
        {'name': 'demo', 'items': [{'agent': 'CAR-T', 'dose': '1e8 cells', 'days': 42}]}
        """
        data: dict[str, Any] = {}
        if self.name is not None:
            data["name"] = self.name
        data["items"] = [item.to_dict() for item in self.items]
        return data

    def to_yaml(self) -> str:
        """The regimen as YAML text, which :meth:`from_yaml` reads back to an equal regimen.

        Examples
        --------
        >>> print(Regimen.parse("IL2 5e6 IU/d d8-12").to_yaml(), end="")
        items:
        - agent: IL2
          dose: 5e6 IU/d
          days: 8-12
        """
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def to_text(self) -> str:
        """The canonical text form, which :meth:`parse` reads back to an equal regimen.

        Examples
        --------
        >>> Regimen.parse("IL2 5000000 IU/d d8-12 ;chemo 1 mg/kg q3w x2").to_text()
        'IL2 5e6 IU/d d8-12; chemo 1 mg/kg d0 q21d x2'
        """
        return "; ".join(item.to_text() for item in self.items)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        name = "" if self.name is None else f", name={self.name!r}"
        return f"Regimen.parse({self.to_text()!r}{name})"

    # -- doses and times -----------------------------------------------------------------------

    def doses(self) -> tuple[Dose, ...]:
        """Every administration of every item, sorted by start day (ties in item order).

        Returns
        -------
        tuple of Dose
            Boluses and infusions.

        Examples
        --------
        >>> [(d.agent, d.start) for d in Regimen.parse("b 1 mg d5; a 2 mg d0,5").doses()]
        [('a', 0.0), ('b', 5.0), ('a', 5.0)]
        """
        doses = [dose for item in self.items for dose in item.doses()]
        return tuple(sorted(doses, key=lambda d: d.start))

    @property
    def first_day(self) -> float | None:
        """The day of the first dose (``None`` without any dose).

        Examples
        --------
        >>> Regimen.parse("IL2 5e6 IU/d d8-12; CAR-T 1e6 cells d7").first_day
        7.0
        """
        doses = self.doses()
        return doses[0].start if doses else None

    def doses_after(self, day: float) -> tuple[Dose, ...]:
        """The doses that start after ``day`` (a simulation ending on ``day`` gives none of them).

        Examples
        --------
        >>> [d.start for d in Regimen.parse("CAR-T 1e6 cells d0 q21d x3").doses_after(30)]
        [42.0]
        """
        return tuple(d for d in self.doses() if d.start > day)

    def late_doses_text(self, day: float) -> str | None:
        """The doses after ``day`` per agent, as a note says them (``None`` when there are none).

        Examples
        --------
        >>> Regimen.parse("CAR-T 1e6 cells d0 q21d x3").late_doses_text(30)
        '1 dose starts after day 30 and is not simulated (CAR-T on day 42)'
        >>> Regimen.parse("anti-PD-1 200 mg q7d x20").late_doses_text(30)
        '15 doses start after day 30 and are not simulated (anti-PD-1 on days 35, 42, 49, …, 133)'
        """
        late: dict[str, list[float]] = {}
        for dose in self.doses_after(day):
            late.setdefault(dose.agent, []).append(dose.start)
        if not late:
            return None

        def days_text(days: list[float]) -> str:
            shown = [f"{d:g}" for d in days]
            if len(shown) > LATE_DAYS_SHOWN:  # the first few and the last
                shown = [*shown[: LATE_DAYS_SHOWN - 1], "…", shown[-1]]
            return ", ".join(shown)

        listed = "; ".join(
            f"{agent} on day{'s' if len(days) > 1 else ''} {days_text(days)}"
            for agent, days in late.items()
        )
        n = sum(len(days) for days in late.values())
        verbs = "starts after day {day:g} and is" if n == 1 else "start after day {day:g} and are"
        return f"{counted(n, 'dose')} {verbs.format(day=day)} not simulated ({listed})"

    @property
    def agents(self) -> tuple[str, ...]:
        """The agents, each once, in the order they first appear.

        Examples
        --------
        >>> Regimen.parse("chemo 1 mg d0; IL2 1 IU/d d1; chemo 1 mg d7").agents
        ('chemo', 'IL2')
        """
        return tuple(dict.fromkeys(item.agent for item in self.items))

    @property
    def end_day(self) -> float:
        """Day the last dose ends (the last bolus, or the end of the last infusion); 0 if empty.

        Examples
        --------
        >>> Regimen.parse("chemo 1 mg/kg d0; IL2 5e6 IU/d d8-12").end_day
        13.0
        """
        return max((dose.end for dose in self.doses()), default=0.0)

    def breakpoints(self, t_end: float) -> tuple[float, ...]:
        """Sorted unique days in ``[0, t_end]`` where a bolus is given or an infusion starts/ends.

        The integrator splits its integration at these times.

        Parameters
        ----------
        t_end
            Last day of the simulation.

        Returns
        -------
        tuple of float
            The days, ascending.

        Examples
        --------
        >>> Regimen.parse("chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12").breakpoints(30)
        (0.0, 8.0, 13.0, 21.0)
        """
        times = {t for dose in self.doses() for t in (dose.start, dose.end)}
        return tuple(sorted(t for t in times if 0.0 <= t <= t_end))

    # -- building regimens ---------------------------------------------------------------------

    def shifted(self, days: float) -> Regimen:
        """The same regimen with every dose moved by ``days`` (negative moves earlier).

        Parameters
        ----------
        days
            Days to add to every dose.

        Returns
        -------
        Regimen
            The shifted regimen (same name).

        Raises
        ------
        ValidationError
            If a dose would fall before day 0.

        Examples
        --------
        >>> str(Regimen.parse("chemo 1 mg/kg d0 q21d x2").shifted(7))
        'chemo 1 mg/kg d7 q21d x2'
        """
        return Regimen(tuple(item.shifted(days) for item in self.items), name=self.name)

    def then(self, other: Regimen, *, gap_days: float = 0.0) -> Regimen:
        """A sequence: ``other`` starts when the last dose of this regimen ends, plus a gap.

        Day ``d`` of ``other`` becomes day ``self.end_day + gap_days + d``.

        Parameters
        ----------
        other
            The regimen given afterwards.
        gap_days
            Days between the end of this regimen and day 0 of ``other``.

        Returns
        -------
        Regimen
            The items of this regimen, then those of ``other`` shifted.

        Examples
        --------
        >>> first = Regimen.parse("IL2 5e6 IU/d d0-4")
        >>> str(first.then(Regimen.parse("CAR-T 1e8 cells d0"), gap_days=2))
        'IL2 5e6 IU/d d0-4; CAR-T 1e8 cells d7'
        """
        if not isinstance(other, Regimen):
            raise TypeError(f"then() needs a Regimen, got {type(other).__name__}")
        later = other.shifted(self.end_day + gap_days)
        return Regimen(self.items + later.items, name=_join_names(self.name, other.name, ", then "))

    def combine(self, other: Regimen) -> Regimen:
        """A combination: every dose of both regimens, on the same clock (also ``self + other``).

        Parameters
        ----------
        other
            The regimen given alongside.

        Returns
        -------
        Regimen
            The items of this regimen followed by those of ``other``.

        Examples
        --------
        >>> a, b = Regimen.parse("chemo 1 mg/kg d0"), Regimen.parse("anti-PD-1 200 mg d0")
        >>> str(a + b) == str(a.combine(b)) == 'chemo 1 mg/kg d0; anti-PD-1 200 mg d0'
        True
        """
        if not isinstance(other, Regimen):
            raise TypeError(f"combine() needs a Regimen, got {type(other).__name__}")
        return Regimen(self.items + other.items, name=_join_names(self.name, other.name, " + "))

    def __add__(self, other: Regimen) -> Regimen:
        if not isinstance(other, Regimen):
            return NotImplemented
        return self.combine(other)

    def __radd__(self, other: object) -> Regimen:
        # sum() of regimens starts from 0
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented


def _not_utf8_text(path: Path, exc: UnicodeDecodeError) -> str:
    """Why a regimen file cannot be read as text: UTF-16 (Excel's 'Unicode Text', Notepad's
    'Unicode') or binary content is named as such, else the first byte that is not UTF-8."""
    from immunoprecise.records.readers import binary_content

    return binary_content(path) or (
        f"is not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r}); save "
        "it as UTF-8 text"
    )


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False
