"""Unit conversion: laboratory spellings, counts, and refusal of wrong kinds of unit."""

from __future__ import annotations

import pytest

from immunoprecise.errors import UnitError, ValidationError
from immunoprecise.records import PatientRecord, convert
from immunoprecise.records.units import is_convertible
from immunoprecise.records.validation import validate_model


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
        (2.5, "mIU/mL", "U/L", 2.5),
        (450, "cells/mm^2", "cells/mm²", 450.0),
        (450, "cells/mm2", "cells/mm²", 450.0),
        (0.45, "cells/µm²", "cells/mm²", 450000.0),
        (14, "mut/Mb", "mut/Mb", 14.0),
        (0.014, "mut/kb", "mut/Mb", 14.0),
        (50, "%", "%", 50.0),
        (2, "months", "days", 60.875),
        (1, "year", "days", 365.25),
        # a power of ten as laboratory systems and FHIR write it: 10^9, never 10 × 9 or 10 × 10^9
        (1.2, "10*9/L", "cells/µL", 1200.0),  # UCUM
        (250, "10*3/uL", "cells/µL", 250000.0),
        (1.2, "10E9/L", "cells/µL", 1200.0),
        (1.2, "x10E9/L", "cells/µL", 1200.0),
        (1.2, "10**9/L", "cells/µL", 1200.0),
        (1.2, "1e9 cells/L", "cells/µL", 1200.0),
        (250, "K/uL", "cells/µL", 250000.0),
        (800, "/µL", "cells/µL", 800.0),
        (800, "/mm³", "cells/µL", 800.0),
        (800, "cells/mm3", "cells/µL", 800.0),
        (1.2, "1000/µL", "cells/µL", 1200.0),
        (4.5, "cells/cm2", "cells/mm²", 0.045),
        (1, "10^-3 g/L", "mg/L", 1.0),
        (0.27, "1", "%", 27.0),  # UCUM's unit of a pure number
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


@pytest.mark.parametrize(
    ("unit", "number"),
    [
        ("mg/L.1", ".1"),  # a spreadsheet's repeated column "crp_mg_per_L.1" would read as × 0.1
        ("mg/L 2", "2"),
        ("2 mg/L", "2"),
        ("10 mg/L", "10"),
        ("0.5mg/L", "0.5"),
        ("mg/L*10", "10"),
        ("mg/L/10", "10"),
        ("mg/L1", "1"),
    ],
)
def test_a_number_that_would_scale_the_value_is_refused(unit: str, number: str) -> None:
    with pytest.raises(UnitError) as info:
        convert(4.0, unit, "mg/L")
    assert f"unit {unit!r} has a number ({number!r})" in str(info.value)
    assert "write the unit alone" in str(info.value)
    assert not is_convertible(unit, "mg/L")


@pytest.mark.parametrize("text", ["1.2 10*9/L", "1.2x10E9/L", "1.2 10E9/L", "1.2 K/uL", "1200/uL"])
def test_a_record_reads_a_power_of_ten_as_the_laboratory_meant(text: str) -> None:
    record = PatientRecord.model_validate(
        {
            "patient": {"id": "P1"},
            "disease": {"diagnosis": "FL"},
            "host": {"blood": {"lymphocytes": text}},
        }
    )
    lymphocytes = record.host.blood.lymphocytes
    assert lymphocytes is not None
    assert lymphocytes.to("cells/µL") == pytest.approx(1200.0)


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("12,5 mg/L", "write the number with a decimal point: '12.5 mg/L'"),
        ("1 200 mg/L", "write the number without thousands separators: '1200 mg/L'"),
        ("1,200 mg/L", "'1,200' could be 1200 or 1.200: write the number with a decimal point"),
        ("1,200,000 mg/L", "write the number without thousands separators: '1200000 mg/L'"),
        ("<5 mg/L", "'<5 mg/L' is a detection limit, not a measured value"),
        ("≥ 300 mg/L", "'≥ 300 mg/L' is a detection limit"),
    ],
)
def test_a_number_a_plain_reading_would_get_wrong_is_refused_with_advice(
    text: str, advice: str
) -> None:
    # "1 200 mg/L" was read as 1 × "200 mg/L" = 200 mg/L
    with pytest.raises(ValidationError) as info:
        validate_model(
            PatientRecord,
            {"patient": {"id": "P1"}, "disease": {"diagnosis": "FL"}, "host": {"crp": text}},
        )
    assert "host.crp" in str(info.value)
    assert advice in str(info.value)


@pytest.mark.parametrize("unit", ["10³/µL", "x10³/µL", "×10³/µL", "10³/μL", "10²/µL"])
def test_a_power_of_ten_in_superscript_two_or_three_is_read(unit: str) -> None:
    # ² and ³ are also exponents (mm², mm³); in 10³ they are the power of ten
    expected = 25000.0 if "²" in unit else 250000.0
    assert convert(250, unit, "cells/µL") == pytest.approx(expected)
    assert convert(1, "cells/mm³", "cells/µL") == 1
