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
from immunoprecise.records.validation import validate_model


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
EGFR_ALK_TESTED = [
    {"gene": "EGFR", "alteration": "wild type"},
    {"gene": "ALK", "alteration": "wild type"},
]


def test_checkpoint_family_nsclc_tps_categories(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = {"value": 60, "unit": "%"}
    minimal["tumor"]["driver_mutations"] = EGFR_ALK_TESTED
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


def _uveal(minimal: dict[str, Any], hla: list[str]) -> dict[str, Any]:
    minimal["disease"] = {"diagnosis": "metastatic uveal melanoma", "oncotree_code": "UM"}
    minimal["tumor"] = {}
    minimal["patient"]["hla_type"] = hla
    return minimal


def test_low_resolution_hla_typing_leaves_tebentafusp_undecided(minimal: dict[str, Any]) -> None:
    plan = _plan(_uveal(minimal, ["A*02", "A*24", "B*44", "B*51"]))
    assert _find(plan, "tebentafusp") is None  # neither indicated nor contraindicated
    undecided = {u.rule_id: u.missing for u in plan.not_evaluated}
    for rule_id in ("uveal_melanoma_tebentafusp", "tebentafusp_needs_hla_a0201"):
        (missing,) = undecided[rule_id]
        assert "patient.hla_type at high resolution" in missing
        assert "A*02:01" in missing


@pytest.mark.parametrize(
    ("hla", "status"),
    [
        (["A*02:01", "A*24:02"], "indicated"),
        (["A*02:01:01", "A*24:02"], "indicated"),  # a higher resolution of A*02:01
        (["A*02", "A*02:01"], "indicated"),  # one allele typed high enough decides
        (["A*03:01", "A*24:02"], "contraindicated"),
        (["A*03", "A*24"], "contraindicated"),  # low resolution, but no A*02 at all
        (["A*02:06", "A*24:02"], "contraindicated"),
        (["A*02:011", "A*24:02"], "contraindicated"),  # not A*02:01 with one more digit
        (["A*02:01N", "A*24:02"], "contraindicated"),  # a null allele is not expressed
    ],
)
def test_tebentafusp_reads_hla_alleles_field_by_field(
    minimal: dict[str, Any], hla: list[str], status: str
) -> None:
    option = _find(_plan(_uveal(minimal, hla)), "tebentafusp")
    assert option is not None
    assert option.status == status


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


@pytest.mark.parametrize(
    ("drivers", "pd1"),
    [
        (EGFR_ALK_TESTED, "indicated"),
        ([{"gene": "EGFR", "alteration": "p.Leu858Arg"}, EGFR_ALK_TESTED[1]], "disfavoured"),
        ([EGFR_ALK_TESTED[0], {"gene": "ALK", "alteration": "EML4-ALK fusion"}], "disfavoured"),
    ],
)
def test_first_line_pd1_rules_exclude_egfr_and_alk_driven_nsclc(
    minimal: dict[str, Any], drivers: list[dict[str, str]], pd1: str
) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = {"value": 60, "unit": "%"}
    minimal["tumor"]["driver_mutations"] = drivers
    plan = _plan(minimal)
    for therapy in ("pembrolizumab", "atezolizumab", "pembrolizumab_chemotherapy"):
        option = _find(plan, therapy)
        assert option is not None, therapy
        assert option.status == pd1, therapy
    fired = {f.rule_id for o in (*plan.options, *plan.contraindicated) for f in o.rationale}
    first_line = {
        "nsclc_tps50_pembrolizumab",
        "nsclc_tps50_atezolizumab",
        "nsclc_chemo_pembrolizumab",
    }
    assert fired & first_line == (first_line if pd1 == "indicated" else set())


def test_first_line_pd1_rules_are_undecided_until_egfr_and_alk_are_known(
    minimal: dict[str, Any],
) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"]["pdl1_tps"] = {"value": 60, "unit": "%"}
    minimal["tumor"]["driver_mutations"] = [{"gene": "KRAS", "alteration": "G12V"}]
    plan = _plan(minimal)
    undecided = {u.rule_id: " ".join(u.missing) for u in plan.not_evaluated}
    for rule_id in ("nsclc_tps50_pembrolizumab", "nsclc_tps50_atezolizumab"):
        assert "EGFR not reported" in undecided[rule_id]
        assert "ALK not reported" in undecided[rule_id]
    option = _find(plan, "pembrolizumab")
    assert option is None or option.status != "indicated"


def test_pemetrexed_chemo_immunotherapy_is_for_non_squamous_nsclc(
    minimal: dict[str, Any],
) -> None:
    minimal["tumor"]["pdl1_tps"] = {"value": 0, "unit": "%"}
    minimal["tumor"]["driver_mutations"] = EGFR_ALK_TESTED
    minimal["disease"] = {"diagnosis": "lung adenocarcinoma", "oncotree_code": "LUAD"}
    option = _find(_plan(minimal), "pembrolizumab_chemotherapy")
    assert option is not None
    assert option.status == "indicated"
    for code in ("LUSC", "NSCLC"):  # squamous; histology not recorded
        minimal["disease"] = {"diagnosis": "lung cancer", "oncotree_code": code}
        plan = _plan(minimal)
        assert _find(plan, "pembrolizumab_chemotherapy") is None, code
        assert "nsclc_chemo_pembrolizumab" not in {u.rule_id for u in plan.not_evaluated}


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


def _after_chemoradiotherapy(minimal: dict[str, Any], end: str) -> dict[str, Any]:
    minimal["disease"] = {"diagnosis": "stage III NSCLC", "oncotree_code": "LUAD"}
    minimal["collected_on"] = "2026-10-12"
    minimal["patient"]["prior_therapies"] = [
        {
            "name": "concurrent cisplatin-etoposide chemoradiotherapy 60 Gy",
            "line": 1,
            "start": "2026-08-20",
            "end": end,
        }
    ]
    return minimal


@pytest.mark.parametrize(
    ("end", "days", "indicated"),
    [
        ("2026-08-31", 42, True),  # the last day of the PACIFIC window
        ("2026-10-11", 1, True),  # the first
        ("2026-10-12", 0, False),  # chemoradiotherapy ended on the record date: day 0
        ("2026-08-30", 43, False),
    ],
)
def test_durvalumab_window_is_1_to_42_days_after_chemoradiotherapy(
    minimal: dict[str, Any], end: str, days: int, indicated: bool
) -> None:
    data = _after_chemoradiotherapy(minimal, end)
    profile = ip.profile(PatientRecord.model_validate(data))
    assert profile.values["days_since.chemoradiotherapy"].value == days
    plan = ip.recommend(profile)
    option = _find(plan, "durvalumab")
    fired = {f.rule_id for f in option.rationale} if option else set()
    assert ("nsclc_durvalumab_after_chemoradiotherapy" in fired) is indicated
    proposed = {s.strategy_id for s in plan.strategies}
    assert ("nsclc_chemoradiotherapy_then_durvalumab" in proposed) is indicated


def test_chemoradiotherapy_ending_after_the_record_date_is_not_assessable(
    minimal: dict[str, Any],
) -> None:
    data = _after_chemoradiotherapy(minimal, "2026-11-02")  # 21 days after collection
    profile = ip.profile(PatientRecord.model_validate(data))
    value = profile.values["days_since.chemoradiotherapy"]
    assert value.status == "not_assessable"
    assert value.value is None
    assert "not finished by the record date" in (value.note or "")
    plan = ip.recommend(profile)
    assert _find(plan, "durvalumab") is None
    assert plan.strategies == () or all(
        s.strategy_id != "nsclc_chemoradiotherapy_then_durvalumab" for s in plan.strategies
    )
    undecided = {u.rule_id: u.missing for u in plan.not_evaluated}
    assert "not finished by the record date" in " ".join(
        undecided["nsclc_durvalumab_after_chemoradiotherapy"]
    )
    assert "nsclc_chemoradiotherapy_then_durvalumab" in undecided


# --- treatment history: prior severe irAE ------------------------------------------------------
@pytest.mark.parametrize(
    ("therapies", "expected"),
    [
        # an immunotherapy without its irAE grade, another therapy graded: unknown
        (
            [
                {"name": "pembrolizumab", "line": 1},
                {"name": "carboplatin-pemetrexed", "line": 1, "irae_grade": 1},
            ],
            None,
        ),
        # two immunotherapies, the second without its grade: unknown
        (
            [
                {"name": "nivolumab", "line": 1, "irae_grade": 1},
                {"name": "ipilimumab + nivolumab", "line": 2},
            ],
            None,
        ),
        # a grade ≥ 3 on any line decides, whatever is not recorded
        (
            [
                {"name": "nivolumab", "line": 1, "irae_grade": 3},
                {"name": "ipilimumab + nivolumab", "line": 2},
            ],
            True,
        ),
        # every immunotherapy graded below 3; a chemotherapy without a grade does not matter
        (
            [
                {"name": "nivolumab", "line": 1, "irae_grade": 2},
                {"name": "FOLFOX", "line": 2},
            ],
            False,
        ),
    ],
)
def test_prior_severe_irae_is_unknown_while_an_immunotherapy_lacks_its_grade(
    minimal: dict[str, Any], therapies: list[dict[str, Any]], expected: bool | None
) -> None:
    minimal["patient"]["prior_therapies"] = therapies
    value = ip.profile(PatientRecord.model_validate(minimal)).values["prior_severe_irae"]
    if expected is None:
        assert value.status == "not_assessable"
        assert value.missing == ("patient.prior_therapies[].irae_grade",)
    else:
        assert value.status == "assessed"
        assert value.value is expected


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


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pdl1_tps": "60"}, "overrides.pdl1_tps", "expected a number in %"),
        ({"pdl1_tps": True}, "overrides.pdl1_tps", "expected a number in %"),
        ({"ecog": 1.5}, "overrides.ecog", "expected a whole number"),
        ({"prior.checkpoint_inhibitor": "yes"}, "overrides.prior.checkpoint_inhibitor", "true"),
        ({"days_since.chemoradiotherapy": "10"}, "overrides.days_since", "number"),
        ({"crp": float("nan")}, "overrides.crp", "finite"),
        ({"pdl1_tps": 500}, "overrides.pdl1_tps", "expected a number from 0 to 100 %"),
        ({"pdl1_tps": -5}, "overrides.pdl1_tps", "expected a number from 0 to 100 %"),
        ({"crp": -1}, "overrides.crp", "expected a number ≥ 0 mg/L"),
    ],
)
def test_what_if_checks_the_kind_even_where_the_value_is_missing(
    minimal: dict[str, Any], overrides: dict[str, Any], field: str, message: str
) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"] = {}  # PD-L1 not recorded: pdl1_tps is not assessable
    del minimal["patient"]["ecog"]
    profile = ip.profile(PatientRecord.model_validate(minimal))
    assert profile.values["pdl1_tps"].status == "not_assessable"
    with pytest.raises(ValidationError) as err:
        ip.recommend(profile, overrides=overrides)
    text = str(err.value)
    assert field in text
    assert message in text


