"""Cohort uploads refuse an empty name; researchers' cohort analyses and records show no exact
age or full date (over a real server: REST API and dashboard)."""

from __future__ import annotations

import json
import re
from contextlib import closing
from typing import Any

import pandas as pd

import immunoprecise as ip
from immunoprecise.cohort import cohort_frame
from immunoprecise.service.pseudonymize import RECORD_RULES, Action, Pseudonymizer
from service.conftest import PSEUDONYM_KEY
from service.service_server import Server
from service.test_dashboard import _login

COHORT = ip.data.example_path("fl_cohort.csv")
BAND = re.compile(r"^(\d{2}-\d{2}|90\+)$")


def _upload(server: Server, data: dict[str, str] | None, filename: str = "fl_cohort.csv") -> int:
    with server.client("clinician") as clinician, COHORT.open("rb") as handle:
        answer = clinician.post(
            "/api/v1/cohorts", files={"file": (filename, handle, "text/csv")}, data=data
        )
    return answer.status_code


def test_an_empty_cohort_name_is_refused_and_an_absent_one_is_the_file_name(
    server: Server,
) -> None:
    with server.client("clinician") as clinician, COHORT.open("rb") as handle:
        table = handle.read()
        empty = clinician.post(
            "/api/v1/cohorts", files={"file": ("trial_a.csv", table, "text/csv")},
            data={"name": ""},
        )  # fmt: skip
        blank = clinician.post(
            "/api/v1/cohorts", files={"file": ("trial_a.csv", table, "text/csv")},
            data={"name": "   "},
        )  # fmt: skip
        listed = clinician.get("/api/v1/cohorts").json()["cohorts"]
        absent = clinician.post(
            "/api/v1/cohorts", files={"file": ("trial_b.csv", table, "text/csv")}
        )
        schema = clinician.get("/openapi.json").json()
    for refused in (empty, blank):
        assert refused.status_code == 422, refused.text[:300]
        (problem,) = refused.json()["detail"]
        assert problem["field"] == "name"
        assert "empty" in problem["message"]
        assert "leave the field out" in problem["message"]
    assert listed == []  # nothing stored under the file's name
    assert absent.status_code == 201, absent.text[:300]
    assert absent.json()["name"] == "trial_b"
    form = schema["components"]["schemas"]["Body_upload_cohort_api_v1_cohorts_post"]
    description = form["properties"]["name"]["description"]
    assert "Without this field the cohort is named after the file" in description
    assert "empty" in description


def test_researchers_get_age_bands_in_cohort_strata_and_no_age_cut_point(server: Server) -> None:
    assert _upload(server, {"name": "fl"}) == 201
    ages = set(cohort_frame(COHORT)["age"].dropna().astype(int).astype(str))
    with server.client("researcher") as researcher:
        columns = researcher.get("/api/v1/cohorts/fl/columns").json()
        survival = researcher.get("/api/v1/cohorts/fl/survival", params={"by": "age"})
        responses = researcher.get("/api/v1/cohorts/fl/response", params={"by": "age"})
        cut = researcher.get(
            "/api/v1/cohorts/fl/cutpoint", params={"biomarker": "age", "n_boot": 0}
        )
    with server.client("clinician") as clinician:
        exact = clinician.get("/api/v1/cohorts/fl/survival", params={"by": "age"})
        exact_cut = clinician.get(
            "/api/v1/cohorts/fl/cutpoint", params={"biomarker": "age", "n_boot": 0}
        )
    assert "age" not in columns["numeric"]
    assert survival.status_code == 200, survival.text[:300]
    labels = [c["label"] for c in survival.json()["curves"]]
    assert labels
    assert all(BAND.match(label) for label in labels), labels
    assert sum(c["n"] for c in survival.json()["curves"]) == 200
    strata = [r["stratum"] for r in responses.json()["rows"]]
    assert strata
    assert all(BAND.match(s) for s in strata), strata
    assert not ages & set(labels)
    assert not ages & set(strata)
    assert cut.status_code == 422, cut.text[:300]
    (problem,) = cut.json()["detail"]
    assert problem["field"] == "query.biomarker"
    assert problem["value"] == "age"
    assert "5-year bands" in problem["message"]
    assert "by=age" in problem["message"]
    # clinicians and admins see the data as it is: the exact age is a continuous value, not a
    # group column (one curve per year of age), and its cut-point is theirs to find
    assert exact.status_code == 400, exact.text[:300]
    assert "'age' has" in exact.text
    assert "/cutpoint?biomarker=age" in exact.text  # the API's own remedy, not Python
    assert exact_cut.status_code == 200, exact_cut.text[:300]


