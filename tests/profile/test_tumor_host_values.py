"""Tumor and host values added for the full immune profile — hand-computed, at every cut-off."""

from __future__ import annotations

from typing import Any

import pytest

import immunoprecise as ip
from immunoprecise.records import PatientRecord


def _profile(minimal: dict[str, Any]) -> ip.ImmuneProfile:
    return ip.profile(PatientRecord.model_validate(minimal))


@pytest.mark.parametrize(
    ("code", "cps", "category"),
    [
        ("HNSC", 0.5, "CPS <1"),
        ("HNSC", 1, "CPS 1–19"),
        ("HNSC", 19.9, "CPS 1–19"),
        ("HNSC", 20, "CPS ≥20"),
        ("STAD", 4.9, "CPS <5"),
        ("STAD", 5, "CPS ≥5"),
        ("BRCA", 9, "CPS <10"),
        ("BRCA", 10, "CPS ≥10"),
        ("LUAD", 50, None),  # no CPS cut-off for lung cancer
    ],
)
def test_pdl1_cps_categories_per_disease(
    minimal: dict[str, Any], code: str, cps: float, category: str | None
) -> None:
    minimal["disease"]["oncotree_code"] = code
    minimal["tumor"]["pdl1_cps"] = cps
    value = _profile(minimal).values["pdl1_cps"]
    assert (value.value, value.category) == (cps, category)


@pytest.mark.parametrize(
    ("driver", "category"),
    [
        (("BRAF", "V600E"), "BRAF V600"),
        (("BRAF", "p.V600K"), "BRAF V600"),
        (("EGFR", "L858R"), "EGFR sensitizing"),
        (("ALK", "EML4-ALK fusion"), "ALK fusion"),
        (("KRAS", "G12C"), "KRAS G12C"),
        (("KRAS", "G12D"), None),
        # HGVS 3-letter protein notation, with or without "p.", and within a longer text
        (("BRAF", "p.Val600Glu"), "BRAF V600"),
        (("BRAF", "Val600Lys"), "BRAF V600"),
        (("BRAF", "c.1799T>A (p.V600E)"), "BRAF V600"),
        (("BRAF", "c.1799T>A (p.Val600Glu)"), "BRAF V600"),
        (("BRAF", "p.(Val600Glu)"), "BRAF V600"),
        (("EGFR", "p.Leu858Arg"), "EGFR sensitizing"),
        (("EGFR", "p.L858R"), "EGFR sensitizing"),
        (("EGFR", "p.Glu746_Ala750del"), "EGFR sensitizing"),
        (("EGFR", "c.2235_2249del (p.Glu746_Ala750del)"), "EGFR sensitizing"),
        (("KRAS", "p.Gly12Cys"), "KRAS G12C"),
        (("KRAS", "p.Gly12Asp"), None),
        (("BRAF", "p.Val6000Glu"), None),  # another position, not V600
        # a negative test matches no driver, even where the pattern would
        (("BRAF", "V600E not detected"), None),
        (("EGFR", "wild type"), None),
        (("ALK", "no fusion detected"), None),
    ],
)
def test_actionable_drivers(
    minimal: dict[str, Any], driver: tuple[str, str], category: str | None
) -> None:
    gene, alteration = driver
    minimal["tumor"]["driver_mutations"] = [{"gene": gene, "alteration": alteration}]
    value = _profile(minimal).values[f"driver.{gene}"]
    assert (value.value, value.category) == (alteration, category)
    assert bool(value.references) == (category is not None)


def test_immune_escape_alteration(minimal: dict[str, Any]) -> None:
    minimal["tumor"]["driver_mutations"] = [{"gene": "JAK1", "alteration": "Q503*"}]
    value = _profile(minimal).values["immune_escape"]
    assert (value.value, value.category) == ("JAK1 loss of function", "impaired")
    minimal["tumor"]["driver_mutations"] = [{"gene": "KRAS", "alteration": "G12D"}]
    assert "immune_escape" not in _profile(minimal).values  # absence is not shown as "intact"


@pytest.mark.parametrize(
    ("il6", "category"), [(7.0, "≤7 pg/mL"), (7.01, ">7 pg/mL"), (2.0, "≤7 pg/mL")]
)
def test_il6(minimal: dict[str, Any], il6: float, category: str) -> None:
    minimal["host"]["il6"] = il6
    value = _profile(minimal).values["il6"]
    assert (value.value, value.unit, value.category) == (il6, "pg/mL", category)


@pytest.mark.parametrize(
    ("ldh", "ratio", "category"),
    [
        (250, 1.0, "≤ULN"),
        (251, 1.004, ">1–2× ULN"),
        (500, 2.0, ">1–2× ULN"),
        (501, 2.004, ">2× ULN"),
    ],
)
def test_ldh_ratio(minimal: dict[str, Any], ldh: float, ratio: float, category: str) -> None:
    minimal["host"].update(ldh=ldh, ldh_uln=250)
    value = _profile(minimal).values["ldh_ratio"]
    assert (value.value, value.category) == (ratio, category)
    assert value.references[0].doi == "10.1007/s00262-014-1528-9"


def _flow(minimal: dict[str, Any], **counts: float) -> ip.ImmuneProfile:
    minimal["host"]["flow"] = counts
    return _profile(minimal)


@pytest.mark.parametrize(
    ("cd4", "cd8", "ratio", "category"),
    [(500, 500, 1.0, "≥1"), (495, 500, 0.99, "inverted (<1)"), (900, 300, 3.0, "≥1")],
)
def test_cd4_cd8_ratio_immune_risk_profile(
    minimal: dict[str, Any], cd4: float, cd8: float, ratio: float, category: str
) -> None:
    value = _flow(minimal, cd4=cd4, cd8=cd8).values["cd4_cd8_ratio"]
    assert (value.value, value.category) == (ratio, category)


@pytest.mark.parametrize(
    ("treg", "fraction", "category"),
    [(50, 5.0, "≤5%"), (51, 5.1, ">5–10%"), (100, 10.0, ">5–10%"), (101, 10.1, ">10%")],
)
def test_treg_fraction_of_cd4(
    minimal: dict[str, Any], treg: float, fraction: float, category: str
) -> None:
    value = _flow(minimal, treg=treg, cd4=1000).values["treg_fraction"]
    assert (value.value, value.unit, value.category) == (fraction, "% of CD4+", category)


def test_effector_counts(minimal: dict[str, Any]) -> None:
    p = _flow(minimal, cd8=350, nk_cd56bright=15, nk_cd56dim=185, gamma_delta_vg9vd2=40, nkt=25)
    counts = {k: p.values[f"effector_count.{k}"].value for k in ("cd8", "nk", "gamma_delta", "nkt")}
    assert counts == {"cd8": 350, "nk": 200, "gamma_delta": 40, "nkt": 25}
    assert p.values["effector_count.nk"].unit == "cells/µL"


def test_nk_count_needs_both_subsets(minimal: dict[str, Any]) -> None:
    p = _flow(minimal, cd8=350, nk_cd56dim=185)
    # a partial NK count is never the NK count — and the recorded subset is not hidden either
    value = p.values["effector_count.nk"]
    assert (value.status, value.value) == ("not_assessable", None)
    assert value.missing == ("host.flow.nk_cd56bright",)
    assert "one is not recorded" in (value.note or "")


def test_nk_count_is_left_out_when_neither_subset_is_recorded(minimal: dict[str, Any]) -> None:
    assert "effector_count.nk" not in _flow(minimal, cd8=350).values