def test_what_if_takes_a_number_for_a_missing_numeric_value(minimal: dict[str, Any]) -> None:
    minimal["disease"] = {"diagnosis": "LUAD", "oncotree_code": "LUAD"}
    minimal["tumor"] = {"driver_mutations": EGFR_ALK_TESTED}
    plan = _plan(minimal, overrides={"pdl1_tps": 60})
    assert plan.what_if is not None
    assert plan.what_if.overrides[0].category_after == "TPS ≥50%"
    assert _find(plan, "pembrolizumab") is not None


@pytest.mark.parametrize(
    ("name", "therapy_class"),
    [
        ("nivolumab", ""),
        ("sintilimab", ""),
        ("spartalizumab", ""),
        ("camrelizumab", ""),
        ("tislelizumab", ""),
        ("toripalimab", ""),
        ("investigational antibody", "PD-1 inhibitor"),
        ("investigational antibody", "PD-1 blocking antibody"),
        ("study drug", "PD-L1 inhibitor"),
        ("study drug", "CTLA-4 blocking antibody"),
    ],
)
def test_prior_checkpoint_inhibitors_are_recognised_by_name_or_class(
    minimal: dict[str, Any], name: str, therapy_class: str
) -> None:
    minimal["patient"]["prior_therapies"] = [
        {"name": name, "therapy_class": therapy_class or None, "line": 1, "irae_grade": 1}
    ]
    values = ip.profile(PatientRecord.model_validate(minimal)).values
    assert values["prior.checkpoint_inhibitor"].value is True


