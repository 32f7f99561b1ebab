"""Cohort strata over a real server: empty and many-valued group columns, and cohort tables
exported with ``;`` separators and decimal commas."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pandas as pd
import pytest

import immunoprecise as ip
from service.service_server import Server
from service.test_dashboard import _login

Check = Callable[[httpx.Response], None]
COHORT = ip.data.example_path("fl_cohort.csv")


def _upload(server: Server, name: str, filename: str, data: bytes) -> httpx.Response:
    with server.client("clinician") as clinician:
        return clinician.post(
            "/api/v1/cohorts", files={"file": (filename, data, "text/csv")}, data={"name": name}
        )


@pytest.mark.parametrize("analysis", ["survival", "response"])
@pytest.mark.parametrize("by", ["", "  "])
def test_an_empty_group_column_is_refused_naming_the_field(
    server: Server, no_internals: Check, analysis: str, by: str
) -> None:
    assert _upload(server, "FL", COHORT.name, COHORT.read_bytes()).status_code == 201
    with server.client("researcher") as researcher:
        answer = researcher.get(f"/api/v1/cohorts/FL/{analysis}", params={"by": by})
    assert answer.status_code == 422, answer.text[:300]
    no_internals(answer)
    [problem] = answer.json()["detail"]
    assert problem["field"] == "query.by"
    assert problem["value"] == by
    assert "leave 'by' out" in problem["message"]


def test_semicolon_table_with_decimal_commas_is_the_same_cohort(
    server: Server, tmp_path: Path
) -> None:
    european = tmp_path / "fl_cohort_eu.csv"
    pd.read_csv(COHORT).to_csv(european, sep=";", decimal=",", index=False)
    assert "14,6" in european.read_text(encoding="utf-8")
    assert _upload(server, "FL eu", european.name, european.read_bytes()).status_code == 201
    assert _upload(server, "FL", COHORT.name, COHORT.read_bytes()).status_code == 201
    with server.client("clinician") as clinician:
        answers = [
            clinician.get(f"/api/v1/cohorts/{name}/survival", params={"by": "treatment"})
            for name in ("FL eu", "FL")
        ]
        cut = clinician.get(
            "/api/v1/cohorts/FL%20eu/cutpoint", params={"biomarker": "crp", "n_boot": 0}
        )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert cut.status_code == 200, cut.text[:300]


def test_dashboard_shows_the_refusal_of_a_many_valued_group_as_a_message(
    server: Server, no_internals: Check
) -> None:
    assert _upload(server, "FL", COHORT.name, COHORT.read_bytes()).status_code == 201
    client, _ = _login(server, "researcher")
    with closing(client):
        fragment = client.get(
            "/cohorts/FL/survival",
            params={"endpoint": "os", "by": "crp"},
            headers={"HX-Request": "true"},
        )
    assert fragment.status_code == 422
    no_internals(fragment)
    assert 'class="error" role="alert"' in fragment.text
    assert "may have at most 10" in fragment.text
    assert "km-plot" not in fragment.text
    # the page's own remedy, not the Python or command-line one
    assert "use the Cut-point explorer below on this page" in fragment.text
    assert "choose &#39;crp&#39; as the biomarker" in fragment.text
    for elsewhere in ("optimal_cutpoint", "pandas", "command line", "frame["):
        assert elsewhere not in fragment.text


@pytest.mark.parametrize("analysis", ["survival", "response"])
def test_api_refusal_of_a_many_valued_group_points_to_the_cutpoint_endpoint(
    server: Server, no_internals: Check, analysis: str
) -> None:
    assert _upload(server, "FL one", COHORT.name, COHORT.read_bytes()).status_code == 201
    with server.client("researcher") as researcher:
        answer = researcher.get(f"/api/v1/cohorts/FL%20one/{analysis}", params={"by": "crp"})
    assert answer.status_code == 400, answer.text[:300]
    no_internals(answer)
    message = answer.json()["detail"]
    assert message.startswith("column 'crp' has ")
    assert "numeric group column may have at most 10" in message
    assert "GET /api/v1/cohorts/FL%20one/cutpoint?biomarker=crp" in message
    for elsewhere in ("optimal_cutpoint", "pandas", "command line", "explorer"):
        assert elsewhere not in message


def test_refusal_of_many_named_levels_says_to_merge_them_on_each_surface(
    server: Server, no_internals: Check
) -> None:
    table = pd.read_csv(COHORT)
    table["treatment"] = [f"regimen {i % 25:02d}" for i in range(len(table))]
    data = table.to_csv(index=False).encode("utf-8")
    assert _upload(server, "FL sites", "fl_sites.csv", data).status_code == 201
    with server.client("researcher") as researcher:
        answer = researcher.get("/api/v1/cohorts/FL%20sites/survival", params={"by": "treatment"})
    client, _ = _login(server, "researcher")
    with closing(client):
        fragment = client.get(
            "/cohorts/FL%20sites/survival",
            params={"endpoint": "os", "by": "treatment"},
            headers={"HX-Request": "true"},
        )
    assert (answer.status_code, fragment.status_code) == (400, 422)
    no_internals(answer)
    no_internals(fragment)
    assert "group column may have at most 20" in answer.json()["detail"]
    assert "upload the table again and group by that column" in answer.json()["detail"]
    assert "group column may have at most 20" in fragment.text
    assert "import the table again and compare by that column" in fragment.text
