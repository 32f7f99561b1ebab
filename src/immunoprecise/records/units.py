"""Units of clinical measurements, through one pint registry.

Clinical laboratories write units in many ways (``10^9/L``, ``G/L``, ``x10³/µL``, ``mg/dL``,
``mut/Mb``). :func:`convert` reads such a unit text, checks that it measures the same kind of
quantity as the unit the record needs, and converts the value.

The registry adds three base dimensions to pint's defaults, so that a count of cells, of
mutations and a length of sequence can never be confused with each other or with a plain number:
``cell`` (``cells``), ``mutation`` (``mut``), ``base_pair`` (``bp``; ``megabase`` = 10⁶ bp).

Examples
--------
>>> convert(3.2, "mg/dL", "mg/L")
32.0
>>> convert(1.2, "10^9/L", "cells/µL")
1200.0
>>> convert(14, "mut/Mb", "mut/Mb")
14.0
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pint

from immunoprecise.errors import UnitError

__all__ = [
    "SIGNIFICANT_DIGITS",
    "convert",
    "convert_array",
    "is_convertible",
    "parse_unit",
    "round_significant",
    "unit_registry",
]

_DEFINITIONS = (
    "cell = [cell] = cells",
    "mutation = [mutation] = mut = mutations",
    "base_pair = [sequence] = bp",
    "megabase = 1e6 * base_pair",
)

# Spellings common in laboratory reports → pint expressions. Order matters (longest first).
# A power of ten is written many ways: 10^9 (ISO), 10*9 (UCUM, FHIR), 10E9 / x10E9 (laboratory
# information systems), 10⁹; each means 1e9, never "10 times 9" or "10 × 10⁹".
_SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"[x×]\s*10\s*\^\s*(-?\d+)", r"1e\1"),
    (r"[x×]\s*10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", r"1e\1"),
    (r"(?<![\w.*])(?:[x×]\s*)?10\s*\*\*\s*(-?\d+)", r"1e\1"),  # 10**9
    (r"(?<![\w.*])(?:[x×]\s*)?10\s*\*\s*(-?\d+)", r"1e\1"),  # UCUM 10*9
    (r"(?<![\w.])(?:[x×]\s*)?10[eE]([+-]?\d+)", r"1e\1"),  # 10E9, x10E9
    (r"\b10\s*\^\s*(-?\d+)", r"1e\1"),
    (r"\b10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", r"1e\1"),
    (r"(?<![\w.])K(?=\s*/\s*(?:µL|uL|mcL|mm3|mm³)\b)", "1e3"),  # K/µL: thousands per µL
    (r"^\s*/", "1/"),  # /µL, /mm³: a count per volume
    (r"\bG/L\b", "1e9/L"),
    (r"\bT/L\b", "1e12/L"),
    # mut/mb, mutations/MB: a megabase of sequence (pint's 'mb' is a millibarn, an area)
    (r"(\bmut(?:ation)?s?\s*/\s*)(?:mb|MB)\b", r"\1megabase"),
    (r"\bMb\b", "megabase"),
    (r"\bkb\b", "kilobase_pair"),
    (r"\bmcL\b", "µL"),
    (r"\bmcg\b", "µg"),
    (r"\b([mµukM]?)IU\b", r"\1U"),  # IU/L, mIU/mL, MIU (million IU, as MU)
    (r"\^", "**"),
    # an exponent (mm², mm³), not a digit of a power of ten rewritten above (10³ → 1e³)
    (r"(?<!1e)(?<![⁰¹²³⁴⁵⁶⁷⁸⁹])²", "**2"),
    (r"(?<!1e)(?<![⁰¹²³⁴⁵⁶⁷⁸⁹])³", "**3"),
    (r"(?<![\w.])([cdmµu]?m)([23])\b", r"\1**\2"),  # mm2, mm3, cm2, um2
    (r"\bcells?\s+per\s+", "cell/"),
)
# A number in a unit text: after the rewriting above, one is allowed only as an exponent (mm**2)
# or as a leading power of ten (1e9/L, 1e9 cells/L, 1000/µL, 1/d). Anything else
# (mg/L.1, 2 mg/L, 10 mg/L, mg/L*10) would silently scale the value, so it is refused.
_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?<=[\w.])\.?\d+")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


@functools.cache
def unit_registry() -> Any:
    """Return the unit registry shared by immunoprecise (created on first use, then reused).

    Returns
    -------
    pint.UnitRegistry
        pint's default registry plus ``cell``, ``mutation``, ``base_pair`` and ``megabase``
        (typed ``Any``: pint's registry classes are not fully typed).

    Examples
    --------
    >>> ureg = unit_registry()
    >>> str(ureg.Quantity(1, "cell/mm**2").units)
    'cell / millimeter ** 2'
    """
    ureg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for line in _DEFINITIONS:
        ureg.define(line)
    return ureg


def _pint_text(unit: str) -> str:
    text = unit.strip()
    for pattern, repl in _SPELLINGS:
        text = re.sub(pattern, repl, text)
    return text.translate(_SUPERSCRIPTS)


def _stray_number(text: str) -> str | None:
    """The first number of a pint unit text that is neither an exponent nor a leading
    power of ten (``1e9 cells/L``, ``1/d``, ``1000/µL``), or None."""
    for m in _NUMBER.finditer(text):
        before, after = text[: m.start()].rstrip(), text[m.end() :].lstrip()
        if before.endswith(("**", "**-")):
            continue  # an exponent
        if text.strip() == "1":
            continue  # UCUM's unit of a pure number (a fraction: 0.27 1 = 27 %)
        exponent_form = re.fullmatch(r"1[eE][+-]?\d+", m.group()) is not None  # 1e9
        plain = re.fullmatch(r"10*", m.group()) is not None  # 1, 10, 1000
        leading = before == "" or before.endswith(("/", "("))
        scales = after[:1].isalpha() or after[:1] in ("/", "(", "µ", "%")
        # 1e9 cells/L and 1e9/L; a plain 1000 only as 1000/µL or 1000000*bp, never "10 mg/L"
        if not (leading and ((exponent_form and scales) or (plain and after[:1] in ("/", "*")))):
            return m.group()
    return None


def _parse(unit: str) -> Any:
    if not unit or not unit.strip():
        raise UnitError("an empty unit was given; write the unit, e.g. 'mg/L'")
    text = _pint_text(unit)
    stray = _stray_number(text)
    if stray is not None:
        raise UnitError(
            f"unit {unit!r} has a number ({stray.strip()!r}) that is neither a leading power of "
            "ten (10^9/L, 10*9/L, x10E9/L, 1000/µL) nor an exponent (mm2, mm^2); write the "
            "unit alone (e.g. 'mg/L') and the number in the value"
        )
    ureg = unit_registry()
    try:
        return ureg.parse_expression(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"unknown unit {unit!r}") from exc
    except Exception as exc:  # pint's tokenizer raises several plain exceptions on bad text
        raise UnitError(f"cannot read unit {unit!r}") from exc


def parse_unit(unit: str) -> Any:
    """Read a unit in laboratory spelling into a pint quantity of magnitude 1 (or the factor).

    Raises :class:`~immunoprecise.errors.UnitError` for an unknown or unreadable unit.

    Examples
    --------
    >>> str(parse_unit("IU/d").dimensionality) == str(parse_unit("U/day").dimensionality)
    True
    """
    return _parse(unit)


def _pint_convert(value: float, unit: str, target: str) -> float:
    source_q = value * _parse(unit)
    target_q = _parse(target)
    ureg = unit_registry()
    try:
        return float(source_q.to(target_q.units).magnitude / target_q.magnitude)
    except pint.errors.DimensionalityError:
        cell = ureg.cell
        if "[cell]" in str(target_q.dimensionality) and "[cell]" not in str(
            source_q.dimensionality
        ):
            try:
                return float((source_q * cell).to(target_q.units).magnitude / target_q.magnitude)
            except pint.errors.DimensionalityError:
                pass
        raise UnitError(
            f"unit {unit!r} measures {source_q.dimensionality}, which cannot be converted to "
            f"{target!r} ({target_q.dimensionality})"
        ) from None


@functools.lru_cache(maxsize=4096)
def _affine(unit: str, target: str) -> tuple[float, float]:
    """Offset and scale of the conversion ``unit`` → ``target`` (every unit here is affine).

    Parsing unit text is the costly part of a conversion; a table repeats the same few units in
    every row, so the pair's coefficients are computed once by pint and reused
    (``benchmarks/bench_read_and_evaluate.py``).
    """
    offset = _pint_convert(0.0, unit, target)
    return offset, _pint_convert(1.0, unit, target) - offset


SIGNIFICANT_DIGITS = 12
"""Significant digits a converted value keeps: a conversion's float noise (5.2 × 10³/µL →
5200.000000000001 cells/µL) is rounded away, far below any assay's precision."""


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (non-finite values as they are).

    Examples
    --------
    >>> round_significant(5200.000000000001), round_significant(0.30000000000000004)
    (5200.0, 0.3)
    """
    return float(f"{value:.{digits}g}")


def convert(value: float, unit: str, target: str) -> float:
    """Convert ``value`` given in ``unit`` to ``target``.

    A count density written without the word "cells" (``10^9/L``, ``/mm²``) is read as cells, as
    laboratories do.

    Parameters
    ----------
    value
        The magnitude, in ``unit``.
    unit
        The unit the value was written in, in laboratory spelling (``mg/dL``, ``10^9/L``, ``%``).
    target
        The unit wanted, e.g. the canonical unit of a record field.

    Returns
    -------
    float
        The magnitude in ``target``.

    Raises
    ------
    UnitError
        If a unit is unknown or the two units measure different kinds of quantity.

    Examples
    --------
    >>> convert(450, "cells/mm^2", "cells/mm²")
    450.0
    >>> convert(2, "months", "days")
    60.875
    """
    offset, scale = _affine(unit, target)
    if (offset, scale) == (0.0, 1.0):
        return float(value)
    return round_significant(offset + scale * value)


def convert_array(
    values: npt.NDArray[np.float64], unit: str, target: str
) -> npt.NDArray[np.float64]:
    """Convert an array of magnitudes from ``unit`` to ``target`` (NaN stays NaN).

    Examples
    --------
    >>> convert_array(np.array([1.0, np.nan]), "mg/dL", "mg/L").tolist()
    [10.0, nan]
    """
    offset, scale = _affine(unit, target)
    converted = offset + scale * np.asarray(values, dtype=float)
    if (offset, scale) == (0.0, 1.0):
        return converted
    # as convert() rounds, so that a table read as columns gives the same numbers as its records
    return np.array([round_significant(v) for v in converted.tolist()], dtype=float)


def is_convertible(unit: str, target: str) -> bool:
    """Tell whether ``unit`` can be converted to ``target``.

    Examples
    --------
    >>> is_convertible("g/dL", "g/L"), is_convertible("mg", "g/L")
    (True, False)
    """
    try:
        convert(1.0, unit, target)
    except UnitError:
        return False
    return True