@pytest.mark.parametrize(
    ("name", "therapy_class"),
    [("FOLFOX", "chemotherapy"), ("osimertinib", "EGFR TKI"), ("bevacizumab", "anti-VEGF")],
)
def test_other_prior_therapies_are_not_checkpoint_inhibitors(
    minimal: dict[str, Any], name: str, therapy_class: str
) -> None:
    minimal["patient"]["prior_therapies"] = [
        {"name": name, "therapy_class": therapy_class, "line": 1}
    ]
    values = ip.profile(PatientRecord.model_validate(minimal)).values
    assert values["prior.checkpoint_inhibitor"].value is False


# --- treatment history: none versus not recorded -------------------------------------------------
def test_an_unrecorded_treatment_history_leaves_history_rules_undecided(
    minimal: dict[str, Any],
) -> None:
    minimal["disease"] = {"diagnosis": "clear-cell RCC", "oncotree_code": "CCRCC"}
    minimal["patient"].pop("prior_therapies", None)
    plan = _plan(minimal)
    values = ip.profile(PatientRecord.model_validate(minimal)).values
    assert values["prior_lines"].value is None
    assert values["prior_lines"].missing == ("patient.prior_therapies",)
    assert values["prior.checkpoint_inhibitor"].value is None
    assert values["prior_severe_irae"].missing == ("patient.prior_therapies",)
    missing = {u.rule_id: u.missing for u in plan.not_evaluated}
    assert "patient.prior_therapies" in missing["rcc_pembrolizumab_axitinib"]
    assert _find(plan, "pembrolizumab_axitinib") is None
    # an empty list is a treatment-naive patient: first line is decided
    minimal["patient"]["prior_therapies"] = []
    naive = _plan(minimal)
    option = _find(naive, "pembrolizumab_axitinib")
    assert option is not None
    assert "rcc_pembrolizumab_axitinib" in [f.rule_id for f in option.rationale]
    assert ip.profile(PatientRecord.model_validate(minimal)).values["prior_lines"].value == 0


def test_none_is_not_a_prior_therapy(minimal: dict[str, Any]) -> None:
    minimal["patient"]["prior_therapies"] = [{"name": "none"}]
    with pytest.raises(ValidationError, match="'none' is not a therapy; a patient without prior"):
        validate_model(PatientRecord, minimal)
