"""The vectorized path decides exactly as recommend() does, patient by patient."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.data.synthetic import synthetic_table


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
    decided = statuses = 0
    for record in records:
        plan = ip.recommend(ip.profile(record))
        row = plans.loc[record.patient.id]
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
