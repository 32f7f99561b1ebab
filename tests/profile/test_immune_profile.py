"""The immune profile: values with provenance, categories from knowledge-base thresholds, and
missing inputs named instead of imputed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import immunoprecise as ip
from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import default_knowledge_dir
from immunoprecise.records import PatientRecord


def _fl(if_cd8: float | None, if_foxp3: float | None) -> PatientRecord:
    densities = []
    if if_cd8 is not None:
        densities.append({"marker": "CD8", "region": "interfollicular", "density": if_cd8})
    if if_foxp3 is not None:
        densities.append({"marker": "FOXP3", "region": "interfollicular", "density": if_foxp3})
    return PatientRecord.model_validate(
        {
            "patient": {"id": "FL-T"},
            "disease": {"diagnosis": "Follicular lymphoma", "oncotree_code": "FL"},
            "microenvironment": {"densities": densities},
        }
    )


@pytest.mark.parametrize(
    ("cd8", "foxp3", "ratio", "category"),
    [(120, 100, 1.2, "low"), (210, 100, 2.1, "high"), (168, 100, 1.68, "high")],
)
def test_fl_cd8_foxp3_ratio(cd8: float, foxp3: float, ratio: float, category: str) -> None:
    value = ip.profile(_fl(cd8, foxp3)).values["cd8_foxp3_ratio.interfollicular"]
    assert value.status == "assessed"
    assert value.value == pytest.approx(ratio)
    assert value.unit == "ratio"
    assert value.category == category
    assert value.threshold == "fl_cd8_foxp3_ratio_interfollicular"
    assert value.references[0].doi == "10.3892/etm.2010.146"
    assert "59%" in (value.interpretation or "")
    assert value.inputs == (
        "microenvironment.densities[CD8, interfollicular]",
        "microenvironment.densities[FOXP3, interfollicular]",
    )


def test_missing_density_is_named_not_imputed() -> None:
    value = ip.profile(_fl(120, None)).values["cd8_foxp3_ratio.interfollicular"]
    assert value.status == "not_assessable"
    assert value.value is None
    assert value.missing == ("microenvironment.densities[FOXP3, interfollicular]",)


def test_zero_foxp3_gives_reason() -> None:
    value = ip.profile(_fl(120, 0)).values["cd8_foxp3_ratio.interfollicular"]
    assert value.status == "not_assessable"
    assert "undefined" in (value.note or "")


def test_fl_threshold_region_reported_even_when_absent() -> None:
    p = ip.profile(_fl(None, None))
    assert p.values["cd8_foxp3_ratio.interfollicular"].status == "not_assessable"
    assert p.values["density.FOXP3.interfollicular"].missing


def test_fl_thresholds_do_not_apply_to_other_diseases(minimal: dict[str, Any]) -> None:
    minimal["microenvironment"] = {
        "densities": [
            {"marker": "CD8", "region": "interfollicular", "density": 300},
            {"marker": "FOXP3", "region": "interfollicular", "density": 100},
        ]
    }
    value = ip.profile(PatientRecord.model_validate(minimal)).values[
        "cd8_foxp3_ratio.interfollicular"
    ]
    assert value.value == pytest.approx(3.0)
    assert value.category is None


@pytest.mark.parametrize(("tmb", "category"), [(9.9, "TMB-L"), (10, "TMB-H"), (55, "TMB-H")])
def test_tmb_category(minimal: dict[str, Any], tmb: float, category: str) -> None:
    minimal["tumor"]["tmb"] = tmb
    value = ip.profile(PatientRecord.model_validate(minimal)).values["tmb"]
    assert value.category == category
    assert value.references[0].id == "marabelle2020"


@pytest.mark.parametrize(
    ("msi", "mmr", "expected"),
    [
        ("MSI-H", None, "MSI-H"),
        (None, "dMMR", "MSI-H"),
        ("MSS", None, "MSS"),
        (None, "pMMR", "MSS"),
        ("MSS", "dMMR", "MSI-H"),
    ],
)
def test_msi_status(
    minimal: dict[str, Any], msi: str | None, mmr: str | None, expected: str
) -> None:
    minimal["tumor"] = {"msi_status": msi, "mmr_status": mmr}
    value = ip.profile(PatientRecord.model_validate(minimal)).values["msi_status"]
    assert value.value == expected
    assert (value.note is not None) == (msi == "MSS" and mmr == "dMMR")


@pytest.mark.parametrize(
    ("tps", "category"), [(0, "TPS <1%"), (1, "TPS 1–49%"), (49.9, "TPS 1–49%"), (50, "TPS ≥50%")]
)
def test_pdl1_categories_in_nsclc(minimal: dict[str, Any], tps: float, category: str) -> None:
    minimal["disease"]["oncotree_code"] = "LUAD"
    minimal["tumor"]["pdl1_tps"] = tps
    assert ip.profile(PatientRecord.model_validate(minimal)).values["pdl1_tps"].category == category


@pytest.mark.parametrize(
    ("crp", "albumin", "score"),
    [(5, None, 0), (10, 30, 0), (10.5, 36, 1), (40, 34.9, 2), (40, 35, 1)],
)
def test_mgps(minimal: dict[str, Any], crp: float, albumin: float | None, score: int) -> None:
    minimal["host"] = {"crp": crp, "albumin": albumin}
    value = ip.profile(PatientRecord.model_validate(minimal)).values["mgps"]
    assert value.value == score
    assert value.category == f"mGPS {score}"


def test_mgps_needs_albumin_only_when_crp_is_high(minimal: dict[str, Any]) -> None:
    minimal["host"] = {"crp": 25}
    value = ip.profile(PatientRecord.model_validate(minimal)).values["mgps"]
    assert value.status == "not_assessable"
    assert value.missing == ("host.albumin",)


@pytest.mark.parametrize(
    ("alc", "grade"),
    [
        (1500, "no lymphopenia"),
        (1000, "no lymphopenia"),
        (999, "grade 1"),
        (800, "grade 1"),
        (799, "grade 2"),
        (450, "grade 3"),
        (150, "grade 4"),
    ],
)
def test_lymphopenia_grade(minimal: dict[str, Any], alc: float, grade: str) -> None:
    minimal["host"]["blood"] = {"lymphocytes": alc}
    assert ip.profile(PatientRecord.model_validate(minimal)).values["lymphocytes"].category == grade


def test_nlr_and_ldh(minimal: dict[str, Any]) -> None:
    minimal["host"] = {
        "blood": {"neutrophils": "6.3 G/L", "lymphocytes": "0.9 G/L"},
        "ldh": 300,
        "ldh_uln": 250,
    }
    values = ip.profile(PatientRecord.model_validate(minimal)).values
    assert values["nlr"].value == pytest.approx(7.0)
    assert values["ldh_above_uln"].value is True


def test_every_value_has_method_and_provenance(minimal: dict[str, Any]) -> None:
    p = ip.profile(PatientRecord.model_validate(minimal))
    for value in p.values.values():
        assert value.method
        assert value.inputs or value.missing, value.key
        if value.status == "not_assessable":
            assert value.value is None
            assert value.missing or value.note
    assert p.knowledge_base.version == ip.load_knowledge_base().version


def test_missing_formula_threshold_is_a_knowledge_base_error(
    minimal: dict[str, Any], tmp_path: Path
) -> None:
    kb_dir = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), kb_dir)
    thresholds = yaml.safe_load((kb_dir / "thresholds.yaml").read_text(encoding="utf-8"))
    kept = [t for t in thresholds if t["id"] != "albumin_mgps"]
    (kb_dir / "thresholds.yaml").write_text(yaml.safe_dump(kept), encoding="utf-8")
    record = PatientRecord.model_validate(minimal)
    with pytest.raises(KnowledgeBaseError, match="no threshold for 'albumin'"):
        ip.profile(record, knowledge_base=ip.load_knowledge_base(kb_dir))
