"""Dashboard pages over a real server given awkward input: each answers with a page that names
the field, the value and the fix (never a 500), and shows the numbers the library computes."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

import immunoprecise as ip
from immunoprecise.cohort import kaplan_meier, optimal_cutpoint
from immunoprecise.cohort.statistic import format_number
from immunoprecise.dynamics.candidates import candidate_comparisons
from immunoprecise.service.caches import EXPRESSION_NOTE
from immunoprecise.service.dashboard import SIMULATED_PATIENTS
from service.service_server import Server
from service.test_dashboard import _login
from service.test_dashboard_cohorts import _upload_cohort

FIGURE = re.compile(r"data-plotly-figure='([^']+)'")
FHIR_BUNDLE = Path(__file__).parents[1] / "records" / "data" / "fhir_crc_msih.json"


def _text(page: str) -> str:
    """The page's text without tags and with entities read, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _upload(client: httpx.Client, csrf: str, name: str, content: bytes) -> httpx.Response:
    """Upload a patient file on the dashboard's import form."""
    return client.post(
        "/patients/import",
        data={"csrf_token": csrf},
        files={"file": (name, content, "application/json")},
    )


def test_example_trial_refuses_digits_that_are_not_decimal(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        answer = client.post("/trials/example", data={"csrf_token": csrf, "n_per_arm": "²"})
        assert answer.status_code == 422, answer.text[:300]
        assert "n_per_arm = &#39;²&#39;: give a whole number from 1 to" in answer.text


def _short_follow_up(path: Path) -> Path:
    """The example cohort with OS censored at 40 months for all but the lowest CRP values: the
    high-CRP side of any cut has no follow-up at five years."""
    frame = pd.read_csv(ip.data.example_path("fl_cohort.csv"))
    high = frame["crp_mg_per_L"] > frame["crp_mg_per_L"].quantile(0.05)
    cut = high & (frame["os_months"] > 40)
    frame.loc[cut, "os_months"] = 40.0
    frame.loc[cut, "os_event"] = 0
    longer = frame["pfs_months"] > frame["os_months"]  # PFS cannot outlast OS
    frame.loc[longer, "pfs_months"] = frame.loc[longer, "os_months"]
    frame.loc[longer, "pfs_event"] = 0
    frame.to_csv(path, index=False)
    return path


def test_cut_point_explorer_with_a_group_followed_less_than_the_horizon(
    server: Server, tmp_path: Path
) -> None:
    table = _short_follow_up(tmp_path / "short.csv")
    result = optimal_cutpoint(table, "crp", n_boot=0, seed=0)
    assert np.isnan(result.high.survival_at_horizon.estimate)  # the case under test
    low = result.low.survival_at_horizon
    client, csrf = _login(server, "clinician")
    with closing(client):
        _upload_cohort(client, csrf, "short", table)
        answer = client.get(
            "/cohorts/short/cutpoint",
            params={"biomarker": "crp", "n_boot": "0"},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200, answer.text[:500]
        groups = _text(re.search(r'id="cut-groups".*?</table>', answer.text, re.S)[0])
        assert f"{result.high.label} " in groups
        assert "not estimable: follow-up ends at day 1217.5" in groups
        assert low.ci_low is not None
        assert low.ci_high is not None
        shown = f"{100 * low.estimate:.1f}% ({100 * low.ci_low:.1f}–{100 * low.ci_high:.1f})"
        assert shown in groups


def test_survival_table_says_when_a_median_is_not_reached(server: Server) -> None:
    km = kaplan_meier(ip.data.example_path("fl_cohort.csv"), group="risk.flipi:category")
    client, csrf = _login(server, "clinician")
    with closing(client):
        done = client.post(
            "/cohorts/import",
            data={"csrf_token": csrf, "example": "fl_cohort.csv", "name": "FL"},
        )
        assert done.status_code == 303, done.text[:500]
        answer = client.get(
            "/cohorts/FL/survival",
            params={"endpoint": "os", "by": "risk.flipi:category"},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200, answer.text[:500]
    rows = _text(re.search(r'id="km-table".*?</table>', answer.text, re.S)[0])
    not_reached = [c for c in km.curves if np.isinf(c.median.estimate)]
    assert not_reached  # the example has groups whose median is not reached
    for c in km.curves:
        m = c.median
        median = f"{format_number(m.estimate, 0)} ({format_number(m.ci_low, 0)}–"
        median += f"{format_number(m.ci_high, 0)})"  # as `immunoprecise cohort` prints it
        assert f"{c.label} {c.n} {c.events} {median}" in rows
    assert "not reached (" in rows


def test_invalid_fields_are_shown_with_the_value_received(server: Server) -> None:
    record = json.loads(ip.data.example_path("crc_msih.json").read_text(encoding="utf-8"))
    record["patient"]["age"] = "67 parsecs"
    client, csrf = _login(server, "clinician")
    with closing(client):
        answer = _upload(client, csrf, "crc.json", json.dumps(record).encode())
        assert answer.status_code == 422, answer.text[:300]
        assert "patient.age = '67 parsecs': unit 'parsecs'" in _text(answer.text)
        design = "name: demo\nmodel: kuznetsov1994\nseed: 1\nn_per_arm: 20\n"
        design += "follow_up_days: 112 days\narms: [{id: a, regimen: ''}]\n"
        answer = client.post("/trials/design", data={"csrf_token": csrf, "design": design})
        assert answer.status_code == 422, answer.text[:300]
        assert "follow_up_days = '112 days': " in _text(answer.text)


def test_dashboard_evaluation_keeps_the_note_on_the_expression_file(server: Server) -> None:
    """The dashboard and ``POST /api/v1/evaluate`` share the evaluation cache: evaluating on the
    page first used to leave the REST answer without the note that the expression file named in
    the record was not read."""
    path = ip.data.example_path("crc_msih.json")
    client, csrf = _login(server, "clinician")
    with closing(client):
        stored = _upload(client, csrf, path.name, path.read_bytes())
        assert stored.status_code == 303, stored.text[:300]
        plan = client.post(
            "/patients/SYN-CRC-001/evaluate",
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        assert plan.status_code == 200, plan.text[:300]
        assert EXPRESSION_NOTE in html.unescape(plan.text)
    with closing(server.client("clinician")) as api:
        answer = api.post("/api/v1/evaluate", json={"patient_id": "SYN-CRC-001"})
        assert answer.status_code == 200, answer.text[:300]
        assert answer.json()["notes"] == [EXPRESSION_NOTE]


def test_fhir_bundle_import_shows_what_was_skipped(server: Server) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        answer = _upload(client, csrf, FHIR_BUNDLE.name, FHIR_BUNDLE.read_bytes())
        assert answer.status_code == 200, answer.text[:300]
        text = _text(answer.text)
        assert "Imported crc-0001" in text
        assert "Stored as record version 1." in text
        assert "skipped Observation/crc-cea" in text
        assert "unknown code: no record field for it" in text
        assert 'href="/patients/crc-0001"' in answer.text
        assert client.get("/patients/crc-0001").status_code == 200


def test_simulated_medians_count_eradicated_tumors(server: Server) -> None:
    """The chart's median tumor is over all virtual patients: eradicated tumors (0 cells) used
    to be left out, so the median of the few persisting tumors was drawn instead."""
    path = ip.data.example_path("fl_relapsed.json")
    record = ip.read_patient(path)
    plan = ip.recommend(ip.profile(record))
    comparisons = candidate_comparisons(plan, n_virtual=SIMULATED_PATIENTS, seed=0)
    client, csrf = _login(server, "clinician")
    with closing(client):
        stored = _upload(client, csrf, path.name, path.read_bytes())
        assert stored.status_code == 303, stored.text[:300]
        answer = client.post(
            f"/patients/{record.patient_id}/simulate",
            headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        )
        assert answer.status_code == 200, answer.text[:300]
    figures = [json.loads(html.unescape(f)) for f in FIGURE.findall(answer.text)]
    assert len(figures) == len(comparisons)
    checked = eradicated = 0
    for figure, (_, _, cmp) in zip(figures, comparisons, strict=True):
        medians = {d["name"]: d["y"] for d in figure["data"] if d.get("name") and d["yaxis"] == "y"}
        for label, tr in cmp.trajectories.items():
            expected = np.median(np.asarray(tr.tumor, dtype=float)[tr.ok], axis=0)
            shown = medians[label]
            for value, median in zip(shown, expected, strict=True):
                if median > 0:
                    assert value is not None
                    assert np.isclose(value, median, rtol=1e-9)
                else:  # at least half eradicated: the median is 0, not drawn on a log axis
                    assert value is None
                    eradicated += 1
                checked += 1
    assert checked
    assert eradicated


def test_cohort_upload_errors_name_the_upload(server: Server) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("notes.txt", "a zip archive, not a workbook")
    uploads = (
        ("broken.xlsx", b"PK\x03\x04 not a zip archive"),
        ("archive.xlsx", archive.getvalue()),
        ("empty.csv", b""),
    )
    client, csrf = _login(server, "clinician")
    with closing(client):
        for name, data in uploads:
            answer = client.post(
                "/cohorts/import",
                data={"csrf_token": csrf},
                files={"file": (name, data, "application/octet-stream")},
            )
            assert answer.status_code == 422, answer.text[:300]
            text = _text(answer.text)
            assert f"{name}: 1 invalid field" in text
            assert "cannot be read as a table" in text
            assert "immunoprecise-upload-" not in text  # the server's temporary copy
