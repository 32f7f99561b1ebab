"""Regimens: the text grammar, dose expansion, YAML form, composition and error positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from immunoprecise.dynamics.regimen import Dose, Regimen, RegimenItem, RegimenSyntaxError
from immunoprecise.errors import ValidationError

EXAMPLE = "chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12; CAR-T 1e8 cells d42"


def _starts(regimen: Regimen, agent: str) -> list[float]:
    return [d.start for d in regimen.doses() if d.agent == agent]


# -- the example and dose expansion ----------------------------------------------------------


def test_example_dose_list_is_exact() -> None:
    doses = Regimen.parse(EXAMPLE).doses()
    expected = [
        Dose("chemo", 1.0, "mg/kg", start=0.0),
        Dose("IL2", 5e6, "IU/d", start=8.0, duration=5.0),
        Dose("chemo", 1.0, "mg/kg", start=21.0),
        Dose("chemo", 1.0, "mg/kg", start=42.0),
        Dose("CAR-T", 1e8, "cells", start=42.0),
        Dose("chemo", 1.0, "mg/kg", start=63.0),
        Dose("chemo", 1.0, "mg/kg", start=84.0),
        Dose("chemo", 1.0, "mg/kg", start=105.0),
    ]
    assert list(doses) == expected
    il2 = [d for d in doses if d.agent == "IL2"]
    assert [(d.start, d.end, d.is_infusion) for d in il2] == [(8.0, 13.0, True)]
    assert not any(d.is_infusion for d in doses if d.agent != "IL2")


def test_doses_are_sorted_by_start() -> None:
    starts = [d.start for d in Regimen.parse("b 1 mg d9; a 1 mg d0,3 q5d x3; c 1 IU/d d1").doses()]
    assert starts == sorted(starts)
    assert starts == [0.0, 1.0, 3.0, 5.0, 8.0, 9.0, 10.0, 13.0]


@pytest.mark.parametrize(
    ("unit", "infusion"),
    [
        ("mg/kg", False),
        ("mg/m2", False),
        ("mg", False),
        ("IU", False),  # pint reads IU as µmol/min: still an amount, not a rate
        ("IU/kg", False),
        ("cells", False),
        ("cells/kg", False),
        ("IU/d", True),
        ("IU/kg/d", True),
        ("mg/kg/d", True),
        ("cells/d", True),
        ("ug/kg/min", True),
        ("mg/h", True),
        ("MBq", False),  # becquerels are decays per second: an amount, not a rate
        ("GBq/d", True),
        ("mmol/m2/d", True),
    ],
)
def test_infusion_or_bolus_is_decided_by_the_unit(unit: str, infusion: bool) -> None:
    item = RegimenItem.parse(f"drug 2 {unit} d3")
    assert item.is_infusion is infusion
    (dose,) = item.doses()
    assert dose.is_infusion is infusion
    assert dose.start == 3.0
    assert dose.duration == (1.0 if infusion else 0.0)
    assert dose.unit == unit


def test_day_range_bolus_gives_one_bolus_per_day() -> None:
    doses = RegimenItem.parse("chemo 30 mg/m2 d2-5").doses()
    assert [(d.start, d.duration) for d in doses] == [
        (2.0, 0.0),
        (3.0, 0.0),
        (4.0, 0.0),
        (5.0, 0.0),
    ]


def test_day_range_infusion_runs_continuously_to_the_day_after_the_last() -> None:
    (dose,) = RegimenItem.parse("IL2 5e6 IU/d d8-12").doses()
    assert (dose.start, dose.duration, dose.end) == (8.0, 5.0, 13.0)
    (one_day,) = RegimenItem.parse("IL2 5e6 IU/d d8-8").doses()
    assert (one_day.start, one_day.end) == (8.0, 9.0)


def test_day_list_for_bolus_and_infusion() -> None:
    bolus = RegimenItem.parse("pembrolizumab 200 mg d21,0,42").doses()
    assert [d.start for d in bolus] == [0.0, 21.0, 42.0]
    infusion = RegimenItem.parse("TIL 1e9 cells/d d0,7").doses()
    assert [(d.start, d.end) for d in infusion] == [(0.0, 1.0), (7.0, 8.0)]


def test_infusion_days_of_one_item_may_not_overlap() -> None:
    # each listed day of a rate is [N, N+1): d0,0.5 silently doubled the rate over [0.5, 1)
    with pytest.raises(ValidationError) as info:
        Regimen.from_yaml([{"agent": "IL2", "dose": "5e6 IU/d", "days": [0, 0.5]}])
    assert info.value.problems[0].field == "items[0].days"
    assert "overlap" in info.value.problems[0].message
    # boluses half a day apart and infusion days one day apart stay valid
    assert [d.start for d in Regimen.parse("chemo 1 mg d0,0.5").doses()] == [0.0, 0.5]
    back_to_back = Regimen.parse("IL2 5e6 IU/d d0,1").doses()
    assert [(d.start, d.end) for d in back_to_back] == [(0.0, 1.0), (1.0, 2.0)]


def test_infusion_block_repeats_each_cycle() -> None:
    doses = RegimenItem.parse("IL2 5e6 IU/d d8-12 q21d x2").doses()
    assert [(d.start, d.end) for d in doses] == [(8.0, 13.0), (29.0, 34.0)]


def test_bolus_range_repeats_each_cycle() -> None:
    doses = RegimenItem.parse("chemo 1 mg/kg d1-3 q2w x2").doses()
    assert [d.start for d in doses] == [1.0, 2.0, 3.0, 15.0, 16.0, 17.0]


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("chemo 1 mg/kg q21d x3", [0.0, 21.0, 42.0]),
        ("chemo 1 mg/kg q3w x3", [0.0, 21.0, 42.0]),
        ("chemo 1 mg/kg x3 q3w", [0.0, 21.0, 42.0]),  # any order
        ("chemo 1 mg/kg d7 q1w x3", [7.0, 14.0, 21.0]),
        ("chemo 1 mg/kg Q2W X2 D1", [1.0, 15.0]),
        ("chemo 1 mg/kg qw x2", [0.0, 7.0]),
        ("chemo 1 mg/kg qd x3", [0.0, 1.0, 2.0]),
        ("chemo 1 mg/kg q0.5d x3", [0.0, 0.5, 1.0]),
        ("chemo 1 mg/kg d0,2 q7d x2", [0.0, 2.0, 7.0, 9.0]),
        ("chemo 1 mg/kg", [0.0]),
    ],
)
def test_repeats_in_days_and_weeks(text: str, starts: list[float]) -> None:
    assert [d.start for d in RegimenItem.parse(text).doses()] == starts


def test_decimals_and_scientific_notation() -> None:
    r = Regimen.parse("a 0.5 mg d0.5; b 5e6 cells d1; c 1.2E+9 cells d2; d .25 mg d3; e 2.5e-3 mg")
    amounts = {d.agent: (d.amount, d.start) for d in r.doses()}
    assert amounts == {
        "a": (0.5, 0.5),
        "b": (5e6, 1.0),
        "c": (1.2e9, 2.0),
        "d": (0.25, 3.0),
        "e": (2.5e-3, 0.0),
    }


def test_agents_keep_case_and_hyphens() -> None:
    r = Regimen.parse("IL-2 1 IU/d; anti-PD-1 200 mg; CAR-T 1e8 cells; TIL 1e9 cells; il2 1 mg")
    assert r.agents == ("IL-2", "anti-PD-1", "CAR-T", "TIL", "il2")
    assert Regimen.parse("chemo 1 mg; IL2 1 mg; chemo 2 mg d3").agents == ("chemo", "IL2")


def test_newlines_comments_and_spacing() -> None:
    text = "# induction\nchemo  1 mg/kg   q21d x2   # two cycles\n\n  IL2 5e6 IU/d d8-12 ;\n"
    assert Regimen.parse(text) == Regimen.parse("chemo 1 mg/kg q21d x2; IL2 5e6 IU/d d8-12")
    (first, _) = Regimen.parse(text).items
    assert first.source == "chemo  1 mg/kg   q21d x2"


def test_empty_regimen_is_a_no_treatment_control() -> None:
    for text in ("", "   ", ";", "\n# nothing\n"):
        r = Regimen.parse(text)
        assert r == Regimen()
        assert r.doses() == ()
        assert r.agents == ()
        assert r.end_day == 0.0
        assert r.breakpoints(100) == ()
        assert str(r) == ""
    assert Regimen.from_yaml("[]") == Regimen()
    assert Regimen.from_yaml("") == Regimen()
    assert Regimen.from_yaml({"name": "control", "items": []}).name == "control"


def test_dose_amount_conversion() -> None:
    dose = Dose("IL2", 2.4e6, "IU/d", start=0.0, duration=1.0)
    assert dose.amount_in("IU/h") == pytest.approx(1e5)
    assert Dose("chemo", 1.0, "mg/m2", start=0.0).amount_in("mg/m^2") == pytest.approx(1.0)


def test_dose_rejects_invalid_values() -> None:
    with pytest.raises(ValidationError, match="amount"):
        Dose("chemo", 0.0, "mg", start=0.0)
    with pytest.raises(ValidationError, match="duration"):
        Dose("chemo", 1.0, "mg", start=0.0, duration=-1.0)


# -- round trips -----------------------------------------------------------------------------

ROUND_TRIP = [
    EXAMPLE,
    "",
    "chemo 1 mg/kg d0",
    "IL2 5e6 IU/d d8-12 q21d x2",
    "chemo 30 mg/m2 d2-5; fludarabine 25 mg/m2 d2-4",
    "pembrolizumab 200 mg d21,0,42 q9w x2",
    "a 0.5 mg d0.5; b 1.2E+9 cells/d d0,3 q7d x2; c 2.5e-3 mg qw x3; d 123456.7 IU d3",
    "anti-PD-1 3 mg/kg d1 q2w x10; TIL 1e10 cells d0; IL-2 6e5 IU/kg/d d0-4",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_text_round_trip(text: str) -> None:
    regimen = Regimen.parse(text)
    canonical = str(regimen)
    assert Regimen.parse(canonical) == regimen
    assert Regimen.parse(canonical).doses() == regimen.doses()
    assert str(Regimen.parse(canonical)) == canonical  # canonical text is a fixed point
    assert regimen.to_text() == canonical


def test_canonical_text() -> None:
    assert str(Regimen.parse(EXAMPLE)) == (
        "chemo 1 mg/kg d0 q21d x6; IL2 5e6 IU/d d8-12; CAR-T 1e8 cells d42"
    )
    assert str(Regimen.parse("x 1.0 mg x2 q3w d7,0")) == "x 1 mg d0,7 q21d x2"


def test_round_trip_after_float_noise() -> None:
    r = Regimen.parse("a 1 mg d0.1").shifted(0.2)
    assert r.doses()[0].start == 0.3
    assert Regimen.parse(str(r)) == r


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_yaml_round_trip(text: str) -> None:
    regimen = Regimen.parse(text, name="trial arm A")
    again = Regimen.from_yaml(regimen.to_yaml())
    assert again == regimen
    assert again.name == "trial arm A"
    assert again.doses() == regimen.doses()
    assert Regimen.from_yaml(regimen.to_dict()) == regimen


def test_yaml_with_mappings_and_text_items(tmp_path: Path) -> None:
    source = """
