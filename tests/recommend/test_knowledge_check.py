"""`check_knowledge_base`: comparisons that can never hold, read against the record schema."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.knowledge import AxisComponent, Condition, load_knowledge_base
from immunoprecise.recommend.knowledge_check import check_knowledge_base

_SHIPPED = object()


def _errors_for(when: dict[str, Any], diseases: object = _SHIPPED) -> list[str]:
    """The errors about the first rule (``msi_h_anti_pd1``, for SOLID) given ``when`` (and
    ``diseases``, when given)."""
    kb = load_knowledge_base()
    update: dict[str, Any] = {"when": Condition.model_validate(when)}
    if diseases is not _SHIPPED:
        update["diseases"] = diseases
    rule = kb.rules[0].model_copy(update=update)
    check = check_knowledge_base(kb.model_copy(update={"rules": (rule, *kb.rules[1:])}))
    return [e for e in check.errors if e.startswith(f"rules.yaml entry {rule.id} when:")]


@pytest.mark.parametrize(
    "when",
    [
        {"value": "pdl1_tps", "at_least": 100},  # the top of the range can be reached
        {"value": "pdl1_tps", "at_most": 0},
        {"value": "pdl1_tps", "equals": 50},
        {"value": "ecog", "in": ["0", "1"]},
        {"value": "msi_status", "in": ["MSI-H", "MSS"]},
        {"value": "mhc_class_i", "equals": "lost"},
        {"value": "prior_severe_irae", "is_true": True},
        {"value": "autoimmune_disease", "equals": False},
        {"value": "tmb", "of": "category", "equals": "TMB-H"},
        {"value": "hla_type", "has": "A*02:01"},
        {"value": "immune_phenotype", "equals": "inflamed"},
        {"value": "immune_phenotype", "of": "category", "equals": "hot"},
    ],
)
def test_comparisons_that_can_hold_are_accepted(when: dict[str, Any]) -> None:
    assert _errors_for(when) == []


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"value": "pdl1_tps", "above": 100}, "a record holds tumor.pdl1_tps within 0–100 %"),
        ({"value": "pdl1_tps", "below": 0}, "a record holds tumor.pdl1_tps within 0–100 %"),
        ({"value": "pdl1_cps", "equals": 101}, "a record holds tumor.pdl1_cps within 0–100"),
        ({"value": "ecog", "equals": 1.5}, "ecog is a whole number"),
        ({"value": "tmb", "in": ["10", "20"]}, "compare a number with equals, at_least"),
        ({"value": "disease_status", "equals": "Relapsed"}, "did you mean 'relapsed'?"),
        ({"value": "mhc_class_i", "at_least": 1}, "mhc_class_i is text"),
        ({"value": "prior_severe_irae", "at_least": 1}, "use is_true or is_false"),
        ({"value": "tmb", "of": "category", "above": 10}, "a category is a text label"),
        (
            {"value": "immune_phenotype", "in": ["inflamed", "immune excluded"]},
            "'immune excluded' never matches: immune_phenotype is one of inflamed, "
            "immune-excluded, immune-desert (the profile's immune phenotypes); did you mean "
            "'immune-excluded'?",
        ),
        (
            {"value": "immune_phenotype", "of": "category", "equals": "warm"},
            "compares the category of 'immune_phenotype' with 'warm'",
        ),
        (
            {"any": [{"value": "crp", "equals": "high"}, {"value": "age", "above": 18}]},
            "crp is a number (record field host.crp: quantity, 0–1000 mg/L), not text",
        ),
    ],
)
def test_comparisons_that_never_hold_are_named(when: dict[str, Any], expected: str) -> None:
    errors = _errors_for(when)
    assert len(errors) == 1, errors
    assert expected in errors[0]


@pytest.mark.parametrize(
    ("when", "diseases"),
    [
        ({"value": "marrow_blasts", "at_least": 100}, _SHIPPED),
        ({"value": "density.CD8.tumor_core", "at_least": 50000}, _SHIPPED),
        ({"value": "density.CD4.stroma", "above": 100}, _SHIPPED),  # named by the record
        ({"value": "expression.CYT", "above": 10}, _SHIPPED),  # a matrix's score
        ({"value": "pdl1_tps", "of": "category", "equals": "TPS ≥50%"}, ("SOLID",)),
        ({"value": "pdl1_cps", "of": "category", "equals": "CPS ≥20"}, ("HNSC",)),
        ({"value": "driver.BRAF", "of": "category", "equals": "BRAF V600"}, _SHIPPED),
        ({"value": "immune_escape", "of": "category", "equals": "impaired"}, _SHIPPED),
        ({"value": "mgps", "of": "category", "equals": "mGPS 2"}, _SHIPPED),
    ],
)
def test_values_of_record_items_and_categories_that_can_hold_are_accepted(
    when: dict[str, Any], diseases: object
) -> None:
    assert _errors_for(when, diseases) == []


@pytest.mark.parametrize(
    ("when", "diseases", "expected"),
    [
        # the latest burden's blasts and IHC densities are read from list items of the record
        (
            {"value": "marrow_blasts", "above": 150},
            ("HEME",),
            "marrow_blasts above 150 never holds: a record holds disease.burden[].marrow_blasts "
            "within 0–100 %",
        ),
        (
            {"value": "density.CD8.tumor_core", "above": 60000},
            _SHIPPED,
            "a record holds microenvironment.densities[].density within 0–50000 cells/mm²",
        ),
        (
            {"value": "density.CD4.stroma", "at_least": 60000},
            _SHIPPED,
            "a record holds microenvironment.densities[].density within 0–50000 cells/mm²",
        ),
        # a category of a value that never gets one
        (
            {"value": "age", "of": "category", "equals": "elderly"},
            _SHIPPED,
            "compares the category of 'age', which never has one (no threshold of "
            "thresholds.yaml names it), so the condition never holds; compare the value "
            "itself, or one of the values with a category: albumin,",
        ),
        (
            {"value": "antigen.CD19", "of": "category", "equals": "positive"},
            ("HEME",),
            "compares the category of 'antigen.CD19', which never has one",
        ),
        (
            {"value": "driver.TP53", "of": "category", "equals": "TP53 mutation"},
            _SHIPPED,
            "compares the category of 'driver.TP53', which never has one: no driver of "
            "drivers.yaml is a TP53 alteration (drivers: ALK, B2M, BRAF,",
        ),
        # ... or gets one only for other diseases
        (
            {"value": "pdl1_tps", "of": "category", "equals": "TPS ≥50%"},
            ("MEL",),
            "compares the category of 'pdl1_tps', which has one only for diseases NSCLC (where "
            "the thresholds of thresholds.yaml that give it apply), not for this entry's "
            "diseases MEL",
        ),
        (
            {"value": "immune_phenotype", "of": "category", "equals": "hot"},
            ("HEME",),
            "which has one only for diseases SOLID",
        ),
        (
            {"value": "pdl1_cps", "of": "category", "equals": "CPS ≥10"},
            ("HNSC",),
            "compares the category of 'pdl1_cps' with 'CPS ≥10', which no threshold or driver "
            "gives it (categories: CPS 1–19, CPS <1, CPS ≥20)",
        ),
        # keys named after the record's contents, written as the record never writes them
        (
            {"value": "driver.braf", "of": "category", "equals": "BRAF V600"},
            _SHIPPED,
            "reads 'driver.braf', which the profile never computes: the record writes gene "
            "symbols in capitals; did you mean 'driver.BRAF'?",
        ),
        (
            {"value": "antigen.cd19", "equals": "positive"},
            ("HEME",),
            "the record writes antigen names in capitals; did you mean 'antigen.CD19'?",
        ),
        (
            {"value": "density.CD8.tumour_core", "at_least": 100},
            _SHIPPED,
            "'tumour_core' is not a region; regions: tumor_core, invasive_margin, stroma, "
            "intrafollicular, interfollicular, whole_section; did you mean 'tumor_core'?",
        ),
        (
            {"value": "cd8_foxp3_ratio.interfolicular", "above": 1},
            ("FL",),
            "did you mean 'interfollicular'?",
        ),
    ],
)
def test_record_items_and_categories_that_never_hold_are_named(
    when: dict[str, Any], diseases: object, expected: str
) -> None:
    errors = _errors_for(when, diseases)
    assert len(errors) == 1, errors
    assert expected in errors[0]


@pytest.mark.parametrize(
    "when",
    [
        {"value": "mhc_class_i", "of": "category", "equals": "MHC-I loss"},
        {"value": "mhc_class_i", "of": "category", "in": ["partial MHC-I loss", "MHC-I loss"]},
        {"value": "mgps", "equals": 2},
        {"value": "mgps", "at_least": 1},
        {"value": "mgps", "in": ["1", "2"]},
        {"value": "safety.car_hematotox_risk", "equals": "high"},
        {"value": "safety.car_hematotox_risk", "of": "category", "equals": "low risk"},
        {"value": "safety.car_hematotox", "at_least": 2},
        {"value": "safety.car_hematotox", "equals": 7},
        {"value": "safety.crs_max_grade", "at_least": 2},
        {"value": "safety.icans_max_grade_at_least", "equals": 4},
        {"value": "safety.crs_max_grade_at_least", "below": 1},
    ],
)
def test_labels_and_scores_the_profile_gives_are_accepted(when: dict[str, Any]) -> None:
    assert _errors_for(when, ("HEME",)) == []


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (
            {"value": "mhc_class_i", "of": "category", "equals": "los"},
            "compares the category of 'mhc_class_i' with 'los', which the profile never gives "
            "it (categories: MHC-I loss, partial MHC-I loss, presentation intact)",
        ),
        (
            {"value": "mgps", "of": "category", "equals": "mgps 2"},
            "did you mean 'mGPS 2'?",
        ),
        (
            {"value": "mgps", "in": ["2", "3"]},
            "mgps in ['2', '3'] — '3' never matches: mgps is one of 0, 1, 2 (the modified Glasgow "
            "Prognostic Score)",
        ),
        ({"value": "mgps", "above": 2}, "mgps above 2 never holds: mgps is one of 0, 1, 2"),
        (
            {"value": "safety.car_hematotox_risk", "in": ["High"]},
            "'High' never matches: safety.car_hematotox_risk is one of low, high (the "
            "CAR-HEMATOTOX risk groups); did you mean 'high'?",
        ),
        (
            {"value": "safety.car_hematotox", "of": "category", "equals": "high"},
            "did you mean 'high risk'?",
        ),
        (
            {"value": "safety.car_hematotox", "equals": 9},
            "safety.car_hematotox is one of 0, 1, 2, 3, 4, 5, 6, 7 (the CAR-HEMATOTOX points)",
        ),
        (
            {"value": "safety.icans_max_grade_at_least", "above": 4},
            "is one of 0, 1, 2, 3, 4 (the ASTCT grades, Lee 2019)",
        ),
        (
            {"value": "safety.crs_max_grade", "of": "category", "in": ["grade 3", "grade 4"]},
            "but that category describes the value",
        ),
    ],
)
def test_misspelt_labels_and_scores_beyond_the_scale_are_named(
    when: dict[str, Any], expected: str
) -> None:
    errors = _errors_for(when, ("HEME",))
    assert len(errors) == 1, errors
    assert expected in errors[0]


def _immunogram_errors(component: dict[str, Any]) -> list[str]:
    """The errors about a component added to the first immunogram axis."""
    kb = load_knowledge_base()
    first = kb.immunogram[0]
    added = AxisComponent.model_validate(component)
    axis = first.model_copy(update={"components": (*first.components, added)})
    check = check_knowledge_base(kb.model_copy(update={"immunogram": (axis, *kb.immunogram[1:])}))
    where = f"immunogram.yaml entry {first.id} components.{len(first.components)}"
    return [e for e in check.errors if e.startswith(where)]


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (
            {"value": "tmbb", "scale": "linear", "zero": 1, "one": 10},
            "reads 'tmbb', which the profile never computes; did you mean 'tmb'?",
        ),
        (
            {"value": "age", "of": "category", "scale": "categories", "scores": {"old": 0}},
            "scores the category of 'age', which never has one",
        ),
        (
            {"value": "crp", "of": "category", "scale": "categories", "scores": {"<=10 mg/L": 1}},
            "scores: crp never has the category '<=10 mg/L' (it is one of >10 mg/L, ≤10 mg/L), "
            "so that score is never given; did you mean '≤10 mg/L'?",
        ),
        (
            {"value": "msi_status", "scale": "categories", "scores": {"MSI-high": 1}},
            "msi_status never has the value 'MSI-high' (it is one of MSI-H, MSI-L, MSS), so that "
            "score is never given; did you mean 'MSI-H'?",
        ),
        (
            {"value": "mgps", "scale": "categories", "scores": {"0": 1, "3": 0}},
            "mgps never has the value '3' (it is one of 0, 1, 2), so that score is never given",
        ),
        (
            {
                "value": "mhc_class_i",
                "of": "category",
                "scale": "categories",
                "scores": {"MHC-I lost": 0},
            },
            "mhc_class_i never has the category 'MHC-I lost' (it is one of MHC-I loss, partial "
            "MHC-I loss, presentation intact), so that score is never given; did you mean "
            "'MHC-I loss'?",
        ),
    ],
)
def test_an_immunogram_component_that_never_scores_is_named(
    component: dict[str, Any], expected: str
) -> None:
    # the axis would be reported missing for every patient, or never give that score
    errors = _immunogram_errors(component)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_immunogram_components_that_score_are_accepted() -> None:
    assert _immunogram_errors({"value": "tmb", "scale": "linear", "zero": 1, "one": 10}) == []
    scores = {"inflamed": 1, "immune-desert": 0}
    assert (
        _immunogram_errors({"value": "immune_phenotype", "scale": "categories", "scores": scores})
        == []
    )
    mgps = {"0": 1, "1": 0.5, "2": 0}
    assert _immunogram_errors({"value": "mgps", "scale": "categories", "scores": mgps}) == []
