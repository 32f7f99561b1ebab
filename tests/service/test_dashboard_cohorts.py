"""Dashboard cohort pages over a real server: import, Kaplan–Meier, response, cut-point."""

from __future__ import annotations

import html
import json
import re
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
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
    marked = ["censored"] if any(c.censor_times for c in direct.curves) else []
    assert legend == [f"{c.label} (n={c.n})" for c in direct.curves] + marked
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
    ] + ["censored"]  # everyone is censored: the ticks are named once
    assert "no os event was observed: every patient is censored" in fragment.text
    assert 'id="log-rank"' not in fragment.text


# thinning does not depend on the database: SQLite only, as storing 6,000 records is slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_large_cohort_scan_and_curves_are_sent_thinned_with_a_hint(
    server: Server, tmp_path: Path
) -> None:
    from immunoprecise.cohort.cutpoint import optimal_cutpoint
    from immunoprecise.pl._cutpoint import MAX_SCAN_POINTS, scan_points
    from immunoprecise.pl._survival import steps_drawn

    example = pd.read_csv(ip.data.example_path("fl_cohort.csv"))
    rng = np.random.default_rng(7)
    n = 6000  # more than 2,000 candidate cuts and Kaplan–Meier steps
    frame = example.sample(n, replace=True, random_state=1).reset_index(drop=True)
    frame["patient_id"] = [f"SYN-BIG-{i:05d}" for i in range(n)]
    frame["crp_mg_per_L"] = rng.lognormal(1.5, 1.0, n)
    frame["os_months"] = rng.exponential(40.0, n) + 0.01
    frame["pfs_months"] = np.minimum(frame["pfs_months"], frame["os_months"])
    frame["os_event"] = rng.integers(0, 2, n)
    table = tmp_path / "big.csv"
    frame.to_csv(table, index=False, float_format="%.4f")  # 4 decimals: not thousands
    direct = optimal_cutpoint(table, "crp", n_boot=0, seed=0)
    assert len(direct.scan_cuts) > MAX_SCAN_POINTS  # the cohort is large enough to thin
    client, csrf = _login(server, "clinician")
    with closing(client):
        _upload_cohort(client, csrf, "big", table)
        cut = client.get(
            "/cohorts/big/cutpoint",
            params={"biomarker": "crp", "n_boot": 0},
            headers={"HX-Request": "true"},
        )
        survival = client.get("/cohorts/big/survival", headers={"HX-Request": "true"})
    assert cut.status_code == 200, cut.text[:800]
    scan, km = (json.loads(html.unescape(f)) for f in FIGURE.findall(cut.text))
    cuts, z = scan_points(direct)
    assert scan["data"][0]["x"] == pytest.approx(cuts.tolist())
    assert scan["data"][0]["y"] == pytest.approx(z.tolist())
    assert max(scan["data"][0]["y"]) == pytest.approx(direct.max_statistic.estimate)
    assert f"drawn through {len(cuts)} of its {len(direct.scan_cuts)} candidate cuts" in cut.text
    assert max(len(t["x"]) for t in km["data"]) <= 2 * 1000 + 2
    assert survival.status_code == 200, survival.text[:800]
    curve = json.loads(html.unescape(FIGURE.search(survival.text).group(1)))  # type: ignore[union-attr]
    line = next(t for t in curve["data"] if t.get("showlegend"))
    whole = kaplan_meier(table).curves[0]
    assert len(line["x"]) < len(whole.times)
    assert line["x"][-1] == pytest.approx(whole.times[-1] / 30.4375)
    assert line["y"][-1] == pytest.approx(whole.survival[-1])
    assert 'id="km-thinned"' in survival.text
    drawn, steps = steps_drawn(whole)
    assert len(line["x"]) == drawn
    assert f"drawn through {drawn} of their {steps} steps" in survival.text


def test_cohort_file_picker_offers_every_table_the_import_reads(
    server: Server, tmp_path: Path
) -> None:
    from immunoprecise.records.readers import TABLE_SUFFIXES

    client, csrf = _login(server, "clinician")
    with closing(client):
        page = client.get("/cohorts")
        accept = re.search(r'id="cohort-file" name="file" accept="([^"]*)"', page.text)
        assert accept is not None, page.text[:500]
        assert set(accept.group(1).split(",")) == set(TABLE_SUFFIXES)
        assert ".xlsm" in page.text  # in the label too
        assert ".tab" in page.text
        table = tmp_path / "fl_cohort.tab"
        pd.read_csv(ip.data.example_path("fl_cohort.csv")).to_csv(table, sep="\t", index=False)
        _upload_cohort(client, csrf, "FL tab", table)
        survival = client.get("/cohorts/FL%20tab/survival", headers={"HX-Request": "true"})
    assert survival.status_code == 200, survival.text[:500]


def test_a_file_name_that_cannot_name_the_cohort_asks_for_a_name(server: Server) -> None:
    table = ip.data.example_path("fl_cohort.csv").read_bytes()
    client, csrf = _login(server, "clinician")
    with closing(client):
        refused = client.post(
            "/cohorts/import",
            data={"csrf_token": csrf, "name": ""},
            files={"file": ("données, 2024.csv", table, "text/csv")},
        )
        named = client.post(
            "/cohorts/import",
            data={"csrf_token": csrf, "name": "FL 2024"},
            files={"file": ("données, 2024.csv", table, "text/csv")},
        )
        typed = client.post(
            "/cohorts/import",
            data={"csrf_token": csrf, "name": "FL/2024"},
            files={"file": ("fl.csv", table, "text/csv")},
        )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "the file name 'données, 2024' cannot name the cohort: type a cohort name" in text
    assert "starting with a letter or digit" in text
    assert named.status_code == 303, named.text[:500]
    assert typed.status_code == 422
    assert "cohort name 'FL/2024': use 1–128 letters" in html.unescape(typed.text)
