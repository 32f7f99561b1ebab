"""The vectorized path decides exactly as recommend() does, patient by patient."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.data.synthetic import synthetic_table
from immunoprecise.knowledge import load_knowledge_base
from immunoprecise.knowledge.base import default_knowledge_dir


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "patients.csv"
    synthetic_table(1000, seed=4242).to_csv(path, index=False)
    return path


def test_recommend_table_equals_per_profile_plans(thousand: Path) -> None:
    plans = ip.recommend_table(thousand)
    records = ip.read_cohort(thousand).records
    assert list(plans.index) == [r.patient.id for r in records]
    therapies = [
        t for t in plans.columns.get_level_values(0).unique() if t not in ("plan", "strategy")
    ]
    strategy_columns = [c for c in plans.columns if c[0] == "strategy"]
    rows = plans.to_dict(orient="index")  # the same cells, read without pandas indexing
    decided = statuses = 0
    for record in records:
        plan = ip.recommend(ip.profile(record))
        row = rows[record.patient.id]
        expected = {
            o.therapy_id: (o.status, o.score) for o in (*plan.options, *plan.contraindicated)
        }
        got = {
            t: (row[(t, "status")], int(row[(t, "score")]))
            for t in therapies
            if pd.notna(row[(t, "status")])
        }
        assert got == expected, record.patient.id
        top = row[("plan", "top")]
        assert (top if pd.notna(top) else None) == (
            plan.options[0].therapy_id if plan.options else None
        )
        proposed = {c[1]: row[c] for c in strategy_columns if pd.notna(row[c])}
        assert proposed == {s.strategy_id: s.status for s in plan.strategies}, record.patient.id
        decided += bool(plan.options)
        statuses += len(expected)
    # the synthetic table exercises many rules and every status
    assert decided > 600
    assert statuses > 2000
    seen = set(pd.unique(plans.xs("status", axis=1, level=1).to_numpy().ravel()))
    assert {"indicated", "favoured", "disfavoured", "contraindicated"} <= seen
    assert len(strategy_columns) >= 6


def test_recommend_frame_takes_profiles_and_diseases() -> None:
    table = synthetic_table(50, seed=7)
    profiles = ip.profile_table(table)
    plans = ip.recommend_frame(profiles, table["oncotree_code"].to_numpy())
    assert plans.index.equals(profiles.index)
    assert plans[("plan", "top")].notna().any()


def test_a_contraindicated_strategy_step_blocks_the_strategy_in_both_paths(
    tmp_path: Path,
) -> None:
    # a site's rule contraindicating a strategy step that no rule supports for the disease
    kb_dir = tmp_path / "kb"
    shutil.copytree(default_knowledge_dir(), kb_dir)
    with (kb_dir / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write(
            "- id: site_tlr9_autoimmunity_contraindication\n"
            "  family: caution\n"
            "  therapies: [tlr9_in_situ_vaccination]\n"
            "  effect: contraindicate\n"
            "  when: {value: autoimmune_disease, is_true: true}\n"
            "  evidence: {civic: E}\n"
            "  rationale: A site's rule, for this test.\n"
            "  references: [diehl2017]\n"
        )
    kb = load_knowledge_base(kb_dir)
    table = pd.DataFrame(
        {
            "patient_id": ["AI", "NO-AI"],
            "diagnosis": ["colon adenocarcinoma"] * 2,
            "oncotree_code": ["COAD"] * 2,
            "disease_status": ["relapsed"] * 2,
            "autoimmune_diseases": ["ulcerative colitis", ""],
            "msi_status": ["MSS"] * 2,
            "ihc_cd8_tumor_core_cells_per_mm2": [20.0] * 2,
            "ihc_cd8_invasive_margin_cells_per_mm2": [300.0] * 2,
        }
    )
    path = tmp_path / "two.csv"
    table.to_csv(path, index=False)
    plans = ip.recommend_table(path, knowledge_base=kb)
    sid = "cold_tumour_in_situ_vaccination_anti_pd1"
    for record in ip.read_cohort(path).records:
        plan = ip.recommend(ip.profile(record, knowledge_base=kb), knowledge_base=kb)
        strategy = next(s for s in plan.strategies if s.strategy_id == sid)
        step = next(s for s in strategy.steps if s.therapy_id == "tlr9_in_situ_vaccination")
        expected = "contraindicated" if record.patient.id == "AI" else "proposed"
        assert strategy.status == expected
        assert plans.loc[record.patient.id, ("strategy", sid)] == expected
        if expected == "contraindicated":
            assert step.option_status == "contraindicated"
            assert step.cautions == ("site_tlr9_autoimmunity_contraindication",)


def test_low_resolution_hla_typing_is_undecided_in_both_paths(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "patient_id": ["LOW", "HIGH", "OTHER"],
            "diagnosis": ["metastatic uveal melanoma"] * 3,
            "oncotree_code": ["UM"] * 3,
            "hla_type": ["A*02; A*24", "A*02:01; A*24:02", "A*03:01; A*24:02"],
        }
    )
    path = tmp_path / "uveal.csv"
    table.to_csv(path, index=False)
    plans = ip.recommend_table(path)
    expected = {"LOW": None, "HIGH": "indicated", "OTHER": "contraindicated"}
    for record in ip.read_cohort(path).records:
        plan = ip.recommend(ip.profile(record))
        statuses = {o.therapy_id: o.status for o in (*plan.options, *plan.contraindicated)}
        want = expected[record.patient.id]
        assert statuses.get("tebentafusp") == want
        got = plans.loc[record.patient.id, ("tebentafusp", "status")]
        assert (got if pd.notna(got) else None) == want
