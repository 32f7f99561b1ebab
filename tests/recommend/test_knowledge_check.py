"""`check_knowledge_base`: comparisons that can never hold, read against the record schema."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.knowledge import Condition, load_knowledge_base
from immunoprecise.recommend.knowledge_check import check_knowledge_base


def _errors_for(when: dict[str, Any]) -> list[str]:
    kb = load_knowledge_base()
    rule = kb.rules[0].model_copy(update={"when": Condition.model_validate(when)})
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
