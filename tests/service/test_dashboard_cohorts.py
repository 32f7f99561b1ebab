"""Dashboard cohort pages over a real server: import, Kaplan–Meier, response, cut-point."""

from __future__ import annotations

import html
import json
import re
from contextlib import closing
from pathlib import Path

import httpx
import pandas as pd
import pytest

import immunoprecise as ip
from immunoprecise.cohort import kaplan_meier
from service.service_server import Server
from service.test_dashboard import _csrf, _login

FIGURE = re.compile(r"data-plotly-figure='([^']+)'")


def _import_example(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        page = client.get("/cohorts")
        assert "No cohort is stored yet" in page.text
        done = client.post(
            "/cohorts/import",
            data={"csrf_token": _csrf(page), "example": "fl_cohort.csv", "name": "FL example"},
        )
        assert done.status_code == 303, done.text[:500]
        assert done.headers["location"] == "/cohorts/FL%20example"
        assert csrf


def _upload_cohort(client: httpx.Client, csrf: str, name: str, table: Path) -> None:
    """Store a cohort table through the dashboard's import form, as ``name``."""
    done = client.post(
        "/cohorts/import",
        data={"csrf_token": csrf, "name": name},
        files={"file": (table.name, table.read_bytes(), "text/csv")},
    )
    assert done.status_code == 303, done.text[:500]


def test_clinician_imports_the_example_and_sees_curves_and_responses(server: Server) -> None:
    _import_example(server)
    client, _ = _login(server, "researcher")
    with closing(client):
        listing = client.get("/cohorts")
        page = client.get("/cohorts/FL%20example")
        fragment = client.get(
            "/cohorts/FL%20example/survival",
            params={"endpoint": "pfs", "by": "risk.flipi:category"},
            headers={"HX-Request": "true"},
        )
    assert "FL example" in listing.text
    assert '<td class="num">200</td>' in listing.text
    assert page.status_code == 200
    assert 'value="risk.flipi:category" selected' in page.text
    assert "cd8_foxp3_ratio.interfollicular" in page.text
    assert fragment.status_code == 200, fragment.text[:500]
    direct = kaplan_meier(
        ip.data.example_path("fl_cohort.csv"), endpoint="pfs", group="risk.flipi:category"
    )
    figure = json.loads(html.unescape(FIGURE.search(fragment.text).group(1)))  # type: ignore[union-attr]
    legend = [t["name"] for t in figure["data"] if t.get("showlegend")]
    assert legend == [f"{c.label} (n={c.n})" for c in direct.curves]
    assert direct.log_rank is not None
    assert f"Log-rank χ² = {direct.log_rank.estimate:.2f}" in fragment.text
    assert 'id="response-table"' in fragment.text


def test_cut_point_explorer_fragment(server: Server) -> None:
    _import_example(server)
    client, _ = _login(server, "clinician")
    with closing(client):
        fragment = client.get(
            "/cohorts/FL%20example/cutpoint",
            params={"biomarker": "cd8_foxp3_ratio.interfollicular", "n_boot": 20},
            headers={"HX-Request": "true"},
        )
        too_many = client.get(
            "/cohorts/FL%20example/cutpoint",
            params={"biomarker": "crp", "n_boot": 100_000},
            headers={"HX-Request": "true"},
        )
        no_column = client.get(
            "/cohorts/FL%20example/cutpoint",
            params={"biomarker": "nope"},
            headers={"HX-Request": "true"},
        )
    assert fragment.status_code == 200, fragment.text[:800]
    assert 'id="cutpoint-summary"' in fragment.text
    assert len(FIGURE.findall(fragment.text)) == 2
    assert "20 bootstrap resamples" in fragment.text
    assert "Survival at 5 years (95% CI)" in fragment.text  # not "1826 days"
    assert too_many.status_code == 422
    assert "between 0 and" in too_many.text
    assert no_column.status_code == 422
    assert "nope" in no_column.text


@pytest.mark.parametrize("role", ["researcher"])
def test_researchers_cannot_import_and_forms_need_csrf(server: Server, role: str) -> None:
    client, csrf = _login(server, role)
    with closing(client):
        refused = client.post(
            "/cohorts/import", data={"csrf_token": csrf, "example": "fl_cohort.csv"}
        )
        no_csrf = client.post("/cohorts/import", data={"example": "fl_cohort.csv"})
        missing = client.get("/cohorts/nothing-here")
    assert refused.status_code == 403
    assert no_csrf.status_code == 403
    assert missing.status_code == 404


def test_survival_fragment_of_a_cohort_without_events_shows_curves_and_the_note(
    server: Server, tmp_path: Path
) -> None:
    frame = pd.read_csv(ip.data.example_path("fl_cohort.csv"))
    frame["os_event"] = 0  # early follow-up: nobody has died yet
    table = tmp_path / "early.csv"
    frame.to_csv(table, index=False)
    client, csrf = _login(server, "clinician")
    with closing(client):
        _upload_cohort(client, csrf, "early", table)
        fragment = client.get(
            "/cohorts/early/survival",
            params={"endpoint": "os", "by": "risk.flipi:category"},
            headers={"HX-Request": "true"},
        )
    assert fragment.status_code == 200, fragment.text[:500]
    figure = json.loads(html.unescape(FIGURE.search(fragment.text).group(1)))  # type: ignore[union-attr]
    legend = [t["name"] for t in figure["data"] if t.get("showlegend")]
    assert legend == [
        f"{c.label} (n={c.n})" for c in kaplan_meier(table, group="risk.flipi:category").curves
    ]
    assert "no os event was observed: every patient is censored" in fragment.text
    assert 'id="log-rank"' not in fragment.text