name: lymphodepletion, CAR-T and IL-2
items:
  - {agent: chemo, dose: 1 mg/kg, every_days: 21, cycles: 6}
  - agent: IL2
    dose: 5e6 IU/d
    days: "8-12"
  - CAR-T 1e8 cells d42
"""
    expected = Regimen.parse(EXAMPLE)
    from_text = Regimen.from_yaml(source)
    assert from_text == expected
    assert from_text.name == "lymphodepletion, CAR-T and IL-2"
    path = tmp_path / "regimen.yaml"
    path.write_text(source, encoding="utf-8")
    assert Regimen.from_yaml(path) == expected
    assert Regimen.from_yaml(str(path)) == expected
    assert Regimen.from_yaml(yaml.safe_load(source)) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (42, "a 1 mg d42"),
        (4.5, "a 1 mg d4.5"),
        ([0, 7], "a 1 mg d0,7"),
        ("8-12", "a 1 mg d8-12"),
        ("d8-12", "a 1 mg d8-12"),
        ("0,7,14", "a 1 mg d0,7,14"),
        ("3", "a 1 mg d3"),
    ],
)
def test_yaml_day_forms(days: object, expected: str) -> None:
    regimen = Regimen.from_yaml([{"agent": "a", "dose": "1 mg", "days": days}])
    assert regimen == Regimen.parse(expected)


def test_yaml_every_weeks_and_text_items_list() -> None:
    r = Regimen.from_yaml(
        {"items": [{"agent": "a", "dose": "1  mg / kg", "every_weeks": 3, "cycles": 2}]}
    )
    assert r == Regimen.parse("a 1 mg/kg q21d x2")
    assert Regimen.from_yaml({"items": EXAMPLE}) == Regimen.parse(EXAMPLE)
    assert Regimen.from_yaml(
        ["chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12", "CAR-T 1e8 cells d42"]
    ) == (Regimen.parse(EXAMPLE))


def test_yaml_errors_name_every_bad_field() -> None:
    source = [
        {"agent": "a", "dose": "1 mgx", "days": -1},
        {"agent": "b", "dose": "1 mg", "cycles": 3, "foo": 1},
        "c 1 mg z3",
        5,
        {"agent": "d", "dose": "1 mg", "every_days": 0, "cycles": 2},
        {"agent": "e", "dose": "1 mg", "days": "0-30", "every_days": 21, "cycles": 2},
        {"dose": 5},
        {"agent": "f", "dose": "1 mg", "every_days": 21},
    ]
    with pytest.raises(ValidationError) as info:
        Regimen.from_yaml(source)
    fields = [p.field for p in info.value.problems]
    assert fields == [
        "items[0].dose",
        "items[0].days",
        "items[1].foo",
        "items[1].every_days",
        "items[2]",
        "items[3]",
        "items[4].every_days",
        "items[5].every_days",
        "items[6].agent",
        "items[6].dose",
        "items[7].cycles",
    ]
    message = str(info.value)
    assert "unknown unit 'mgx'" in message
    assert "unknown schedule token 'z3'" in message
    assert "do not fit in one cycle" in message


def test_yaml_top_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"name = 3: must be text"):
        Regimen.from_yaml({"name": 3, "items": []})
    with pytest.raises(ValidationError, match="items: is required"):
        Regimen.from_yaml({"name": "x"})
    with pytest.raises(ValidationError, match="is not valid YAML"):
        Regimen.from_yaml("items: [a, b")
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ValidationError, match="cannot be read") as info:
        Regimen.from_yaml(missing)
    assert info.value.source == str(missing)


# -- composition -----------------------------------------------------------------------------


def test_then_starts_other_after_the_last_dose_ends() -> None:
    il2 = Regimen.parse("IL2 5e6 IU/d d0-4", name="IL2")
    cart = Regimen.parse("CAR-T 1e8 cells d0; pembrolizumab 200 mg d1", name="CAR-T")
    seq = il2.then(cart)
    assert seq == Regimen.parse("IL2 5e6 IU/d d0-4; CAR-T 1e8 cells d5; pembrolizumab 200 mg d6")
    assert seq.name == "IL2, then CAR-T"
    gapped = il2.then(cart, gap_days=2.5)
    assert _starts(gapped, "CAR-T") == [7.5]
    assert _starts(gapped, "pembrolizumab") == [8.5]
    # after boluses, "end" is the last bolus
    chemo = Regimen.parse("chemo 1 mg/kg q21d x6")
    assert _starts(chemo.then(cart), "CAR-T") == [105.0]
    # an empty regimen ends at day 0
    assert Regimen().then(cart, gap_days=3) == cart.shifted(3)


def test_combine_keeps_the_same_clock() -> None:
    a = Regimen.parse("chemo 1 mg/kg q21d x2", name="chemo")
    b = Regimen.parse("anti-PD-1 200 mg d0 q3w x2", name="ICI")
    both = a.combine(b)
    assert both == a + b
    assert both == Regimen.parse("chemo 1 mg/kg q21d x2; anti-PD-1 200 mg q21d x2")
    assert both.name == "chemo + ICI"
    assert sorted(both.doses(), key=lambda d: (d.start, d.agent)) == sorted(
        a.doses() + b.doses(), key=lambda d: (d.start, d.agent)
    )
    assert sum([a, b]) == both
    assert a + Regimen() == a


def test_shifted_moves_every_dose() -> None:
    r = Regimen.parse(EXAMPLE, name="x")
    moved = r.shifted(7)
    assert [d.start for d in moved.doses()] == [d.start + 7 for d in r.doses()]
    assert moved.name == "x"
    assert moved.shifted(-7) == r
    with pytest.raises(ValidationError, match="days"):
        r.shifted(-1)


def test_equality_is_by_value() -> None:
    assert Regimen.parse(EXAMPLE) == Regimen.parse(EXAMPLE.replace(";", "\n"))
    assert Regimen.parse(EXAMPLE, name="a") == Regimen.parse(EXAMPLE, name="b")
    assert Regimen.parse("a 1 mg d0") != Regimen.parse("a 2 mg d0")
    assert hash(Regimen.parse(EXAMPLE)) == hash(Regimen.parse(str(Regimen.parse(EXAMPLE))))
    item = RegimenItem("chemo", 1, "mg/kg", every_days=21, cycles=6)
    assert Regimen((item,)) == Regimen.parse("chemo 1 mg/kg q21d x6")
    with pytest.raises(AttributeError):
        item.amount = 2.0  # type: ignore[misc]


def test_end_day_and_breakpoints() -> None:
    r = Regimen.parse(EXAMPLE)
    assert r.end_day == 105.0
    assert r.breakpoints(200) == (0.0, 8.0, 13.0, 21.0, 42.0, 63.0, 84.0, 105.0)
    assert r.breakpoints(42) == (0.0, 8.0, 13.0, 21.0, 42.0)
    assert r.breakpoints(10) == (0.0, 8.0)
    infusion = Regimen.parse("IL2 5e6 IU/d d8-12 q21d x2; TIL 1e9 cells d13")
    assert infusion.end_day == 34.0
    assert infusion.breakpoints(100) == (8.0, 13.0, 29.0, 34.0)


def test_regimen_item_validation() -> None:
    with pytest.raises(ValidationError, match="unknown unit"):
        RegimenItem("a", 1.0, "mgg")
    with pytest.raises(ValidationError, match="x3 needs a repeat interval"):
        RegimenItem("a", 1.0, "mg", cycles=3)
    with pytest.raises(ValidationError, match="ends before it starts"):
        RegimenItem("a", 1.0, "mg", days=(5.0,), range_end=3.0)
    with pytest.raises(ValidationError, match="agent"):
        RegimenItem("two words", 1.0, "mg")
    with pytest.raises(ValidationError, match="amount = '1': must be a number"):
        RegimenItem("a", "1", "mg")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="days = 'x': must be a number"):
        RegimenItem("a", 1.0, "mg", days=("x",))  # type: ignore[arg-type]


# -- errors, with positions ------------------------------------------------------------------


def _caret_column(err: RegimenSyntaxError) -> tuple[str, int, int]:
    """The shown line, the 0-based column of the caret in it, and the caret's width."""
    lines = err.problems[0].message.splitlines()
    shown, caret = lines[-2], lines[-1]
    shown, caret = shown[6:], caret[6:]  # both lines are indented by six spaces
    return shown, caret.index("^"), caret.count("^")


