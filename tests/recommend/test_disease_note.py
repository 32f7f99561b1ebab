"""A plan says when the disease-specific rules were not checked: no OncoTree code, or a code the
knowledge base does not list (a typo reads otherwise as "nothing applies to this patient")."""

from __future__ import annotations

from typing import Any

import immunoprecise as ip
from immunoprecise.recommend import StrategyPlan
from immunoprecise.records import PatientRecord


def _plan(data: dict[str, Any]) -> StrategyPlan:
    return ip.recommend(ip.profile(PatientRecord.model_validate(data)))


def test_a_listed_code_has_no_note(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    plan = _plan(minimal)
    assert plan.disease_note is None
    assert any(o.therapy_id == "pembrolizumab" for o in plan.options)


def test_a_mistyped_code_is_named_with_the_nearest_listed_one(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    minimal["disease"]["oncotree_code"] = "COADD"
    plan = _plan(minimal)
    # the MSI-H rule is written for solid tumours, so it is not checked for an unknown code
    assert not any(o.therapy_id == "pembrolizumab" for o in plan.options)
    assert plan.disease_note is not None
    assert "'COADD' is not in knowledge base" in plan.disease_note
    assert "did you mean COAD" in plan.disease_note
    assert "disease-specific rules were not evaluated" in plan.disease_note


def test_a_code_the_knowledge_base_does_not_cover_is_named(minimal: dict[str, Any]) -> None:
    minimal["disease"]["oncotree_code"] = "THPA"  # papillary thyroid cancer: not covered
    note = _plan(minimal).disease_note
    assert note is not None
    assert "'THPA' is not in knowledge base" in note
    assert "did you mean" not in note
    assert "COAD" in note  # the codes it does list


def test_no_code_says_to_add_one(minimal: dict[str, Any]) -> None:
    minimal["disease"].pop("oncotree_code", None)
    note = _plan(minimal).disease_note
    assert note is not None
    assert "Add disease.oncotree_code" in note
