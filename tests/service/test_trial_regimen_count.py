"""The trial route refuses too many regimens with the library's own limit and wording.

Before, it said "give 1 to 10 regimens" from a limit of its own, where a trial design (API,
CLI) says "give 1 to 10 arms".
"""

from __future__ import annotations

from immunoprecise.dynamics.trials.design import MAX_ARMS, arm_count_refusal
from service.service_server import Server


def test_too_many_regimens_are_refused_as_a_design_with_too_many_arms(server: Server) -> None:
    n = MAX_ARMS + 1
    request = {
        "model": "cartmath2021",
        "regimens": {f"arm {k}": f"CAR-T 1e6 cells d{k}" for k in range(n)},
        "t_end": 60,
        "n_virtual": 2,
        "control": False,
    }
    with server.client("researcher") as researcher:
        refused = researcher.post("/api/v1/trials", json=request)
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert [d["field"] for d in detail] == ["body.regimens"]
    assert detail[0]["message"] == arm_count_refusal(n) == f"give 1 to {MAX_ARMS} arms, not {n}"
