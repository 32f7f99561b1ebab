"""Effector:target estimates and the cancer immunogram — hand-computed."""

from __future__ import annotations

import math
from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.knowledge import AxisComponent, load_knowledge_base
from immunoprecise.records import PatientRecord


def _profile(minimal: dict[str, Any]) -> ip.ImmuneProfile:
    return ip.profile(PatientRecord.model_validate(minimal))


def _burden(minimal: dict[str, Any], **measures: float) -> None:
    minimal["disease"]["burden"] = [{"date": "2026-01-01", **measures}]


@pytest.mark.parametrize(
    ("measures", "cells"),
    [
        # sphere of diameter 20 mm = 2 cm: π/6 · 8 cm³ × 1e9 cells/cm³
        ({"sum_of_diameters": 20}, round(math.pi / 6 * 8 * 1e9, -3)),
        ({"spd": 400}, round(math.pi / 6 * 8 * 1e9, -3)),  # √400 mm = 2 cm
        ({"cell_count": 1e10, "sum_of_diameters": 20}, 1e10),  # a recorded count wins
    ],
)
def test_tumor_cell_number(
    minimal: dict[str, Any], measures: dict[str, float], cells: float
) -> None:
    _burden(minimal, **measures)
    value = _profile(minimal).values["tumor_cells"]
    assert value.value == cells
    assert value.unit == "cells"
    assert value.references[0].doi == "10.4161/cc.8.3.7608"


def test_recorded_cell_count_is_used_as_is_not_rounded(minimal: dict[str, Any]) -> None:
    # "a recorded cell count is used as is": only the volume estimate is rounded to thousands
    _burden(minimal, cell_count=1400)
    minimal["host"]["flow"] = {"cd8": 400}
    p = _profile(minimal)
    assert p.values["tumor_cells"].value == 1400
    assert p.values["et_ratio.blood_cd8"].value == float(f"{2e9 / 1400:.3g}")


def test_ratio_against_no_measurable_tumour_says_why_it_is_undefined(
    minimal: dict[str, Any],
) -> None:
    _burden(minimal, sum_of_diameters=0)  # RECIST complete response
    minimal["host"]["flow"] = {"cd8": 400}
    p = _profile(minimal)
    assert p.values["tumor_cells"].value == 0
    for key in ("et_ratio.blood_cd8", "et_ratio.lak_dose"):
        value = p.values[key]
        assert value.status == "not_assessable"
        assert "tumour cell number is 0" in (value.note or "")


def test_latest_burden_is_used(minimal: dict[str, Any]) -> None:
    minimal["disease"]["burden"] = [
        {"date": "2026-03-01", "cell_count": 2e9},
        {"date": "2025-01-01", "cell_count": 9e9},
    ]
    assert _profile(minimal).values["tumor_cells"].value == 2e9


def test_each_burden_measure_comes_from_the_latest_entry_that_has_it(
    minimal: dict[str, Any],
) -> None:
    minimal["disease"] = {"diagnosis": "B-ALL", "oncotree_code": "BLL"}
    minimal["disease"]["burden"] = [
        {"date": "2026-01-10", "marrow_blasts": 30, "m_protein": 12},
        {"date": "2026-03-01", "marrow_blasts": 62, "sum_of_diameters": 40},
        {"date": "2026-03-20", "cell_count": 1e11},  # the latest entry: no blasts recorded
    ]
    p = _profile(minimal)
    blasts = p.values["marrow_blasts"]
    assert blasts.status == "assessed"
    assert blasts.value == 62.0  # 2026-03-01, not dropped, not the older 30
    # the newest tumour size wins (the count of 2026-03-20, not the 40 mm of 2026-03-01)
    assert p.values["tumor_cells"].value == 1e11


def test_an_older_cell_count_does_not_stand_in_for_a_newer_size(
    minimal: dict[str, Any],
) -> None:
    minimal["disease"]["burden"] = [
        {"date": "2025-06-01", "cell_count": 9e12},
        {"date": "2026-03-01", "sum_of_diameters": 20, "marrow_blasts": 5},
    ]
    assert _profile(minimal).values["tumor_cells"].value == round(math.pi / 6 * 8 * 1e9, -3)


def test_marrow_only_burden_is_not_converted(minimal: dict[str, Any]) -> None:
    _burden(minimal, marrow_blasts=60)
    value = _profile(minimal).values["tumor_cells"]
    assert value.status == "not_assessable"
    assert "no documented conversion" in (value.note or "")


