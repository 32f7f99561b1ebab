"""Safety in the profile, the strategy engine and the HTML report."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.records import PatientRecord
from immunoprecise.report.html import render_html


def _ball() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        ip.data.example_path("ball_cd19.json").read_text(encoding="utf-8")
    )
    return data


def _record(data: dict[str, Any]) -> PatientRecord:
    return PatientRecord.model_validate(data)


def test_example_profile_has_the_safety_values() -> None:
    p = ip.profile(_record(_ball()))
    hematotox = p.values["safety.car_hematotox"]
    assert (hematotox.value, hematotox.category, hematotox.unit) == (5, "high risk", "points")
    assert hematotox.references[0].doi == "10.1182/blood.2020010543"
    assert "host.ferritin" in hematotox.inputs
    assert p.values["safety.car_hematotox_risk"].value == "high"
    crs = p.values["safety.crs_max_grade"]
    assert (crs.value, crs.category) == (2, "grade 2 (day 2)")
    assert crs.references[0].id == "lee2019"
    assert p.values["safety.icans_max_grade"].value == 1
    assert p.values["safety.crs_risk.hay2017_tree"].value is False


def test_profile_names_missing_labs_and_undecided_days() -> None:
    data = _ball()
    del data["host"]["ferritin"]
    data["toxicity"][3] = {"day": 3, "temperature": 38.4}  # hypotension, oxygen, neuro missing
    p = ip.profile(_record(data))
    hematotox = p.values["safety.car_hematotox"]
    assert hematotox.status == "not_assessable"
    assert hematotox.missing == ("host.ferritin",)
    # platelets alone already give 2 points: high risk is decided without ferritin
    assert p.values["safety.car_hematotox_risk"].value == "high"
    crs = p.values["safety.crs_max_grade"]
    assert crs.status == "not_assessable"
    assert "toxicity[day 3].hypotension" in crs.missing
    assert p.values["safety.crs_max_grade_at_least"].value == 2


def test_grades_only_for_records_with_observations_and_hematotox_only_for_heme() -> None:
    heme = _ball()
    heme.pop("toxicity")
    p = ip.profile(_record(heme))
    assert "safety.crs_max_grade" not in p.values
    assert "safety.car_hematotox" in p.values
    solid = ip.profile(ip.read_patient(ip.data.example_path("crc_msih.json")))
    assert not [k for k in solid.values if k.startswith("safety.")]


def _cautions(data: dict[str, Any], therapy: str) -> list[str]:
    plan = ip.recommend(ip.profile(_record(data)))
    option = next(o for o in (*plan.options, *plan.contraindicated) if o.therapy_id == therapy)
    return [c.rule_id for c in option.cautions]


def test_high_hematotox_is_a_caution_on_car_t() -> None:
    data = _ball()
    data.pop("toxicity")
    assert "car_hematotox_high_caution" in _cautions(data, "tisagenlecleucel")
    low = copy.deepcopy(data)
    low["host"]["blood"].update(
        {"platelets": "250 10^9/L", "neutrophils": "3000 cells/µL", "hemoglobin": "13 g/dL"}
    )
    low["host"]["ferritin"] = "300 ng/mL"
    assert "car_hematotox_high_caution" not in _cautions(low, "tisagenlecleucel")


@pytest.mark.parametrize(
    ("day", "caution"),
    [
        ({"day": 2, "temperature": 38.5, "hypotension": "none", "oxygen": "none"}, False),
        ({"day": 2, "temperature": 38.5, "hypotension": "no_vasopressor", "oxygen": "none"}, True),
        ({"day": 2, "ice_score": 5, "consciousness": "alert"}, True),  # ICANS ≥ 2 proven
    ],
)
def test_grade_two_crs_or_icans_is_a_caution_on_further_dosing(
    day: dict[str, Any], caution: bool
) -> None:
    data = _ball()
    data["toxicity"] = [day]
    assert ("ongoing_crs_icans_caution" in _cautions(data, "tisagenlecleucel")) is caution


def test_undecided_course_leaves_the_caution_unevaluated() -> None:
    data = _ball()
    data["toxicity"] = [{"day": 1, "temperature": 38.5}]  # grade ≥ 1 proven, 2 possible
    plan = ip.recommend(ip.profile(_record(data)))
    (rule,) = [u for u in plan.not_evaluated if u.rule_id == "ongoing_crs_icans_caution"]
    assert any("toxicity[day 1]" in m for m in rule.missing)


def test_report_has_the_safety_section() -> None:
    record = _record(_ball())
    html = render_html(ip.evaluate(record), record)
    section = html.split('<section id="safety">', 1)[1].split("</section>", 1)[0]
    assert "not a medical device" in section
    assert '<dd id="crs-max">grade 2 (day 2)</dd>' in section
    assert '<dd id="icans-max">grade 1 (day 5)</dd>' in section
    assert section.count("<tr>\n  <td>") >= 7  # one row per observed day
    assert "CAR-HEMATOTOX: 5 (high risk)" in section
    assert "42,000 cells/µL" in section
    assert "Hay 2017 classification tree" in section


def test_report_shows_unknown_grades_and_leaves_the_section_out_without_data() -> None:
    data = _ball()
    data["toxicity"] = [{"day": 1, "temperature": 38.5}]
    record = _record(data)
    html = render_html(ip.evaluate(record), record)
    assert "unknown (≥ grade 1)" in html
    assert "not recorded: hypotension, oxygen" in html
    crc = ip.read_patient(ip.data.example_path("crc_msih.json"))
    assert 'id="safety"' not in render_html(ip.evaluate(crc), crc)
