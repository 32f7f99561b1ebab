"""Simulations, virtual-trial jobs, cohort uploads and the knowledge base over a real server."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx

import immunoprecise as ip
from immunoprecise.registry import Registry
from service.service_server import Server
from service.test_dashboard import _login

Check = Callable[[httpx.Response], None]


def test_simulate_returns_summary_and_daily_series(server: Server) -> None:
    request = {"model": "cartmath2021", "regimen": "CAR-T 1e6 cells d42", "t_end": 60}
    with server.client("researcher") as researcher:
        one = researcher.post("/api/v1/simulate", json=request)
        cloud = researcher.post("/api/v1/simulate", json={**request, "n_virtual": 12, "seed": 3})
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["n_patients"] == 1
    assert body["n_ok"] == 1
    assert body["series"]["t"] == [float(d) for d in range(61)]
    assert len(body["series"]["tumor_cells"]["median"]) == 61
    assert len(body["patient_series"][0]["effector_cells"]) == 61
    assert body["dose_days"] == {"CAR-T": [42.0]}
    assert body["notes"] == []
    many = cloud.json()
    assert many["n_patients"] == 12
    assert len(many["summary"]) == 12
    assert len(many["patient_series"]) == 10


def test_simulate_refuses_oversized_or_invalid_requests(
    server: Server, no_internals: Check
) -> None:
    base = {"model": "kuznetsov1994", "t_end": 30}
    with server.client("clinician") as clinician:
        too_long = clinician.post("/api/v1/simulate", json={**base, "t_end": 10_000})
        too_many = clinician.post("/api/v1/simulate", json={**base, "n_virtual": 5000})
        long_list = clinician.post(
            "/api/v1/simulate", json={**base, "initial": {"T": [1e5] * 1001}}
        )
        missing = clinician.post("/api/v1/simulate", json={"t_end": 30})
        bad_regimen = clinician.post("/api/v1/simulate", json={**base, "regimen": "chemo lots"})
        bad_model = clinician.post("/api/v1/simulate", json={**base, "model": "nosuchmodel"})
    assert too_long.status_code == 422
    (problem,) = too_long.json()["detail"]
    assert problem["field"] == "body.t_end"
    assert problem["value"] == 10_000
    assert "at most 3,650 days" in problem["message"]
    assert too_many.status_code == 422
    assert "at most 1,000" in too_many.json()["detail"][0]["message"]
    assert long_list.status_code == 422
    assert missing.status_code == 422
    assert missing.json()["detail"][0] == {
        "field": "body.model",
        "value": None,
        "message": "Field required",
    }
    assert bad_regimen.status_code == 422
    assert bad_regimen.json()["detail"][0]["field"]
    assert bad_model.status_code == 400
    assert "nosuchmodel" in bad_model.json()["detail"]
    for response in (too_long, too_many, long_list, missing, bad_regimen, bad_model):
        no_internals(response)


def test_trial_control_flag_takes_true_or_false_not_a_number(server: Server) -> None:
    request = {
        "model": "cartmath2021",
        "regimens": {"a": "CAR-T 1e6 cells d0"},
        "t_end": 60,
        "control": 0,
    }
    with server.client("clinician") as clinician:
        refused = clinician.post("/api/v1/trials", json=request)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "body.control"


def test_trial_job_runs_in_the_background_and_its_result_is_stored(server: Server) -> None:
    request = {
        "model": "cartmath2021",
        "regimens": {"day 0": "CAR-T 1e6 cells d0", "day 42": "CAR-T 1e6 cells d42"},
        "t_end": 150,
        "n_virtual": 8,
        "seed": 1,
        "cohort": "car-t timing",
    }
    with server.client("researcher") as researcher, server.client("clinician") as clinician:
        started = researcher.post("/api/v1/trials", json=request)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["status"] == "queued"
        assert job["owner"] == "res-token"
        early = researcher.get(f"/api/v1/trials/{job['id']}/result")
        deadline = time.monotonic() + 60
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
            job = researcher.get(f"/api/v1/trials/{job['id']}").json()
        result = researcher.get(f"/api/v1/trials/{job['id']}/result")
        someone_else = clinician.get(f"/api/v1/trials/{job['id']}")
        bad = researcher.post("/api/v1/trials", json={**request, "regimens": {}})
        bad_text = researcher.post("/api/v1/trials", json={**request, "regimens": {"a": "x y z"}})
    assert early.status_code in (200, 409)
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert result.status_code == 200
    stored = result.json()
    assert stored["id"] == job["result_id"]
    assert stored["kind"] == "virtual_trial"
    assert stored["actor"] == "res-token"
    assert stored["cohort"] == "car-t timing"
    table = stored["payload"]["table"]
    assert [row["regimen"] for row in table] == ["no treatment", "day 0", "day 42"]
    assert [row["eradicated_fraction"] for row in table] == [0.0, 0.875, 0.875]
    assert someone_else.status_code == 404
    assert bad.status_code == 422
    assert bad_text.status_code == 422
    with Registry.open(server.db_url) as registry:
        (saved,) = registry.results(actor="pytest", kind="virtual_trial")
    assert saved.id == job["result_id"]


def test_cohort_upload_stores_every_row(server: Server, no_internals: Check) -> None:
    path = ip.data.example_path("fl_cohort.csv")
    with server.client("clinician") as clinician, server.client("researcher") as researcher:
        with path.open("rb") as handle:
            uploaded = clinician.post(
                "/api/v1/cohorts", files={"file": ("fl_cohort.csv", handle, "text/csv")}
            )
        with path.open("rb") as handle:
            again = clinician.post(
                "/api/v1/cohorts",
                files={"file": ("fl_cohort.csv", handle, "text/csv")},
                data={"name": "fl_cohort"},
            )
        wrong_type = clinician.post(
            "/api/v1/cohorts", files={"file": ("notes.txt", b"hello", "text/plain")}
        )
        bad_cell = clinician.post(
            "/api/v1/cohorts",
            files={"file": ("bad.csv", b"patient_id,diagnosis,crp_mg_per_L\nB1,FL,lots\n")},
        )
        forbidden = researcher.post(
            "/api/v1/cohorts", files={"file": ("x.csv", b"patient_id\nX\n", "text/csv")}
        )
        cohorts = researcher.get("/api/v1/cohorts").json()["cohorts"]
        members = researcher.get("/api/v1/cohorts/fl_cohort").json()
        patients = clinician.get("/api/v1/patients").json()
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["rows"], uploaded.json()["created"]) == (200, 200)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 200)
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["field"] == "file"
    assert bad_cell.status_code == 422
    assert "crp" in bad_cell.json()["detail"][0]["field"]
    assert forbidden.status_code == 403
    assert cohorts == [
        {
            "name": "fl_cohort",
            "patients": 200,
            "uploads": 2,
            "last_upload_at": cohorts[0]["last_upload_at"],
        }
    ]
    assert len(members["patients"]) == 200
    assert all(p.startswith("PS-") for p in members["patients"])
    assert patients["total"] == 200
    for response in (wrong_type, bad_cell, forbidden):
        no_internals(response)


def test_knowledge_base_is_read_only(server: Server) -> None:
    with server.client("researcher") as researcher:
        therapies = researcher.get("/api/v1/kb/therapies").json()
        one = researcher.get("/api/v1/kb/therapies/pembrolizumab").json()
        missing = researcher.get("/api/v1/kb/therapies/nosuchdrug")
        rules = researcher.get("/api/v1/kb/rules").json()
        references = researcher.get("/api/v1/kb/references").json()
        write = researcher.post("/api/v1/kb/therapies", json={})
    assert any(t["id"] == "pembrolizumab" for t in therapies["therapies"])
    assert one["therapy"]["therapy_class"] == "checkpoint_inhibitor"
    assert one["references"]
    assert missing.status_code == 404
    assert rules["rules"]
    assert references["references"]
    assert therapies["knowledge_base"]["sha256"] == rules["knowledge_base"]["sha256"]
    assert write.status_code == 405


CHECKPOINT_DESIGN: dict[str, Any] = {
    "name": "checkpoint vs none",
    "model": "kuznetsov1994+checkpoint",
    "seed": 5,
    "n_per_arm": 200,
    "chunk_size": 100,
    "follow_up_days": 168,
    "population": {"initial": {"T": 2e7}},
    "arms": [
        {"id": "none", "regimen": ""},
        {"id": "pd1", "regimen": "anti-PD-1 200 mg q21d x8"},
    ],
}
"""A small trial design (no treatment vs anti-PD-1, chunks of 100 patients)."""


def test_a_trial_design_runs_as_a_job_with_its_endpoints(
    server: Server, no_internals: Check
) -> None:
    design = {
        **CHECKPOINT_DESIGN,
        "observed": [
            {"arm": "pd1", "endpoint": "orr", "responders": 9, "n": 30, "source": "illustration"}
        ],
    }
    with server.client("researcher") as researcher:
        started = researcher.post("/api/v1/trials/designs", json=design)
        assert started.status_code == 202, started.text
        job = started.json()
        deadline = time.monotonic() + 120
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = researcher.get(f"/api/v1/trials/{job['id']}").json()
        result = researcher.get(f"/api/v1/trials/{job['id']}/result")
        listed = researcher.get("/api/v1/trials").json()["trials"]
        too_big = researcher.post("/api/v1/trials/designs", json={**design, "n_per_arm": 10**6})
        invalid = researcher.post("/api/v1/trials/designs", json={**design, "seed": -1})
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert (job["label"], job["n_per_arm"], job["steps"]) == ("checkpoint vs none", 200, 2)
    assert [j["id"] for j in listed] == [job["id"]]
    with server.client("clinician") as clinician, server.client("admin") as admin:
        assert job["id"] not in {j["id"] for j in clinician.get("/api/v1/trials").json()["trials"]}
        assert job["id"] in {j["id"] for j in admin.get("/api/v1/trials").json()["trials"]}
    dashboard, _ = _login(server, "researcher")
    with closing(dashboard):
        page = dashboard.get("/trials")  # started through the API, listed on the dashboard
    assert job["id"][:12] in page.text
    assert "checkpoint vs none" in page.text
    payload = result.json()["payload"]
    assert result.json()["kind"] == "virtual_trial_design"
    local = ip.virtual_trial(design, scheduler="synchronous")
    assert payload["design_hash"] == local.design_hash
    served = {a["arm"]: a["orr"]["estimate"] for a in payload["arms"]}
    assert served == {a.arm: a.orr.estimate for a in local.arms}
    assert payload["observed"][0]["gap_points"] == local.observed[0].gap_points
    assert too_big.status_code == 422
    assert "immunoprecise trial" in too_big.json()["detail"][0]["message"]
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["field"] == "body.seed"
    for response in (too_big, invalid):
        no_internals(response)


def test_simulate_names_overlapping_doses_of_one_agent(server: Server) -> None:
    request = {"model": "depillis2006", "regimen": "IL2 5e6 IU/d d8-12; IL-2 1e6 IU/d d10-14"}
    with server.client("researcher") as researcher:
        answer = researcher.post("/api/v1/simulate", json={**request, "t_end": 30})
    assert answer.status_code == 200, answer.text
    (note,) = answer.json()["notes"]
    assert note.startswith("Overlapping doses of IL2 / IL-2")
    assert note == ip.simulate("depillis2006", regimen=request["regimen"], t_end=30).notes[0]