@pytest.mark.parametrize(
    ("text", "token", "item", "reason"),
    [
        (
            "chemo 1 mg/kg q21d x6; IL2 5e6 mgg/kg d8-12",
            "mgg/kg",
            2,
            "unknown unit 'mgg/kg'",
        ),
        ("IL2 IU/d d8", "IU/d", 1, "expected an amount (a number) after the agent 'IL2'"),
        ("IL2 5e6IU/d d8", "5e6IU/d", 1, "put a space between the amount and the unit"),
        ("chemo 1 mg/kg z3", "z3", 1, "unknown schedule token 'z3'"),
        ("chemo 1 mg/kg d12-8", "d12-8", 1, "day range d12-8 ends before it starts"),
        ("a 1 mg d0; chemo 1 mg/kg x6", "x6", 2, "x6 needs a repeat interval such as q21d"),
        ("chemo 1 mg/kg q21d", "q21d", 1, "q21d needs a number of cycles such as x6"),
        ("chemo 1 mg/kg d0 d7", "d7", 1, "duplicate schedule token 'd7'"),
        ("chemo 1 mg/kg q21d q14d x2", "q14d", 1, "duplicate schedule token 'q14d'"),
        ("chemo 1 mg/kg q21d x2 x3", "x3", 1, "duplicate schedule token 'x3'"),
        ("chemo 0 mg", "0", 1, "the amount must be a positive number"),
        ("chemo -1 mg", "-1", 1, "the amount must be positive"),
        ("5 mg/kg d0", "5", 1, "expected an agent name before the amount '5'"),
        ("chemo 1 mg/kg d0-25 q21d x2", "d0-25", 1, "do not fit in one cycle of q21d"),
        ("chemo 1 mg/kg d0.5-2", "d0.5-2", 1, "must span a whole number of days"),
        ("a 1 mg d0,0", "d0,0", 1, "day 0 is listed twice"),
        ("a 1 mg d-3", "d-3", 1, "days cannot be negative"),
        ("a 1 mg q0d x2", "q0d", 1, "must be longer than 0 days"),
        ("a 1 mg q21 x2", "q21", 1, "write qNd or qNw"),
        ("a 1 mg q21d x1.5", "x1.5", 1, "whole number"),
        ("a 1 mg q21d x0", "x0", 1, "must be at least 1"),
        ("a 1 mg/d^2", "mg/d^2", 1, "neither an amount"),
        ("a 1 d", "d", 1, "neither an amount"),
        ("IL2 5e6 IU/d d0,0.5", "d0,0.5", 1, "infusion days 0 and 0.5 overlap"),
        ("IL2 5e6 IU/d d7,1.5,1 q21d x2", "d7,1.5,1", 1, "infusion days 1 and 1.5 overlap"),
    ],
)
def test_syntax_errors_point_at_the_token(text: str, token: str, item: int, reason: str) -> None:
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(text)
    err = info.value
    position = text.rindex(token) if token in ("x3", "d7") else text.index(token)
    assert err.position == position
    assert err.column == position + 1
    assert err.item == item
    assert reason in err.reason
    message = str(err)
    assert f"item {item}, column {position + 1}: " in message
    assert reason in message
    shown, caret, width = _caret_column(err)
    assert shown == text
    assert shown[caret : caret + width] == token
    assert isinstance(err, ValidationError)
    assert err.problems[0].field == "regimen"
    assert err.problems[0].value == text