def test_effector_target_ratios(minimal: dict[str, Any]) -> None:
    _burden(minimal, sum_of_diameters=20)
    minimal["host"]["flow"] = {"cd8": 400}
    minimal["microenvironment"] = {
        "densities": [{"marker": "CD8", "region": "tumor_core", "density": 100}]
    }
    p = _profile(minimal)
    tumor = math.pi / 6 * 8 * 1e9
    # 400 cells/µL × 5e6 µL = 2e9 CD8+ T cells
    assert p.values["et_ratio.blood_cd8"].value == float(f"{2e9 / round(tumor, -3):.3g}")
    # 100 cells/mm² ÷ (0.004 + 0.006) mm × 1000 = 1e7 per cm³, against 1e9 tumour cells per cm³
    assert p.values["et_ratio.infiltrating_cd8"].value == 0.01
    assert p.values["et_ratio.lak_dose"].value == float(f"{2e11 / round(tumor, -3):.3g}")
    assert p.values["et_ratio.cik_dose_low"].value == float(f"{5e9 / round(tumor, -3):.3g}")


def test_effector_target_names_missing_inputs(minimal: dict[str, Any]) -> None:
    minimal["host"]["flow"] = {"cd8": 400}
    value = _profile(minimal).values["et_ratio.blood_cd8"]
    assert value.status == "not_assessable"
    assert "disease.burden[latest].sum_of_diameters" in value.missing
    assert "host.flow.cd8" not in value.missing


@pytest.mark.parametrize(
    ("tmb", "msi", "score"),
    [
        (10, "MSS", 1.0),
        (1, "MSS", 0.0),
        (math.sqrt(10), "MSS", 0.5),
        (0.5, "MSS", 0.0),
        (2, "MSI-H", 1.0),
        (40, "MSS", 1.0),
    ],
)
def test_tumor_foreignness_axis(
    minimal: dict[str, Any], tmb: float, msi: str, score: float
) -> None:
    minimal["tumor"] = {"tmb": tmb, "msi_status": msi}
    assert _profile(minimal).values["immunogram.tumor_foreignness"].value == score


def test_immunogram_axes_hand_computed(minimal: dict[str, Any]) -> None:
    minimal["tumor"].update(pdl1_tps=25, mhc_class_i="reduced")
    minimal["host"].update(crp=20, il6=5, ldh=375, ldh_uln=250)
    minimal["host"]["blood"] = {"lymphocytes": 750}
    axes = {
        k.split(".", 1)[1]: v
        for k, v in _profile(minimal).values.items()
        if k.startswith("immunogram.")
    }
    assert axes["general_immune_status"].value == 0.5  # 750 between 500 and 1000
    assert axes["absence_of_checkpoints"].value == 0.5  # TPS 25 % of the 50 % anchor
    assert axes["absence_of_soluble_inhibitors"].value == 0.5  # CRP > 10 (0), IL-6 ≤ 7 (1)
    assert axes["absence_of_inhibitory_metabolism"].value == 0.5  # LDH 1.5 × ULN
    assert axes["tumor_sensitivity_to_immune_effectors"].value == 0.5  # MHC-I reduced
    assert all(v.unit == "score (0–1)" for v in axes.values())
    assert axes["general_immune_status"].references[0].doi == "10.1126/science.aaf2834"


def test_escape_mutation_lowers_sensitivity_axis_to_zero(minimal: dict[str, Any]) -> None:
    minimal["tumor"].update(
        mhc_class_i="normal", driver_mutations=[{"gene": "JAK2", "alteration": "frameshift (fs)"}]
    )
    axis = _profile(minimal).values["immunogram.tumor_sensitivity_to_immune_effectors"]
    assert axis.value == 0.0


def test_missing_axis_is_missing_not_zero(minimal: dict[str, Any]) -> None:
    axis = _profile(minimal).values["immunogram.absence_of_checkpoints"]
    assert axis.status == "not_assessable"
    assert axis.value is None
    assert axis.missing == ("pdl1_tps",)


