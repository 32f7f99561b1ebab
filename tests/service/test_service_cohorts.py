"""Cohort analysis over the API: survival, response and cut-points of a stored cohort."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.cohort import cohort_frame, kaplan_meier, response_table
from immunoprecise.registry import Registry, import_cohort, load_cohort
from immunoprecise.service import Role, create_app
from immunoprecise.service.deps import Caller
from immunoprecise.service.routes.cohorts import analysis_frame
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
    # a score with few values (FLIPI 0–5, ECOG) is a number and a stratum: the analyses take both
    assert {"ecog", "risk.flipi"} <= set(columns["numeric"]) & set(columns["categorical"])
    assert "cd8_foxp3_ratio.interfollicular" not in columns["categorical"]
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


def test_analysis_table_is_kept_but_reads_are_audited_and_changes_seen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    app = create_app(url, create=True, pseudonym_key="k" * 32)
    state = app.state.service
    try:
        with Registry.open(url) as registry:
            import_cohort(registry, COHORT, name="fl", actor="pytest")
        caller = Caller("ann", Role.clinician)
        n = len(ip.read_cohort(COHORT).records)
        first = analysis_frame(state, caller, "fl")
        first.loc[first.index[0], "crp"] = -1.0  # the caller's copy, not the kept table
        second = analysis_frame(state, caller, "fl")
        assert (state.cohort_frames.hits, state.cohort_frames.misses) == (1, 1)
        reads = [a for a in state.registry.audit(actor="ann") if a.action == "read"]
        assert len(reads) == 2 * n  # every record read is audited, kept table or not
        assert second["crp"].iloc[0] != -1.0
        pd.testing.assert_frame_equal(second, cohort_frame(COHORT), check_dtype=False)

        record = state.registry.record(first.index[0], actor="pytest")
        data = record.model_dump(mode="json")
        data["host"]["crp"] = {"value": 99, "unit": "mg/L"}
        state.registry.add_record(ip.PatientRecord.model_validate(data), actor="pytest")
        third = analysis_frame(state, caller, "fl")
        assert state.cohort_frames.misses == 2  # a new version is a new table
        assert third["crp"].iloc[0] == pytest.approx(99.0)
        researcher = analysis_frame(state, Caller("rex", Role.researcher), "fl")
        assert state.cohort_frames.hits == 2
        assert all(str(p).startswith("PS-") for p in researcher.index)
    finally:
        state.close()
