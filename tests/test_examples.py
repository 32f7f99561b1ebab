"""The shipped examples: each validates, and each scenario gets the strategy its evidence backs."""

from __future__ import annotations

import pytest

import immunoprecise as ip

EXPECTED_FIRST = {
    "fl_relapsed": "lenalidomide_rituximab",
    "melanoma_braf": "nivolumab_ipilimumab",
    "crc_msih": "pembrolizumab",
    "nsclc_cold": "pembrolizumab_chemotherapy",
    "mm_post_asct": "idecabtagene_vicleucel",
    "ball_cd19": "tisagenlecleucel",
}


def test_all_six_scenarios_are_shipped() -> None:
    assert {p.stem for p in ip.data.example_patients()} == set(EXPECTED_FIRST)


@pytest.mark.parametrize("name", sorted(EXPECTED_FIRST))
def test_example_evaluates_to_expected_first_option(name: str) -> None:
    record = ip.read_patient(ip.data.example_path(f"{name}.json"))
    assert "synthetic" in record.disease.diagnosis.lower()
    evaluation = ip.evaluate(record)
    assert evaluation.plan.options[0].therapy_id == EXPECTED_FIRST[name]


def test_fl_example_has_the_saifi_profile() -> None:
    p = ip.profile(ip.read_patient(ip.data.example_path("fl_relapsed.json")))
    ratio = p.values["cd8_foxp3_ratio.interfollicular"]
    assert ratio.value is not None
    assert ratio.category == "low"
    assert p.values["density.FOXP3.interfollicular"].category == "high"
    gamma_delta = next(
        o for o in ip.recommend(p).options if o.therapy_id == "gamma_delta_activation_rituximab"
    )
    assert gamma_delta.status == "favoured"
    assert gamma_delta.civic_level == "C"


def test_cold_nsclc_flags_inflammation() -> None:
    p = ip.profile(ip.read_patient(ip.data.example_path("nsclc_cold.json")))
    assert p.values["mgps"].value == 2
    assert p.values["pdl1_tps"].category == "TPS <1%"


def test_cohort_table_has_200_patients_with_outcomes() -> None:
    cohort = ip.read_cohort(ip.data.example_path("fl_cohort.csv"))
    assert len(cohort.records) == 200
    assert len(cohort.outcomes) == 200
    assert all(r.disease.oncotree_code == "FL" for r in cohort.records)
    for outcome in cohort.outcomes:
        assert outcome.os is not None
        assert outcome.pfs is not None
        assert outcome.pfs.value <= outcome.os.value


def test_unknown_example_lists_shipped_ones() -> None:
    with pytest.raises(FileNotFoundError, match=r"crc_msih\.json"):
        ip.data.example_path("nope.json")


def _profiles() -> dict[str, ip.ImmuneProfile]:
    return {
        name: ip.profile(ip.read_patient(ip.data.example_path(f"{name}.json")))
        for name in EXPECTED_FIRST
    }


def test_example_profiles_are_distinct_and_clinically_sensible() -> None:
    p = _profiles()
    immunograms = {
        name: tuple(v.value for k, v in prof.values.items() if k.startswith("immunogram."))
        for name, prof in p.items()
    }
    assert len(set(immunograms.values())) == len(immunograms)  # six different immunograms
    # MSI-H colorectal cancer: foreign, inflamed, High Immunoscore
    crc = p["crc_msih"].values
    assert crc["immunogram.tumor_foreignness"].value == 1.0
    assert (crc["immune_phenotype"].value, crc["immunoscore"].category) == ("inflamed", "High")
    # the "cold" NSCLC: desert, Low Immunoscore, inflamed host (mGPS 2), PD-L1 < 1 %
    cold = p["nsclc_cold"].values
    assert (cold["immune_phenotype"].value, cold["immunoscore"].category) == (
        "immune-desert",
        "Low",
    )
    assert cold["mgps"].value == 2
    assert cold["pdl1_tps"].category == "TPS <1%"
    # BRAF V600E melanoma: actionable driver, inflamed
    assert p["melanoma_braf"].values["driver.BRAF"].category == "BRAF V600"
    # B-ALL after chemotherapy: grade-3 lymphopenia scores the general immune status 0
    ball = p["ball_cd19"].values
    assert ball["lymphocytes"].category == "grade 3"
    assert ball["immunogram.general_immune_status"].value == 0.0
    # haematological examples carry no Immunoscore or phenotype
    for name in ("fl_relapsed", "mm_post_asct", "ball_cd19"):
        assert "immunoscore" not in p[name].values