@pytest.mark.parametrize(
    ("tumor", "value", "note"),
    [
        # max axis: MSS scores nothing, so with TMB missing there is nothing to score
        ({"msi_status": "MSS"}, None, None),
        # max axis already at 1 from MSI-H: the missing TMB cannot change it
        (
            {"msi_status": "MSI-H"},
            1.0,
            "partial: scored from msi_status only; not available: tmb (the axis is the highest "
            "of its components, already 1: a missing one cannot change it)",
        ),
        # max axis below 1 from TMB alone: a missing MSI status could raise it
        (
            {"tmb": math.sqrt(10)},
            0.5,
            "partial: scored from tmb only; not available: msi_status (the axis is the highest "
            "of its components: a missing one may raise it)",
        ),
        ({"tmb": math.sqrt(10), "msi_status": "MSS"}, 0.5, None),
    ],
)
def test_max_axis_scored_from_some_components_names_the_missing_ones(
    minimal: dict[str, Any], tumor: dict[str, Any], value: float | None, note: str | None
) -> None:
    minimal["tumor"] = tumor
    axis = _profile(minimal).values["immunogram.tumor_foreignness"]
    assert axis.value == value
    assert axis.note == note
    if value is None:
        assert axis.status == "not_assessable"
        assert axis.missing == ("tmb",)


def test_min_axis_scored_from_some_components_names_the_missing_ones(
    minimal: dict[str, Any],
) -> None:
    # no escape alteration among the reported mutations (none reported is an empty list):
    # nothing is missing, and the axis is MHC class I's score
    minimal["tumor"].update(mhc_class_i="reduced", driver_mutations=[])
    axis = _profile(minimal).values["immunogram.tumor_sensitivity_to_immune_effectors"]
    assert (axis.status, axis.value, axis.note) == ("assessed", 0.5, None)
    minimal["tumor"]["driver_mutations"] = [{"gene": "KRAS", "alteration": "G12D"}]
    axis = _profile(minimal).values["immunogram.tumor_sensitivity_to_immune_effectors"]
    assert (axis.value, axis.note) == (0.5, None)
    # an escape alteration scores 0 whatever the missing MHC class I status would add
    minimal["tumor"].pop("mhc_class_i")
    minimal["tumor"]["driver_mutations"] = [{"gene": "JAK2", "alteration": "frameshift (fs)"}]
    axis = _profile(minimal).values["immunogram.tumor_sensitivity_to_immune_effectors"]
    assert axis.value == 0.0
    assert axis.note == (
        "partial: scored from immune_escape only; not available: mhc_class_i (the axis is the "
        "lowest of its components, already 0: a missing one cannot change it)"
    )
    minimal["tumor"]["driver_mutations"] = []  # neither scored: not assessable, never 0
    axis = _profile(minimal).values["immunogram.tumor_sensitivity_to_immune_effectors"]
    assert (axis.status, axis.value, axis.note) == ("not_assessable", None, None)
    assert "mhc_class_i" in axis.missing


def test_mean_axis_scored_from_some_components_names_the_missing_ones(
    minimal: dict[str, Any],
) -> None:
    minimal["host"].update(crp=20)
    minimal["host"].pop("il6", None)
    axis = _profile(minimal).values["immunogram.absence_of_soluble_inhibitors"]
    assert axis.value == 0.0
    assert axis.note == (
        "partial: scored from crp only; not available: il6 (the axis is the mean of its "
        "components: a missing one may change it)"
    )
    minimal["host"].update(il6=5)
    assert _profile(minimal).values["immunogram.absence_of_soluble_inhibitors"].note is None


@pytest.mark.parametrize(
    ("value", "host", "score"),
    [
        ("mgps", {"crp": {"value": 3, "unit": "mg/L"}}, 1.0),  # mGPS 0
        (
            "mgps",
            {"crp": {"value": 25, "unit": "mg/L"}, "albumin": {"value": 30, "unit": "g/L"}},
            0.0,
        ),
        ("ecog", {}, 0.5),  # ECOG 1
    ],
)
def test_categories_of_a_whole_number_score_by_the_number(
    minimal: dict[str, Any], value: str, host: dict[str, Any], score: float
) -> None:
    # a site's axis scoring the mGPS or ECOG ("0": 1, "1": 0.5, "2": 0) was never scored: the
    # value, held as 2.0, was looked up as "2.0", and the axis came out not assessable
    kb = load_knowledge_base()
    first = kb.immunogram[0]
    component = AxisComponent(value=value, scale="categories", scores={"0": 1, "1": 0.5, "2": 0})
    axis = first.model_copy(update={"components": (component,), "combine": "mean"})
    site = kb.model_copy(update={"immunogram": (axis, *kb.immunogram[1:])})
    minimal["host"] = host
    profile = ip.profile(PatientRecord.model_validate(minimal), knowledge_base=site)
    assert profile.values[f"immunogram.{first.id}"].value == score
