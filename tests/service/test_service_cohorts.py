"""Cohort analysis over the API: survival, response and cut-points of a stored cohort."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import immunoprecise as ip
from immunoprecise.cohort import cohort_frame, kaplan_meier, response_table
from immunoprecise.registry import Registry, load_cohort
from service.service_server import Server

Check = Callable[[httpx.Response], None]
COHORT = ip.data.example_path("fl_cohort.csv")


def _upload(server: Server, name: str = "FL phase II") -> None:
    with server.client("clinician") as clinician, COHORT.open("rb") as handle:
        response = clinician.post(
            "/api/v1/cohorts",
            files={"file": ("fl_cohort.csv", handle, "text/csv")},
            data={"name": name},
        )
    assert response.status_code == 201, response.text


def test_stored_cohort_keeps_its_outcomes(server: Server) -> None:
    _upload(server)
    with Registry.open(server.db_url) as registry:
        stored = load_cohort(registry, "FL phase II", actor="pytest")
    assert stored.outcomes == ip.read_cohort(COHORT).outcomes
    assert [r.patient.id for r in stored.records] == [
        r.patient.id for r in ip.read_cohort(COHORT).records
    ]


def test_survival_and_response_equal_the_library_on_the_file(server: Server) -> None:
    _upload(server)
    with server.client("researcher") as researcher:
        km = researcher.get(
            "/api/v1/cohorts/FL phase II/survival",
            params={"endpoint": "pfs", "by": "risk.flipi:category"},
        )
        resp = researcher.get(
            "/api/v1/cohorts/FL phase II/response", params={"by": "risk.flipi:category"}
        )
        columns = researcher.get("/api/v1/cohorts/FL phase II/columns").json()
    assert km.status_code == 200, km.text
    direct = kaplan_meier(COHORT, endpoint="pfs", group="risk.flipi:category")
    body = km.json()
    assert [c["label"] for c in body["curves"]] == [c.label for c in direct.curves]
    assert body["curves"][0]["survival"] == pytest.approx(list(direct.curves[0].survival))
    assert direct.log_rank is not None
    assert body["log_rank"]["p_value"] == pytest.approx(direct.log_rank.p_value)
    table = response_table(COHORT, by="risk.flipi:category")
    assert [r["responders"] for r in resp.json()["rows"]] == [r.responders for r in table.rows]
    assert "cd8_foxp3_ratio.interfollicular" in columns["numeric"]
    assert "risk.flipi:category" in columns["categorical"]
    assert columns["patients"] == 200


def test_cutpoint_over_the_api_and_pseudonymized_exclusions(server: Server) -> None:
    _upload(server)
    frame = cohort_frame(COHORT)
    with server.client("researcher") as researcher:
        cut = researcher.get(
            "/api/v1/cohorts/FL phase II/cutpoint",
            params={"biomarker": "cd8_foxp3_ratio.interfollicular", "n_boot": 50},
        )
    assert cut.status_code == 200, cut.text
    body = cut.json()
    values = frame["cd8_foxp3_ratio.interfollicular"]
    assert values.min() <= body["cutpoint"]["estimate"] <= values.max()
    assert body["n_boot"] == 50
    assert body["summary"]
    assert all(not p.startswith("SYN-") for p in body["excluded"])


def test_cohort_errors_are_clear(server: Server, no_internals: Check) -> None:
    _upload(server)
    with server.client("researcher") as researcher:
        missing = researcher.get("/api/v1/cohorts/nope/survival")
        bad_column = researcher.get(
            "/api/v1/cohorts/FL phase II/survival", params={"by": "no_such_column"}
        )
        bad_endpoint = researcher.get(
            "/api/v1/cohorts/FL phase II/survival", params={"endpoint": "dfs"}
        )
        too_many = researcher.get(
            "/api/v1/cohorts/FL phase II/cutpoint",
            params={"biomarker": "crp", "n_boot": 1_000_000},
        )
    assert missing.status_code == 404
    assert bad_column.status_code == 400  # an analysis the data cannot answer (errors.py)
    assert "no_such_column" in bad_column.text
    assert bad_endpoint.status_code == 422
    assert too_many.status_code == 422
    for response in (missing, bad_column, bad_endpoint, too_many):
        no_internals(response)