def test_the_dashboard_cut_point_explorer_refuses_the_exact_age_to_researchers(
    server: Server,
) -> None:
    assert _upload(server, {"name": "fl"}) == 201
    client, _ = _login(server, "researcher")
    with closing(client):
        page = client.get("/cohorts/fl")
        cut = client.get(
            "/cohorts/fl/cutpoint", params={"biomarker": "age", "n_boot": 0},
            headers={"HX-Request": "true"},
        )  # fmt: skip
        strata = client.get("/cohorts/fl/survival", params={"by": "age"})
    assert page.status_code == 200
    assert 'value="age"' in page.text  # offered as a stratum (its bands) ...
    assert cut.status_code == 422, cut.text[:300]
    assert "5-year bands" in cut.text
    figure = re.search(r"data-plotly-figure='([^']+)'", strata.text)
    assert figure is not None, strata.text[:500]
    names = [t["name"] for t in json.loads(figure.group(1).replace("&#39;", "'"))["data"]
             if t.get("showlegend") and t["name"] != "censored"]  # fmt: skip
    assert names
    assert all(BAND.match(n.split(" (n=")[0]) for n in names), names


def test_researchers_see_only_the_year_of_toxicity_dates(server: Server) -> None:
    record = json.loads(ip.data.example_path("ball_cd19.json").read_text())
    dates = {t["date"] for t in record["toxicity"]}
    assert dates
    with server.client("clinician") as clinician:
        assert clinician.post("/api/v1/patients", json=record).status_code == 201
    pseudonym = Pseudonymizer(PSEUDONYM_KEY.encode()).pseudonym(record["patient"]["id"])
    with server.client("researcher") as researcher:
        latest = researcher.get(f"/api/v1/patients/{pseudonym}")
        first = researcher.get(f"/api/v1/patients/{pseudonym}/versions/1")
    for answer in (latest, first):
        assert answer.status_code == 200, answer.text[:300]
        shown = answer.json()["record"]["toxicity"]
        assert [t["date"] for t in shown] == [t["date"][:4] for t in record["toxicity"]]
        assert not any(d in answer.text for d in dates)
    pd.testing.assert_series_equal(  # the pseudonymized record still lists every assessment
        pd.Series([t.get("day") for t in shown]),
        pd.Series([t.get("day") for t in record["toxicity"]]),
    )


def _date_fields(node: Any, defs: dict[str, Any], path: str, seen: frozenset[str]) -> set[str]:
    """The paths (``[]`` = every item) of the date fields in a JSON Schema."""
    if not isinstance(node, dict):
        return set()
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return set() if name in seen else _date_fields(defs[name], defs, path, seen | {name})
    found = {path} if node.get("format") in ("date", "date-time") else set()
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, []):
            found |= _date_fields(sub, defs, path, seen)
    if "items" in node:
        found |= _date_fields(node["items"], defs, f"{path}[]", seen)
    for name, sub in node.get("properties", {}).items():
        found |= _date_fields(sub, defs, f"{path}.{name}" if path else name, seen)
    return found


def test_every_date_of_a_record_has_a_pseudonymization_rule() -> None:
    schema = ip.PatientRecord.model_json_schema()
    dates = _date_fields(schema, schema.get("$defs", {}), "", frozenset())
    assert "toxicity[].date" in dates
    ruled = {path for path, action in RECORD_RULES if action in (Action.year, Action.withhold)}
    assert dates <= ruled, sorted(dates - ruled)
