"""The strategy engine: rules fire on profile values, options carry evidence, rationale and
cautions, and undecidable rules name what is missing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.knowledge import Condition, default_knowledge_dir
from immunoprecise.recommend import StrategyPlan, evaluate_condition
from immunoprecise.records import PatientRecord


def _plan(data: dict[str, Any]) -> StrategyPlan:
    return ip.recommend(ip.profile(PatientRecord.model_validate(data)))


def _option(plan: StrategyPlan, therapy_id: str) -> Any:
    return next((o for o in plan.options if o.therapy_id == therapy_id), None)


def test_msi_h_indicates_anti_pd1_with_level_1_evidence(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    option = _option(_plan(minimal), "pembrolizumab")
    assert option is not None
    assert option.status == "indicated"
    assert option.oncokb_level == "1"
    assert option.civic_level == "A"
    firing = option.rationale[0]
    assert firing.rule_id == "msi_h_anti_pd1"
    assert any("MSI-H" in reason for reason in firing.because)
    assert {c.doi for c in firing.references} >= {"10.1126/science.aan6733"}


def test_mss_low_tmb_crc_gets_no_checkpoint_option(minimal: dict[str, Any]) -> None:
    plan = _plan(minimal)  # MSS, TMB 4
    assert _option(plan, "pembrolizumab") is None
    assert plan.options == ()


def test_msi_rule_does_not_fire_for_lymphoma(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "FL", "oncotree_code": "FL"}
    minimal["tumor"]["msi_status"] = "MSI-H"
    assert _option(_plan(minimal), "pembrolizumab") is None


def test_missing_biomarker_is_reported_not_guessed(minimal: dict[str, Any]) -> None:
    minimal["tumor"] = {}
    minimal["patient"]["prior_therapies"] = [{"name": "FOLFOX", "line": 1}]
    plan = _plan(minimal)
    missing = {u.rule_id: u.missing for u in plan.not_evaluated}
    assert missing["msi_h_anti_pd1"] == ("tumor.msi_status", "tumor.mmr_status")
    assert missing["tmb_high_anti_pd1"] == ("tumor.tmb",)


def test_autoimmunity_is_a_caution_that_lowers_rank(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    minimal["patient"]["autoimmune_diseases"] = ["rheumatoid arthritis"]
    option = _option(_plan(minimal), "pembrolizumab")
    assert option.status == "indicated"
    assert [c.rule_id for c in option.cautions] == ["autoimmunity_checkpoint_caution"]
    assert option.score == 3 - 2


def test_cautions_do_not_add_therapies_for_other_diseases(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    minimal["patient"]["autoimmune_diseases"] = ["psoriasis"]
    ids = {o.therapy_id for o in _plan(minimal).options}
    assert ids == {"pembrolizumab"}  # not the melanoma or NSCLC regimens


EGFR_ALK_TESTED = [
    {"gene": "EGFR", "alteration": "wild type"},
    {"gene": "ALK", "alteration": "wild type"},
]


def test_nsclc_pdl1_negative_prefers_chemo_immunotherapy(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "Lung adenocarcinoma", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = 0
    minimal["tumor"]["driver_mutations"] = EGFR_ALK_TESTED
    plan = _plan(minimal)
    assert plan.options[0].therapy_id == "pembrolizumab_chemotherapy"
    assert _option(plan, "pembrolizumab").status == "disfavoured"


def test_nsclc_tps_high_indicates_monotherapy(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "Lung adenocarcinoma", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = "80 %"
    minimal["tumor"]["driver_mutations"] = EGFR_ALK_TESTED
    option = _option(_plan(minimal), "pembrolizumab")
    assert option.status == "indicated"
    assert option.oncokb_level == "1"


def test_braf_melanoma_sequence_puts_immunotherapy_first(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "Melanoma", "oncotree_code": "SKCM"}
    minimal["patient"]["ecog"] = 0
    minimal["tumor"] = {"driver_mutations": [{"gene": "BRAF", "alteration": "V600E"}]}
    plan = _plan(minimal)
    ranked = [o.therapy_id for o in plan.options]
    assert ranked.index("nivolumab_ipilimumab") < ranked.index("dabrafenib_trametinib")
    assert any(f.rule_id == "melanoma_braf_immunotherapy_first" for f in plan.options[0].rationale)


def test_ranks_are_consecutive(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "Melanoma", "oncotree_code": "SKCM"}
    minimal["tumor"] = {"tmb": 20, "driver_mutations": [{"gene": "BRAF", "alteration": "V600K"}]}
    plan = _plan(minimal)
    assert [o.rank for o in plan.options] == list(range(1, len(plan.options) + 1))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"value": "tmb", "at_least": 4}, True),
        ({"value": "tmb", "above": 4}, False),
        ({"value": "tmb", "of": "category", "equals": "TMB-L"}, True),
        ({"not": {"value": "tmb", "below": 4}}, True),
        ({"all": [{"value": "tmb", "at_most": 4}, {"value": "pdl1_tps", "above": 1}]}, None),
        ({"all": [{"value": "tmb", "above": 40}, {"value": "pdl1_tps", "above": 1}]}, False),
        ({"any": [{"value": "tmb", "at_least": 1}, {"value": "pdl1_tps", "above": 1}]}, True),
        ({"any": [{"value": "tmb", "above": 40}, {"value": "pdl1_tps", "above": 1}]}, None),
        ({"value": "antigen.CD19", "equals": "positive"}, None),
        ({"value": "autoimmune_disease", "is_false": True}, True),
    ],
)
def test_three_valued_conditions(
    minimal: dict[str, Any], condition: dict[str, Any], expected: bool | None
) -> None:
    profile = ip.profile(PatientRecord.model_validate(minimal))  # TMB 4, no PD-L1
    verdict = evaluate_condition(Condition.model_validate(condition), profile)
    assert verdict.holds is expected
    if expected is None:
        assert verdict.missing


def _cold_crc(minimal: dict[str, Any]) -> dict[str, Any]:
    """A relapsed MSS colon cancer, immune-excluded: the cold-tumour strategies are proposed."""
    minimal["disease"]["status"] = "relapsed"
    minimal["microenvironment"] = {
        "densities": [
            {"marker": "CD8", "region": "tumor_core", "density": 20},
            {"marker": "CD8", "region": "invasive_margin", "density": 300},
        ]
    }
    return minimal


def test_a_strategy_step_carries_the_cautions_that_fired_for_its_therapy(
    minimal: dict[str, Any],
) -> None:
    data = _cold_crc(minimal)
    data["patient"]["autoimmune_diseases"] = ["ulcerative colitis"]
    data["patient"]["prior_therapies"] = [
        {"name": "ipilimumab", "therapy_class": "anti-CTLA-4", "line": 1, "irae_grade": 4}
    ]
    data["host"] = {"blood": {"lymphocytes": "0.3 10^9/L"}}  # CTCAE grade 3 lymphopenia
    plan = _plan(data)
    # pembrolizumab is no option of its own here (MSS): only general cautions fired for it
    assert _option(plan, "pembrolizumab") is None
    strategy = next(
        s for s in plan.strategies if s.strategy_id == "cold_tumour_in_situ_vaccination_anti_pd1"
    )
    steps = {s.therapy_id: s for s in strategy.steps}
    pd1 = steps["pembrolizumab"]
    assert pd1.option_status == "disfavoured"
    assert set(pd1.cautions) == {
        "autoimmunity_checkpoint_caution",
        "prior_severe_irae_checkpoint_caution",
        "lymphopenia_host_effector_caution",
    }
    # a step that no rule supports for this disease still gets the cautions that hold for it
    tlr9 = steps["tlr9_in_situ_vaccination"]
    assert tlr9.option_status == "disfavoured"
    assert tlr9.cautions == ("lymphopenia_host_effector_caution",)
    assert any(c.startswith("Pembrolizumab") and "disfavoured" in c for c in strategy.cautions)
    assert any("lymphopenia_host_effector_caution" in c for c in strategy.cautions)


def test_a_strategy_step_without_cautions_has_none(minimal: dict[str, Any]) -> None:
    plan = _plan(_cold_crc(minimal))
    strategy = next(
        s for s in plan.strategies if s.strategy_id == "cold_tumour_in_situ_vaccination_anti_pd1"
    )
    assert all(s.cautions == () and s.option_status is None for s in strategy.steps)
    assert strategy.cautions == ()
    assert strategy.status == "proposed"


def test_a_profile_is_decided_with_the_knowledge_base_it_was_made_with(
    minimal: dict[str, Any], tmp_path: Path
) -> None:
    # the plan records the profile's knowledge base: rules from another one would be reported
    # under the wrong version, and compare categories cut by other thresholds
    site_dir = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), site_dir)
    (site_dir / "manifest.yaml").write_text('version: "site-1"\n', encoding="utf-8")
    thresholds = site_dir / "thresholds.yaml"
    thresholds.write_text(thresholds.read_text(encoding="utf-8") + "# site\n", encoding="utf-8")
    site = ip.load_knowledge_base(site_dir)
    shipped = ip.load_knowledge_base()
    record = PatientRecord.model_validate(minimal)
    with pytest.raises(ip.KnowledgeBaseError) as info:
        ip.recommend(ip.profile(record, knowledge_base=site))
    assert str(info.value) == (
        f"profile of patient {record.patient.id} was made with knowledge base site-1 (sha256 "
        f"{site.sha256[:12]}…), not the shipped {shipped.version} (sha256 "
        f"{shipped.sha256[:12]}…); pass the same knowledge base to ip.profile and ip.recommend "
        "(knowledge_base=...)"
    )
    with pytest.raises(ip.KnowledgeBaseError, match=r"made with knowledge base 20.*not the given"):
        ip.recommend(ip.profile(record), knowledge_base=site)
    plan = ip.recommend(ip.profile(record, knowledge_base=site), knowledge_base=site)
    assert (plan.knowledge_base.version, plan.knowledge_base.sha256) == ("site-1", site.sha256)