def test_bad_unit_column() -> None:
    text = "chemo 1 mg/kg q21d x6; IL2 5e6 mgg/kg d8-12"
    with pytest.raises(RegimenSyntaxError, match=r"item 2, column 32: unknown unit 'mgg/kg'"):
        Regimen.parse(text)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("IL2", 3, "expected an amount (a number) after the agent 'IL2'"),
        ("chemo 1 mg; IL2  ", 15, "expected an amount (a number) after the agent 'IL2'"),
        ("chemo 1", 7, "expected a unit after the amount '1'"),
    ],
)
def test_missing_token_points_after_the_last_one(text: str, position: int, reason: str) -> None:
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(text)
    assert info.value.position == position
    assert reason in info.value.reason
    _, caret, _ = _caret_column(info.value)
    assert caret == position - (text.rfind("\n", 0, position) + 1)


def test_multiline_error_shows_the_line() -> None:
    text = "chemo 1 mg/kg q21d x6\nIL2 5e6 IU/d d8-\nCAR-T 1e8 cells d42"
    with pytest.raises(RegimenSyntaxError) as info:
        Regimen.parse(text)
    err = info.value
    assert (err.item, err.line, err.position) == (2, 2, text.index("d8-"))
    assert f"item 2, column {err.position + 1} (line 2)" in str(err)
    shown, caret, width = _caret_column(err)
    assert shown == "IL2 5e6 IU/d d8-"
    assert shown[caret : caret + width] == "d8-"


def test_item_parse_wants_exactly_one_item() -> None:
    with pytest.raises(RegimenSyntaxError, match="expected exactly one item") as info:
        RegimenItem.parse("a 1 mg; b 1 mg")
    assert info.value.item == 2
    assert info.value.position == 8


def test_parse_refuses_non_text() -> None:
    with pytest.raises(ValidationError, match="expected the regimen as text"):
        Regimen.parse(3)  # type: ignore[arg-type]


def test_a_long_list_of_late_doses_is_shortened_per_agent() -> None:
    # a weekly 5-year maintenance simulated for 120 days: 243 late doses, not 243 days listed
    regimen = Regimen.parse("anti-PD-1 480 mg q7d x261; IL2 1e6 IU/d d1-5 q21d x10")
    text = regimen.late_doses_text(120)
    assert text is not None
    assert text.startswith("247 doses start after day 120")
    assert "anti-PD-1 on days 126, 133, 140, …, 1820" in text
    assert "IL2 on days 127, 148, 169, 190)" in text  # four days: all listed
    assert len(text) < 200
    four = Regimen.parse("CAR-T 1e6 cells q21d x6").late_doses_text(30)
    assert four is not None
    assert "CAR-T on days 42, 63, 84, 105)" in four
