"""What-if values written with their unit are converted as a record's are, an unconvertible unit
is refused naming the value as written, and a change is said in words: the score where the
status stayed."""

from __future__ import annotations

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.recommend.plan import OptionChange


def _profile() -> ip.ImmuneProfile:
    return ip.profile(ip.read_patient(ip.data.example_path("crc_msih.json")))


def test_a_value_with_another_unit_is_converted_to_the_values_unit() -> None:
    prof = _profile()
    written = ip.recommend(prof, overrides={"crp": "12 mg/dL"}).what_if
    plain = ip.recommend(prof, overrides={"crp": 120}).what_if
    assert written is not None
    assert plain is not None
    (override,) = written.overrides
    assert override.after == pytest.approx(120)
    assert written.changes == plain.changes


def test_a_percent_written_with_its_sign_is_the_number() -> None:
    written = ip.recommend(_profile(), overrides={"pdl1_tps": "35%"}).what_if
    assert written is not None
    (override,) = written.overrides
    assert override.after == pytest.approx(35)


def test_a_unit_that_does_not_convert_is_refused_as_written() -> None:
    with pytest.raises(ValidationError) as refused:
        ip.recommend(_profile(), overrides={"crp": "12 mmol/L"})
    (problem,) = refused.value.problems
    assert problem.field == "overrides.crp"
    assert problem.value == "12 mmol/L"
    assert "mg/L" in problem.message
    assert "mmol/L" in problem.message


def test_a_number_as_bare_text_is_still_refused() -> None:
    with pytest.raises(ValidationError):
        ip.recommend(_profile(), overrides={"crp": "60"})


def test_a_change_within_a_status_is_said_by_its_score() -> None:
    what_if = ip.recommend(_profile(), overrides={"msi_status": "MSS"}).what_if
    assert what_if is not None
    said = [str(c) for c in what_if.changes]
    assert "Pembrolizumab (anti-PD-1): score 7 → 4 (still indicated)" in said
    assert not any("indicated → indicated" in s for s in said)
    text = str(what_if)
    assert text.startswith("what-if: msi_status MSI-H → MSS")
    assert "not an option" in text


def test_a_change_of_status_and_score_says_both() -> None:
    change = OptionChange(
        therapy_id="x",
        name="X",
        status_before="favoured",
        status_after="indicated",
        score_before=2,
        score_after=6,
    )
    assert str(change) == "X: favoured → indicated (score 2 → 6)"
