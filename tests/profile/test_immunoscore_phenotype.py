"""Immunoscore against a replaceable reference, and the immune phenotype — hand-computed."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import immunoprecise as ip
from immunoprecise.knowledge import KnowledgeBase, default_knowledge_dir, load_knowledge_base
from immunoprecise.profile import density_reference_from_table
from immunoprecise.records import PatientRecord

# A site reference where every density maps to an easy percentile: 0 → 0, 100 → 50, 200 → 100.
SITE_REFERENCE = {
    "version": "site-test-1",
    "description": "test reference: linear 0-200 cells/mm2",
    "references": ["pages2018"],
    "percentiles": [0, 50, 100],
    "densities": {
        m: {r: [0, 100, 200] for r in ("tumor_core", "invasive_margin")} for m in ("CD3", "CD8")
    },
}


@pytest.fixture(scope="module")
def site_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    target = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(default_knowledge_dir(), target)
    (target / "immunoscore_reference.yaml").write_text(yaml.safe_dump(SITE_REFERENCE))
    return load_knowledge_base(target)


def _record(minimal: dict[str, Any], densities: dict[tuple[str, str], float]) -> PatientRecord:
    minimal["microenvironment"] = {
        "densities": [{"marker": m, "region": r, "density": d} for (m, r), d in densities.items()]
    }
    return PatientRecord.model_validate(minimal)


def _four(cd3_ct: float, cd3_im: float, cd8_ct: float, cd8_im: float) -> dict[Any, float]:
    return {
        ("CD3", "tumor_core"): cd3_ct,
        ("CD3", "invasive_margin"): cd3_im,
        ("CD8", "tumor_core"): cd8_ct,
        ("CD8", "invasive_margin"): cd8_im,
    }


@pytest.mark.parametrize(
    ("densities", "mean", "group", "is_group"),
    [
        # percentiles 25, 25, 25, 25 → 25: the upper edge of Low and of IS1
        ((50, 50, 50, 50), 25.0, "Low", "IS1"),
        ((50, 50, 50, 52), 25.25, "Intermediate", "IS2"),  # 25, 25, 25, 26
        ((20, 20, 20, 20), 10.0, "Low", "IS0"),
        ((140, 140, 140, 140), 70.0, "Intermediate", "IS2"),
        ((140, 140, 140, 142), 70.25, "High", "IS3"),
        ((190, 190, 190, 190), 95.0, "High", "IS3"),
        ((200, 200, 200, 5000), 100.0, "High", "IS4"),  # above the table: 100th
        ((0, 100, 200, 100), 50.0, "Intermediate", "IS2"),
    ],
)
def test_immunoscore_mean_percentile_and_groups(
    minimal: dict[str, Any],
    site_kb: KnowledgeBase,
    densities: tuple[float, float, float, float],
    mean: float,
    group: str,
    is_group: str,
) -> None:
    p = ip.profile(_record(minimal, _four(*densities)), knowledge_base=site_kb)
    score = p.values["immunoscore"]
    assert score.value == pytest.approx(mean)
    assert score.category == group
    assert p.values["immunoscore_group"].category == is_group
    assert score.unit == "percentile"
    assert "site-test-1" in score.method  # the reference used is named
    assert score.references[0].doi == "10.1016/S0140-6736(18)30789-X"


def test_component_percentiles_interpolate(minimal: dict[str, Any], site_kb: KnowledgeBase) -> None:
    p = ip.profile(_record(minimal, _four(30, 150, 75, 10)), knowledge_base=site_kb)
    got = [p.values[f"immunoscore.percentile.{m}.{r}"].value for m, r in _four(0, 0, 0, 0)]
    assert got == [15.0, 75.0, 37.5, 5.0]


def test_immunoscore_needs_all_four_densities(
    minimal: dict[str, Any], site_kb: KnowledgeBase
) -> None:
    densities = _four(50, 50, 50, 50)
    del densities[("CD8", "invasive_margin")]
    p = ip.profile(_record(minimal, densities), knowledge_base=site_kb)
    score = p.values["immunoscore"]
    assert score.status == "not_assessable"
    assert score.missing == ("microenvironment.densities[CD8, invasive_margin]",)
    assert p.values["immunoscore.percentile.CD3.tumor_core"].value == 25.0


def test_shipped_reference_median_is_the_documented_median() -> None:
    ref = load_knowledge_base().immunoscore_reference
    median = ref.densities["CD8"]["tumor_core"][ref.percentiles.index(50)]
    assert median == 25.2  # Michel 2008 MSS intraepithelial CD8, 6.3 per 0.25 mm² × 4
    assert "not the consensus Immunoscore cohort" in ref.description


def test_no_immunoscore_for_lymphoma() -> None:
    p = ip.profile(ip.read_patient(ip.data.example_path("fl_relapsed.json")))
    assert "immunoscore" not in p.values
    assert "immune_phenotype" not in p.values


@pytest.mark.parametrize(
    ("core", "margin", "phenotype", "hot_cold"),
    [
        (130.0, None, "inflamed", "hot"),
        (129.9, 260.0, "immune-excluded", "altered (excluded)"),
        (129.9, 259.9, "immune-desert", "cold"),
        (500.0, 10.0, "inflamed", "hot"),
    ],
)
def test_immune_phenotype_cut_offs(
    minimal: dict[str, Any], core: float, margin: float | None, phenotype: str, hot_cold: str
) -> None:
    densities = {("CD8", "tumor_core"): core}
    if margin is not None:
        densities[("CD8", "invasive_margin")] = margin
    value = ip.profile(_record(minimal, densities)).values["immune_phenotype"]
    assert (value.value, value.category) == (phenotype, hot_cold)
    assert {c.id for c in value.references} >= {"park2022", "galon2019"}


@pytest.mark.parametrize(
    ("densities", "missing"),
    [
        ({}, ("microenvironment.densities[CD8, tumor_core]",)),
        (
            {("CD8", "tumor_core"): 20.0},
            ("microenvironment.densities[CD8, invasive_margin]",),
        ),
    ],
)
def test_immune_phenotype_not_assessable_names_what_decides_it(
    minimal: dict[str, Any], densities: dict[Any, float], missing: tuple[str, ...]
) -> None:
    value = ip.profile(_record(minimal, densities)).values["immune_phenotype"]
    assert value.status == "not_assessable"
    assert value.missing[: len(missing)] == missing


def test_density_reference_from_a_site_cohort() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            f"{m}_{r}": rng.lognormal(math.log(100), 0.5, 400)
            for m in ("CD3", "CD8")
            for r in ("tumor_core", "invasive_margin")
        }
    )
    ref = density_reference_from_table(
        frame, version="site", description="400 tumours", references=["pages2018"]
    )
    table = ref.densities["CD8"]["tumor_core"]
    assert table[ref.percentiles.index(50)] == pytest.approx(
        float(np.median(frame["CD8_tumor_core"]))
    )
    with pytest.raises(ip.ValidationError, match="CD3_tumor_core"):
        density_reference_from_table(
            frame.drop(columns="CD3_tumor_core"),
            version="x",
            description="x",
            references=["pages2018"],
        )


@pytest.mark.parametrize("bad", ["12,5", True, math.inf, "n/a"])
def test_density_reference_refuses_unreadable_cells_instead_of_dropping_them(bad: object) -> None:
    # documented: a non-numeric value is refused; it was silently dropped (and inf gave an
    # error that named neither the column nor the value)
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            f"{m}_{r}": rng.lognormal(math.log(100), 0.5, 30)
            for m in ("CD3", "CD8")
            for r in ("tumor_core", "invasive_margin")
        }
    ).astype(object)
    frame.loc[4, "CD8_invasive_margin"] = bad
    with pytest.raises(ip.ValidationError) as info:
        density_reference_from_table(frame, version="x", description="x", references=["pages2018"])
    (problem,) = info.value.problems
    assert problem.field == "column CD8_invasive_margin"
    assert problem.value == bad
    assert "row 4" in problem.message
    assert "finite number" in problem.message


def test_density_reference_reads_an_empty_cell_as_missing() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            f"{m}_{r}": rng.lognormal(math.log(100), 0.5, 30)
            for m in ("CD3", "CD8")
            for r in ("tumor_core", "invasive_margin")
        }
    )
    frame.loc[4, "CD8_invasive_margin"] = np.nan
    ref = density_reference_from_table(
        frame, version="x", description="x", references=["pages2018"]
    )
    assert ref.densities["CD8"]["invasive_margin"][-1] == frame["CD8_invasive_margin"].max()


def test_invalid_reference_distribution_is_named(tmp_path: Path) -> None:
    target = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), target)
    broken = {**SITE_REFERENCE, "densities": {"CD3": {"tumor_core": [0, 100, 50]}}}
    (target / "immunoscore_reference.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(ip.KnowledgeBaseError, match=r"immunoscore_reference\.yaml"):
        load_knowledge_base(target)
