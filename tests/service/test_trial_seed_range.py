"""A virtual trial's seed has one range (0 to MAX_SEED) and one wording in a design, the design
upload and the REST trial route, at any size; the design upload names fields from ``body.``."""

from __future__ import annotations

from typing import Any

import pytest

from immunoprecise.dynamics.trials import load_trial_design
from immunoprecise.dynamics.trials.design import MAX_SEED, SEED_RANGE
from immunoprecise.errors import ValidationError
from service.service_server import Server

DESIGN: dict[str, Any] = {
    "name": "seed range",
    "model": "kuznetsov1994+checkpoint",
    "seed": 5,
    "n_per_arm": 200,
    "chunk_size": 100,
    "follow_up_days": 168,
    "population": {"initial": {"T": 2e7}},
    "arms": [{"id": "none", "regimen": ""}, {"id": "pd1", "regimen": "anti-PD-1 200 mg q21d x8"}],
}
TOO_LARGE = [MAX_SEED + 1, 99999999999999999999, 1e30, -1]


@pytest.mark.parametrize("seed", TOO_LARGE)
def test_a_design_refuses_a_seed_outside_the_range(seed: float) -> None:
    with pytest.raises(ValidationError) as refused:
        load_trial_design({**DESIGN, "seed": seed})
    (problem,) = refused.value.problems
    assert problem.field == "seed"
    assert SEED_RANGE in problem.message


def test_the_largest_seed_is_taken() -> None:
    assert load_trial_design({**DESIGN, "seed": MAX_SEED}).seed == MAX_SEED


def test_both_trial_routes_refuse_a_seed_outside_the_range(server: Server) -> None:
    trial = {
        "model": "cartmath2021",
        "regimens": {"a": "CAR-T 1e6 cells d0"},
        "n_virtual": 2,
        "t_end": 60,
    }
    with server.client("researcher") as researcher:
        designs = [
            researcher.post("/api/v1/trials/designs", json={**DESIGN, "seed": s}) for s in TOO_LARGE
        ]
        trials = [researcher.post("/api/v1/trials", json={**trial, "seed": s}) for s in TOO_LARGE]
    for answer in designs + trials:
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "body.seed"
        assert SEED_RANGE in detail["message"]
        assert "9223372036854775807" not in detail["message"]


def test_the_design_upload_names_nested_fields_from_body(server: Server) -> None:
    spec = {"distributions": [{"parameter": "s", "kind": "lognormal", "median": 1, "sd": -1}]}
    bad = {**DESIGN, "population": {"initial": {"T": 2e7}, "spec": spec}}
    with server.client("researcher") as researcher:
        answer = researcher.post("/api/v1/trials/designs", json=bad)
    assert answer.status_code == 422, answer.text
    fields = [d["field"] for d in answer.json()["detail"]]
    assert fields, answer.text
    assert all(f.startswith("body.population.spec.distributions[0]") for f in fields), fields
