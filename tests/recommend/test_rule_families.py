"""Rule families on crafted profiles: each family fires on its biomarker, conflicting evidence
is weighed, missing data is reported, contraindications are listed apart, timing windows open
on the right day, and what-if plans show what changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.errors import ValidationError
from immunoprecise.recommend import StrategyOption, StrategyPlan
from immunoprecise.records import PatientRecord


def _plan(data: dict[str, Any], **kwargs: Any) -> StrategyPlan:
    return ip.recommend(ip.profile(PatientRecord.model_validate(data)), **kwargs)


def _find(plan: StrategyPlan, therapy_id: str) -> StrategyOption | None:
    return next(
        (o for o in (*plan.options, *plan.contraindicated) if o.therapy_id == therapy_id), None
    )


def _families(option: StrategyOption) -> set[str]:
    return {f.family for f in (*option.rationale, *option.cautions)}


def _heme(minimal: dict[str, Any], code: str, **disease: Any) -> dict[str, Any]:
    minimal["disease"] = {"diagnosis": code, "oncotree_code": code, **disease}
    minimal["tumor"] = {}
    return minimal


# --- checkpoint ---------------------------------------------------------------------------------
def test_checkpoint_family_nsclc_tps_categories(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = {"value": 60, "unit": "%"}
    plan = _plan(minimal)
    for therapy in ("pembrolizumab", "atezolizumab"):
        option = _find(plan, therapy)
        assert option is not None
        assert option.status == "indicated"
        assert option.oncokb_level == "1"
        assert "checkpoint" in _families(option)
    minimal["tumor"]["pdl1_tps"] = {"value": 20, "unit": "%"}
    assert _find(_plan(minimal), "pembrolizumab") is None  # 1–49%: no monotherapy rule fires


def test_tmb_high_indication_needs_prior_therapy(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["tmb"] = {"value": 12, "unit": "mut/Mb"}
    assert _find(_plan(minimal), "pembrolizumab") is None
    minimal["patient"]["prior_therapies"] = [{"name": "FOLFOX", "line": 1}]
    option = _find(_plan(minimal), "pembrolizumab")
    assert option is not None
    assert [f.rule_id for f in option.rationale] == ["tmb_high_anti_pd1"]


# --- conflicting evidence ------------------------------------------------------------------------
def test_conflicting_evidence_is_weighed_by_score(minimal: dict[str, Any]) -> None:
    # IDO1 inhibition: a rationale (CIViC E) against a negative phase 3 trial (CIViC A).
    minimal["disease"] = {"diagnosis": "melanoma", "oncotree_code": "SKCM"}
    minimal["microenvironment"] = {
        "densities": [
            {
                "marker": "CD8",
                "region": "tumor_core",
                "density": {"value": 400, "unit": "cells/mm²"},
            },
            {
                "marker": "CD8",
                "region": "invasive_margin",
                "density": {"value": 600, "unit": "cells/mm²"},
            },
        ]
    }
    option = _find(_plan(minimal), "epacadostat_pembrolizumab")
    assert option is not None
    assert [f.effect.value for f in (*option.rationale, *option.cautions)] == [
        "favour",
        "disfavour",
    ]
    assert (option.status, option.score) == ("disfavoured", 1 - 2)


def test_indication_survives_cautions_but_loses_rank(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["msi_status"] = "MSI-H"
    clean = _find(_plan(minimal), "pembrolizumab")
    minimal["patient"]["autoimmune_diseases"] = ["lupus"]
    minimal["host"] = {
        "crp": {"value": 40, "unit": "mg/L"},
        "albumin": {"value": 30, "unit": "g/L"},
    }
    caution = _find(_plan(minimal), "pembrolizumab")
    assert clean is not None
    assert caution is not None
    assert caution.status == "indicated"
    assert caution.score == clean.score - 4
    assert {f.family for f in caution.cautions} == {"caution"}


# --- missing data --------------------------------------------------------------------------------
def test_undecidable_rules_name_the_missing_fields(minimal: dict[str, Any]) -> None:
    plan = _plan(_heme(minimal, "BLL", status="relapsed"))
    missing = {u.rule_id: u.missing for u in plan.not_evaluated}
    # age 61: the paediatric/young-adult rule is decided (false), the adult one is not
    assert "ball_cd19_car_t" not in missing
    assert missing["ball_adult_brexucabtagene"] == ("tumor.antigens (CD19 not tested)",)
    assert plan.options == ()
    assert "ball_adult_lymphodeplete_car_t" in missing  # strategies too


# --- effector cells, contraindications -----------------------------------------------------------
def test_tcr_t_needs_the_hla_allele_and_is_listed_apart_without_it(minimal: dict[str, Any]) -> None:
    data = _heme(minimal, "SYNS", status="relapsed")
    data["tumor"] = {"antigens": [{"name": "MAGE-A4", "kind": "TAA", "status": "positive"}]}
    data["patient"]["hla_type"] = ["A*02:01", "A*24:02"]
    option = _find(_plan(data), "afamitresgene_autoleucel")
    assert option is not None
    assert option.status == "indicated"
    data["patient"]["hla_type"] = ["A*01:01", "A*24:02"]
    plan = _plan(data)
    assert _find(plan, "afamitresgene_autoleucel") in plan.contraindicated
    reason = plan.contraindicated[0].cautions[0]
    assert reason.rule_id == "tcr_t_needs_hla_a02"
    assert reason.effect.value == "contraindicate"
    assert "afamitresgene_autoleucel" not in {o.therapy_id for o in plan.options}


def test_cd19_negative_relapse_contraindicates_cd19_products(minimal: dict[str, Any]) -> None:
    data = _heme(minimal, "BLL", status="relapsed")
    data["tumor"] = {"antigens": [{"name": "CD19", "kind": "lineage", "status": "negative"}]}
    plan = _plan(data)
    assert {o.therapy_id for o in plan.contraindicated} >= {"tisagenlecleucel"}
    assert all(o.status == "contraindicated" for o in plan.contraindicated)


def test_lymphopenia_weighs_against_own_effectors_not_cell_products(
    minimal: dict[str, Any],
) -> None:
    data = _heme(minimal, "FL", status="relapsed")
    data["tumor"] = {
        "antigens": [
            {"name": "CD20", "kind": "lineage", "status": "positive"},
            {"name": "CD19", "kind": "lineage", "status": "positive"},
        ]
    }
    data["host"]["blood"] = {"lymphocytes": {"value": 300, "unit": "cells/µL"}}
    plan = _plan(data)
    r2 = _find(plan, "lenalidomide_rituximab")
    car_nk = _find(plan, "cd19_car_nk")
    assert r2 is not None
    assert "lymphopenia_host_effector_caution" in {f.rule_id for f in r2.cautions}
    assert car_nk is not None
    assert not car_nk.cautions
    assert (r2.score, car_nk.score) == (3 - 2, 1)


# --- suppression, targeted, nanomedicine, vaccine ------------------------------------------------
@pytest.mark.parametrize(
    ("code", "changes", "therapy", "family"),
    [
        ("PCM", {"host": {"il6": {"value": 20, "unit": "pg/mL"}}}, "siltuximab", "suppression"),
        (
            "SKCM",
            {"tumor": {"driver_mutations": [{"gene": "BRAF", "alteration": "V600E"}]}},
            "dabrafenib_trametinib",
            "targeted",
        ),
        (
            "LUAD",
            {"tumor": {"driver_mutations": [{"gene": "EGFR", "alteration": "L858R"}]}},
            "osimertinib",
            "targeted",
        ),
        ("BRCA", {"tumor": {"pdl1_cps": 15}}, "pembrolizumab_nab_paclitaxel", "nanomedicine"),
        ("PRAD", {"disease_status": "relapsed"}, "sipuleucel_t", "vaccine"),
    ],
)
def test_each_family_fires_on_its_biomarker(
    minimal: dict[str, Any], code: str, changes: dict[str, Any], therapy: str, family: str
) -> None:
    minimal["disease"] = {"diagnosis": code, "oncotree_code": code}
    if "disease_status" in changes:
        minimal["disease"]["status"] = changes["disease_status"]
    for part in ("host", "tumor"):
        minimal[part] = {**minimal.get(part, {}), **changes.get(part, {})}
    option = _find(_plan(minimal), therapy)
    assert option is not None
    assert option.status in {"indicated", "favoured"}
    assert family in {f.family for f in option.rationale}


# --- timing windows ------------------------------------------------------------------------------
def _post_asct(minimal: dict[str, Any], days: int) -> dict[str, Any]:
    data = _heme(minimal, "PCM", status="relapsed")
    infusion = dt.date(2026, 11, 1)
    data["collected_on"] = (infusion + dt.timedelta(days=days)).isoformat()
    data["patient"]["prior_therapies"] = [
        {
            "name": "melphalan 200 mg/m² + ASCT",
            "line": 2,
            "start": "2026-10-30",
            "end": infusion.isoformat(),
        }
    ]
    return data


def test_post_asct_window_opens_on_day_4_and_closes_after_day_11(minimal: dict[str, Any]) -> None:
    inside = _plan(_post_asct(minimal, 8))
    now = next(s for s in inside.strategies if s.strategy_id == "pcm_post_asct_window_now")
    assert now.today_day == 8
    cells = _find(inside, "autologous_gamma_delta_t_cells")
    assert cells is not None
    assert "pcm_post_asct_effector_window" in {f.rule_id for f in cells.rationale}
    for day in (2, 12):
        plan = _plan(_post_asct(minimal, day))
        option = _find(plan, "autologous_gamma_delta_t_cells")
        fired = {f.rule_id for f in option.rationale} if option else set()
        assert "pcm_post_asct_effector_window" not in fired, day


def test_osimertinib_soon_after_pd1_is_disfavoured_with_its_window(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["collected_on"] = "2026-11-01"
    minimal["tumor"]["driver_mutations"] = [{"gene": "EGFR", "alteration": "L858R"}]
    minimal["patient"]["prior_therapies"] = [
        {"name": "pembrolizumab", "line": 1, "start": "2026-06-01", "end": "2026-09-15"}
    ]
    option = _find(_plan(minimal), "osimertinib")
    assert option is not None
    caution = next(f for f in option.cautions if f.rule_id == "osimertinib_after_recent_pd1")
    assert caution.window is not None
    assert caution.window.end_day == 90


# --- what-if -------------------------------------------------------------------------------------
def test_what_if_shows_how_the_plan_changes(minimal: dict[str, Any]) -> None:
    plan = _plan(minimal, overrides={"msi_status": "MSI-H"})
    assert plan.what_if is not None
    assert plan.what_if.overrides[0].before == "MSS"
    change = next(c for c in plan.what_if.changes if c.therapy_id == "pembrolizumab")
    assert (change.status_before, change.status_after) == (None, "indicated")
    numeric = _plan(minimal, overrides={"tmb": 15, "prior_lines": 1})
    assert numeric.what_if is not None
    assert numeric.what_if.overrides[0].category_after == "TMB-H"
    assert _find(numeric, "pembrolizumab") is not None


def test_what_if_refuses_unknown_keys_and_wrong_kinds(minimal: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        _plan(minimal, overrides={"msi": "MSI-H", "tmb": "high"})
    text = str(err.value)
    assert "overrides.msi" in text
    assert "did you mean" in text
    assert "overrides.tmb" in text
    assert "number" in text
