"""Golden plans: the six example patients get the plans reviewed in docs/examples.md."""

from __future__ import annotations

import functools

import pytest

import immunoprecise as ip
from immunoprecise.recommend import StrategyOption, StrategyPlan


@functools.cache
def _plan(name: str) -> StrategyPlan:
    return ip.recommend(ip.profile(ip.read_patient(ip.data.example_path(name))))


def _option(plan: StrategyPlan, therapy_id: str) -> StrategyOption:
    found = [o for o in (*plan.options, *plan.contraindicated) if o.therapy_id == therapy_id]
    assert found, f"{therapy_id} is not among the options of {plan.patient_id}"
    return found[0]


def _strategies(plan: StrategyPlan) -> dict[str, str]:
    return {s.strategy_id: s.status for s in plan.strategies}


def test_msi_h_crc_gets_anti_pd1_level_1_first() -> None:
    plan = _plan("crc_msih.json")
    best = plan.options[0]
    assert (best.therapy_id, best.status, best.oncokb_level, best.civic_level) == (
        "pembrolizumab",
        "indicated",
        "1",
        "A",
    )
    assert "msi_h_anti_pd1" in [f.rule_id for f in best.rationale]
    assert _option(plan, "nivolumab_ipilimumab").status == "indicated"  # previously treated
    answer = {a.question_id: a for a in plan.answers}
    assert answer["checkpoint"].therapy_ids[0] == "pembrolizumab"


def test_relapsed_cd19_ball_gets_car_t_with_crs_caution_and_a_debulking_sequence() -> None:
    plan = _plan("ball_cd19.json")
    best = plan.options[0]
    assert (best.therapy_id, best.status, best.civic_level) == (
        "tisagenlecleucel",
        "indicated",
        "A",
    )
    caution = [f for f in best.cautions if f.rule_id == "crs_risk_high_burden"]
    assert caution
    assert "46 %" in caution[0].because[0]
    strategy = plan.strategies[0]
    assert strategy.strategy_id == "ball_debulk_lymphodeplete_car_t"
    steps = [s.therapy_id for s in strategy.steps]
    assert steps[:3] == ["bridging_cytoreduction", "flu_cy_lymphodepletion", "tisagenlecleucel"]
    assert strategy.steps[1].window is not None
    assert strategy.steps[1].window.end_day < 0
    route = next(a for a in plan.answers if a.question_id == "effector_route")
    assert route.answer.startswith("Give effector cells as a drug")


def test_cold_nsclc_with_high_crp_is_not_offered_ici_alone() -> None:
    plan = _plan("nsclc_cold.json")
    mono = _option(plan, "pembrolizumab")
    assert mono.status == "disfavoured"
    reasons = {f.rule_id for f in mono.cautions}
    assert {"cold_tumour_anti_pd1_alone", "systemic_inflammation_caution"} <= reasons
    assert plan.options[0].therapy_id == "pembrolizumab_chemotherapy"
    hot = {"nbtxr3_radiotherapy", "ferumoxytol_tam_repolarization", "tlr9_anti_ox40_in_situ"}
    assert hot <= {o.therapy_id for o in plan.options if o.status == "favoured"}
    assert _strategies(plan)["cold_tumour_icd_nanomedicine_anti_pd1"] == "proposed"
    cold = next(a for a in plan.answers if a.question_id == "cold_to_hot")
    assert cold.therapy_ids


def test_fl_with_cd20_gets_rituximab_with_gamma_delta_and_nk_adcc_options() -> None:
    plan = _plan("fl_relapsed.json")
    assert plan.options[0].therapy_id == "lenalidomide_rituximab"
    favoured = {o.therapy_id for o in plan.options if o.status == "favoured"}
    assert {"rituximab", "gamma_delta_activation_rituximab", "gm_csf_rituximab"} <= favoured
    strategy = _strategies(plan)
    assert strategy["fl_anti_cd20_innate_effectors"] == "proposed"


def test_myeloma_after_asct_gets_il6_blockade_and_the_effector_cell_window() -> None:
    plan = _plan("mm_post_asct.json")
    assert plan.options[0].therapy_id == "idecabtagene_vicleucel"
    assert {"siltuximab", "tocilizumab"} <= {o.therapy_id for o in plan.options}
    window = next(s for s in plan.strategies if s.strategy_id == "pcm_salvage_asct_effector_window")
    cells = next(s for s in window.steps if s.therapy_id == "autologous_gamma_delta_t_cells")
    assert cells.window is not None
    assert (cells.window.start_day, cells.window.peak_day, cells.window.end_day) == (4, 8, 11)
    assert window.today_day is None  # the first transplant was years ago
    suppressors = next(a for a in plan.answers if a.question_id == "suppressors")
    assert "Siltuximab" in suppressors.answer
    route = next(a for a in plan.answers if a.question_id == "effector_route")
    assert route.answer.startswith("Give effector cells as a drug")


def test_braf_melanoma_gets_immunotherapy_first_then_targeted() -> None:
    plan = _plan("melanoma_braf.json")
    ipi_nivo = _option(plan, "nivolumab_ipilimumab")
    assert ipi_nivo.status == "indicated"
    assert "melanoma_braf_immunotherapy_first" in [f.rule_id for f in ipi_nivo.rationale]
    assert _option(plan, "dabrafenib_trametinib").oncokb_level == "1"
    strategy = plan.strategies[0]
    assert strategy.strategy_id == "melanoma_braf_immunotherapy_then_targeted"
    assert [s.therapy_id for s in strategy.steps] == [
        "nivolumab_ipilimumab",
        "dabrafenib_trametinib",
    ]


@pytest.mark.parametrize("example", ip.data.example_patients(), ids=lambda p: p.stem)
def test_every_option_is_explained_and_cited(example: object) -> None:
    plan = _plan(example.name)  # type: ignore[attr-defined]
    assert plan.options
    for option in (*plan.options, *plan.contraindicated):
        assert option.references
        for firing in (*option.rationale, *option.cautions):
            assert firing.because
            assert firing.references
            assert all(c.doi or c.url for c in firing.references)
