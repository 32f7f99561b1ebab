"""Unit conversion: laboratory spellings, counts, and refusal of wrong kinds of unit."""

from __future__ import annotations

import pytest

from immunoprecise.errors import UnitError
from immunoprecise.records import convert
from immunoprecise.records.units import is_convertible


@pytest.mark.parametrize(
    ("value", "unit", "target", "expected"),
    [
        (3.2, "mg/dL", "mg/L", 32.0),  # CRP
        (1.2, "10^9/L", "cells/µL", 1200.0),  # lymphocytes
        (1.2, "x10^9/L", "cells/µL", 1200.0),
        (1.2, "G/L", "cells/µL", 1200.0),
        (1.2, "×10⁹/L", "cells/µL", 1200.0),
        (250, "10^3/uL", "cells/µL", 250000.0),  # platelets
        (12.5, "g/dL", "g/L", 125.0),  # hemoglobin
        (125, "g/L", "g/dL", 12.5),
        (300, "ng/mL", "µg/L", 300.0),  # ferritin
        (3.5, "g/dL", "g/L", 35.0),  # albumin
        (250, "IU/L", "U/L", 250.0),  # LDH
        (450, "cells/mm^2", "cells/mm²", 450.0),
        (450, "cells/mm2", "cells/mm²", 450.0),
        (0.45, "cells/µm²", "cells/mm²", 450000.0),
        (14, "mut/Mb", "mut/Mb", 14.0),
        (0.014, "mut/kb", "mut/Mb", 14.0),
        (50, "%", "%", 50.0),
        (2, "months", "days", 60.875),
        (1, "year", "days", 365.25),
    ],
)
def test_convert(value: float, unit: str, target: str, expected: float) -> None:
    assert convert(value, unit, target) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("unit", "target"),
    [
        ("mg", "mg/L"),
        ("cells/mm²", "cells/µL"),
        ("mut/Mb", "%"),
        ("days", "mg/L"),
        ("g/dL", "cells/µL"),
    ],
)
def test_incompatible_units_are_refused(unit: str, target: str) -> None:
    with pytest.raises(UnitError, match="cannot be converted"):
        convert(1.0, unit, target)
    assert not is_convertible(unit, target)


@pytest.mark.parametrize("unit", ["furlongs/fortnight", "mg//L", "", "  "])
def test_unknown_units_are_named(unit: str) -> None:
    with pytest.raises(UnitError, match="unit"):
        convert(1.0, unit, "mg/L")
