"""Doses as written (mg/kg, IU, cells) → amounts in a model's state units.

A dose converts directly when its unit measures what the model's input measures. Otherwise two
documented steps may bridge the gap: a per-body-weight dose (``mg/kg``, ``cells/kg``) is multiplied
by the body weight, a per-body-surface dose (``mg/m2``, ``cells/m2``) by the body surface area, and
an amount (``mg``, ``IU``) given to a concentration state (``mg/L``) is
divided by the input's distribution volume.

Examples
--------
>>> to_model_units(2.0, "mg/kg", "mg/L", infusion=False, volume_liters=5.0, body_weight_kg=70.0)
28.0
>>> to_model_units(5e6, "IU/d", "IU/L", infusion=True, volume_liters=5.0, body_weight_kg=70.0)
1000000.0
>>> to_model_units(375, "mg/m2", "mg", infusion=False, volume_liters=None, body_weight_kg=70.0)
675.0
"""

from __future__ import annotations

from typing import Any

import pint

from immunoprecise.errors import UnitError
from immunoprecise.records.units import parse_unit, unit_registry

__all__ = [
    "MAX_BODY_SURFACE_M2",
    "MAX_BODY_WEIGHT_KG",
    "MIN_BODY_SURFACE_M2",
    "MIN_BODY_WEIGHT_KG",
    "REFERENCE_BODY_SURFACE_M2",
    "REFERENCE_BODY_WEIGHT_KG",
    "body_size_used",
    "body_surface_problem",
    "body_weight_problem",
    "to_model_units",
]

REFERENCE_BODY_WEIGHT_KG = 70.0
"""Body weight used for per-kg doses when none is given: ICRP reference adult male.

ICRP. Report of the Task Group on Reference Man. ICRP Publication 23. Pergamon 1975 (70 kg).
"""

REFERENCE_BODY_SURFACE_M2 = 1.8
"""Body surface area used for per-m² doses when none is given: the same ICRP reference adult male.

ICRP. Report of the Task Group on Reference Man. ICRP Publication 23. Pergamon 1975 (total body
surface 18,000 cm²; the Mosteller formula for 70 kg and 170 cm gives 1.82 m²).
"""


MIN_BODY_WEIGHT_KG = 0.2
"""Lightest body weight taken for per-kg doses (kg): about the smallest surviving newborns.

The Tiniest Babies Registry (University of Iowa Stead Family Children's Hospital) lists
surviving infants from about 0.21 kg birth weight (Kwek Yu Xuan, 212 g, Singapore 2020).
"""

MAX_BODY_WEIGHT_KG = 650.0
"""Heaviest body weight taken for per-kg doses (kg): above the heaviest person recorded.

Guinness World Records: Jon Brower Minnoch, about 635 kg (1,400 lb) in 1978.
"""


def body_weight_problem(body_weight_kg: float) -> str | None:
    """What is wrong with a body weight given in kilograms (``None``: it is a human's).

    A weight outside :data:`MIN_BODY_WEIGHT_KG` to :data:`MAX_BODY_WEIGHT_KG` (0.2 to 650 kg,
    the lightest surviving newborns to the heaviest person recorded) is not a human's in kg; a
    number 1,000 times a plausible one is most likely grams.

    Parameters
    ----------
    body_weight_kg
        The body weight as given, read as kilograms (a finite number > 0).

    Returns
    -------
    str or None
        The problem, naming the value, the unit and the likely mistake; ``None`` within range.

    Examples
    --------
    >>> body_weight_problem(70.0) is None
    True
    >>> print(body_weight_problem(70000.0))
    70000 kg is not a human body weight (0.2 to 650 kg): 70000 looks like grams; give the weight in kg (70)
    """  # noqa: E501
    return _body_size_problem(
        body_weight_kg,
        (MIN_BODY_WEIGHT_KG, MAX_BODY_WEIGHT_KG),
        unit="kg",
        what="body weight",
        noun="weight",
        smaller=("grams", 1000.0),
    )


def _body_size_problem(
    value: float,
    limits: tuple[float, float],
    *,
    unit: str,
    what: str,
    noun: str,
    smaller: tuple[str, float],
) -> str | None:
    """What is wrong with a body size outside ``limits``, naming the likely smaller unit (a
    value ``smaller[1]`` times a plausible one is most likely in ``smaller[0]``)."""
    low, high = limits
    if low <= value <= high:
        return None
    problem = f"{value:g} {unit} is not a human {what} ({low:g} to {high:g} {unit})"
    name, factor = smaller
    if low <= value / factor <= high:
        return (
            f"{problem}: {value:g} looks like {name}; give the {noun} in {unit} "
            f"({value / factor:g})"
        )
    return f"{problem}; give the {noun} in {unit}"


MIN_BODY_SURFACE_M2 = 0.03
"""Smallest body surface area taken for per-m² doses (m²): below the smallest surviving newborns.

Mosteller's formula, BSA (m²) = √(height (cm) × weight (kg) / 3600) (Mosteller RD. Simplified
calculation of body-surface area. N Engl J Med 1987;317(17):1098. doi:10.1056/NEJM198710223171717),
gives 0.038 m² for the lightest surviving newborn of :data:`MIN_BODY_WEIGHT_KG` (Kwek Yu Xuan,
212 g and 24 cm at birth, Singapore 2020; The Tiniest Babies Registry, University of Iowa).
"""

