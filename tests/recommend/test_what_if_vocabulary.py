"""What-if overrides of text values with a closed vocabulary (review of 2026-11): a value no
rule could ever match (``immune_phenotype=hot``, ``mhc_class_i=absent``) changed the plan
without a word; letter case (``msi-h``) did too."""

from __future__ import annotations

from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.knowledge import load_knowledge_base
from immunoprecise.recommend.plan import StrategyPlan
from immunoprecise.recommend.what_if import OverrideValue, apply_overrides
from immunoprecise.records import PatientRecord


def _plan(data: dict[str, Any], **kwargs: Any) -> StrategyPlan:
    return ip.recommend(ip.profile(PatientRecord.model_validate(data)), **kwargs)


def _status(plan: StrategyPlan, therapy_id: str) -> str | None:
    return next((o.status for o in plan.options if o.therapy_id == therapy_id), None)


def test_letter_case_reads_as_the_canonical_value(minimal: dict[str, Any]) -> None:
    exact = _plan(minimal, overrides={"msi_status": "MSI-H"})
    lower = _plan(minimal, overrides={"msi_status": "msi-h"})
    assert lower.what_if is not None
    assert lower.what_if.overrides[0].after == "MSI-H"
    assert _status(lower, "pembrolizumab") == _status(exact, "pembrolizumab") == "indicated"
    assert [o.therapy_id for o in lower.options] == [o.therapy_id for o in exact.options]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("immune_phenotype", "hot", "inflamed, immune-excluded, immune-desert"),
        ("msi_status", "MSI-High", "MSI-H, MSI-L, MSS"),
        ("mhc_class_i", "absent", "normal, reduced, lost"),
        ("antigen.CD19", "pos", "positive, dim, negative"),
        ("disease_status", "progressive", "newly_diagnosed, relapsed"),
    ],
)
def test_a_value_outside_the_vocabulary_is_refused(
    minimal: dict[str, Any], key: str, value: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as info:
        _plan(minimal, overrides={key: value})
    message = str(info.value)
    assert f"overrides.{key}" in message
    assert repr(value) in message
    assert expected in message


def test_open_text_values_are_still_taken_as_given(minimal: dict[str, Any]) -> None:
    plan = _plan(minimal, overrides={"driver.BRAF": "V600E"})
    assert plan.what_if is not None
    assert plan.what_if.overrides[0].after == "V600E"


def test_an_immune_escape_override_is_judged_as_the_found_alteration(
    minimal: dict[str, Any],
) -> None:
    # the checkpoint-resistance rule reads the category ("impaired") of immune_escape: an
    # override must weigh as a recorded JAK1 loss does, not leave the category empty
    minimal["tumor"]["msi_status"] = "MSI-H"
    found = dict(minimal, tumor={**minimal["tumor"]})
    found["tumor"]["driver_mutations"] = [{"gene": "JAK1", "alteration": "Q503*"}]
    recorded = _plan(found)
    escape = ip.profile(PatientRecord.model_validate(found)).values["immune_escape"]
    assert escape.category == "impaired"
    hypothetical = _plan(minimal, overrides={"immune_escape": escape.value})
    assert hypothetical.what_if is not None
    assert hypothetical.what_if.overrides[0].category_after == escape.category
    option = next(o for o in hypothetical.options if o.therapy_id == "pembrolizumab")
    actual = next(o for o in recorded.options if o.therapy_id == "pembrolizumab")
    assert (option.status, option.score) == (actual.status, actual.score)
    assert "ifng_or_mhc_escape_checkpoint_resistance" in {c.rule_id for c in option.cautions}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("driver.braf", "gene symbols are written in capitals, 'driver.BRAF'"),
        ("antigen.cd19", "antigen names are written in capitals, 'antigen.CD19'"),
        ("prior.cart", "did you mean prior.car_t?"),
        ("days_since.asct_", "did you mean days_since.asct?"),
    ],
)
def test_an_open_family_key_no_profile_could_have_is_refused(
    minimal: dict[str, Any], key: str, expected: str
) -> None:
    # accepted before, it changed nothing: no rule reads driver.braf (the record writes BRAF)
    value: Any = True if key.startswith("prior.") else ("V600E" if "driver" in key else 30)
    if key.startswith("antigen."):
        value = "positive"
    with pytest.raises(ValidationError) as info:
        _plan(minimal, overrides={key: value})
    message = str(info.value)
    assert f"overrides.{key}" in message
    assert expected in message


def _example_profile() -> ip.ImmuneProfile:
    """A B-ALL patient after CD19 CAR-T: mGPS, CAR-HEMATOTOX and CRS/ICANS grades assessed."""
    return ip.profile(ip.read_patient(ip.data.example_path("ball_cd19.json")))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("mhc_class_i", "lost", "MHC-I loss"),
        ("mgps", 2, "mGPS 2"),
        ("safety.car_hematotox_risk", "low", "low risk"),
        ("safety.car_hematotox", 1, "low risk"),
        ("safety.car_hematotox", 2, "high risk"),
        ("safety.crs_max_grade", 3, "grade 3"),
    ],
)
def test_an_override_gets_the_category_the_profile_gives(
    key: str, value: OverrideValue, expected: str
) -> None:
    # a rule comparing the category (mhc_class_i of category "MHC-I loss") must hold for the
    # hypothetical value as for a measured one
    profile = _example_profile()
    changed, done = apply_overrides(profile, {key: value}, knowledge_base=load_knowledge_base())
    assert done[0].category_after == expected
    assert changed.values[key].category == expected


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("mgps", 3, "expected one of 0, 1, 2"),
        ("safety.car_hematotox", 9, "expected one of 0, 1, 2, 3, 4, 5, 6, 7"),
        ("safety.car_hematotox_risk", "hi", "expected one of low, high"),
        ("safety.icans_max_grade", 5, "expected one of 0, 1, 2, 3, 4"),
    ],
)
def test_a_score_or_group_the_value_never_takes_is_refused(
    key: str, value: OverrideValue, expected: str
) -> None:
    with pytest.raises(ValidationError) as info:
        ip.recommend(_example_profile(), overrides={key: value})
    message = str(info.value)
    assert f"overrides.{key}" in message
    assert expected in message