MAX_BODY_SURFACE_M2 = 6.0
"""Largest body surface area taken for per-m² doses (m²): above the largest person recorded.

Mosteller's formula (Mosteller RD. N Engl J Med 1987;317(17):1098.
doi:10.1056/NEJM198710223171717) gives 5.7 m² for the heaviest person recorded (Jon Brower
Minnoch, about 635 kg and 185 cm; Guinness World Records) and 3.9 m² for the tallest (Robert
Wadlow, 272 cm and 199 kg; Guinness World Records).
"""

_CM2_PER_M2 = 10_000.0


def body_surface_problem(body_surface_m2: float) -> str | None:
    """What is wrong with a body surface area given in m² (``None``: it is a human's).

    An area outside :data:`MIN_BODY_SURFACE_M2` to :data:`MAX_BODY_SURFACE_M2` (0.03 to 6 m²,
    the smallest surviving newborns to the largest person recorded) is not a human's in m²; a
    number 10,000 times a plausible one is most likely cm².

    Parameters
    ----------
    body_surface_m2
        The body surface area as given, read as m² (a finite number > 0).

    Returns
    -------
    str or None
        The problem, naming the value, the unit and the likely mistake; ``None`` within range.

    Examples
    --------
    >>> body_surface_problem(1.8) is None
    True
    >>> print(body_surface_problem(18000.0))
    18000 m² is not a human body surface area (0.03 to 6 m²): 18000 looks like cm²; give the area in m² (1.8)
    """  # noqa: E501
    return _body_size_problem(
        body_surface_m2,
        (MIN_BODY_SURFACE_M2, MAX_BODY_SURFACE_M2),
        unit="m²",
        what="body surface area",
        noun="area",
        smaller=("cm²", _CM2_PER_M2),
    )


def _quantity(value: float, unit: str) -> Any:
    return value * parse_unit(unit)


def to_model_units(
    amount: float,
    unit: str,
    target: str,
    *,
    infusion: bool,
    volume_liters: float | None,
    body_weight_kg: float,
    body_surface_m2: float = REFERENCE_BODY_SURFACE_M2,
) -> float:
    """Convert one dose (a bolus amount, or an infusion rate per day) to the model's unit.

    Parameters
    ----------
    amount, unit
        The dose as written (e.g. 1, ``mg/kg``; 5e6, ``IU/d``).
    target
        The model input's unit for a bolus (``mg/L``, ``cells``); a rate is per day of it.
    infusion
        Whether the dose is a rate.
    volume_liters
        Distribution volume (L) for amount → concentration, if the input has one.
    body_weight_kg
        Body weight (kg) for per-kg doses.
    body_surface_m2
        Body surface area (m²) for per-m² doses.

    Returns
    -------
    float
        Magnitude in ``target`` (per day for an infusion).

    Raises
    ------
    UnitError
        When no documented step makes the units compatible; the message names both units.
    """
    ureg = unit_registry()
    q = _quantity(amount, unit)
    want = _quantity(1.0, f"({target})/d" if infusion else target)
    tried = [q]
    mass = ureg.kilogram.dimensionality
    per_weight = any(
        exp < 0 and ureg.Quantity(1, name).dimensionality == mass for name, exp in q.unit_items()
    )
    if per_weight:
        q = q * body_weight_kg * ureg.kilogram
        tried.append(q)
    area = ureg.meter.dimensionality**2
    per_area = any(
        exp < 0 and ureg.Quantity(1, name).dimensionality ** (-exp) == area
        for name, exp in q.unit_items()
    )
    if per_area:
        q = q * body_surface_m2 * ureg.meter**2
        tried.append(q)
    if volume_liters is not None and "[length]" in str(want.dimensionality):
        tried += [t / (volume_liters * ureg.liter) for t in list(tried)]
    for cand in tried:
        try:
            return float(cand.to(want.units).magnitude / want.magnitude)
        except pint.errors.DimensionalityError:
            continue
    raise UnitError(
        f"a dose in {unit!r} cannot be given where {target!r}"
        f"{' per day' if infusion else ''} is needed"
    )


def body_size_used(
    unit: str, target: str, *, infusion: bool, volume_liters: float | None
) -> frozenset[str]:
    """Which body sizes a dose in ``unit`` depends on when given to an input in ``target``.

    Parameters
    ----------
    unit
        The dose's unit as written (``mg/kg``, ``mg/m2``, ``IU/d``).
    target, infusion, volume_liters
        The model input, as for :func:`to_model_units`.

    Returns
    -------
    frozenset of str
        ``"body_weight_kg"`` when the amount in the model's unit scales with the body weight,
        ``"body_surface_m2"`` when it scales with the body surface area; empty for a flat dose
        (or a per-kg dose given to an input that is itself per kg).

    Raises
    ------
    UnitError
        When the units cannot be made compatible (as :func:`to_model_units`).

    Examples
    --------
    >>> sorted(body_size_used("mg/m2", "mg", infusion=False, volume_liters=None))
    ['body_surface_m2']
    >>> sorted(body_size_used("mg", "mg", infusion=False, volume_liters=None))
    []
    """
    common: dict[str, Any] = {"infusion": infusion, "volume_liters": volume_liters}
    base = to_model_units(1.0, unit, target, body_weight_kg=1.0, body_surface_m2=1.0, **common)
    used = set()
    if to_model_units(1.0, unit, target, body_weight_kg=2.0, body_surface_m2=1.0, **common) != base:
        used.add("body_weight_kg")
    if to_model_units(1.0, unit, target, body_weight_kg=1.0, body_surface_m2=2.0, **common) != base:
        used.add("body_surface_m2")
    return frozenset(used)
