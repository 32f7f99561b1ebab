"""Dashboard trial pages over a real server: progress, result, CSRF, YAML errors, owners."""

from __future__ import annotations

import datetime as dt
import html
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from immunoprecise.registry.schema import ServiceJobRow
from immunoprecise.service.jobs import RESUMED_MESSAGE
from immunoprecise.service.routes import trials as trial_routes
from immunoprecise.service.routes.trials import MAX_DESIGN_PATIENTS
from service.service_server import Server
from service.test_dashboard import _csrf, _login

ARMS = ("rituximab", "rituximab + zoledronate + IL-2")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every trial job at 50% until the returned event is set (the server runs in this
    process, so the job's ``run_trial`` can be wrapped)."""
    release = threading.Event()
    real = trial_routes.run_trial

    def run_trial(design: Any, **kwargs: Any) -> Any:
        kwargs["progress"](1, 2)
        assert release.wait(120), "the test never released the trial"
        return real(design, **kwargs)

    monkeypatch.setattr(trial_routes, "run_trial", run_trial)
    yield release
    release.set()


def _start_example(client: httpx.Client, n: int = 200) -> str:
    page = client.get("/trials")
    assert page.status_code == 200, page.text[:500]
    done = client.post("/trials/example", data={"csrf_token": _csrf(page), "n_per_arm": str(n)})
    assert done.status_code == 303, done.text[:500]
    location = done.headers["location"]
    assert location.startswith("/trials/")
    return location.rsplit("/", 1)[1]


def _wait_done(client: httpx.Client, job_id: str, timeout: float = 180.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(f"/trials/{job_id}")
        assert page.status_code == 200, page.text[:500]
        if 'id="trial-arm-table"' in page.text or "badge job-failed" in page.text:
            return page
        assert time.monotonic() < deadline, f"trial {job_id} did not finish: {page.text[:500]}"
        time.sleep(0.2)


def _wait_progress(
    client: httpx.Client, job_id: str, *, percent: int, timeout: float = 30.0
) -> httpx.Response:
    """The job's progress fragment once it shows ``percent`` (the job writes its progress to
    the registry from its own thread, a few milliseconds after it starts)."""
    deadline = time.monotonic() + timeout
    while True:
        fragment = client.get(f"/trials/{job_id}/progress", headers={"HX-Request": "true"})
        if f'value="{percent}"' in fragment.text:
            return fragment
        assert time.monotonic() < deadline, f"trial {job_id} never at {percent}%: {fragment.text}"
        time.sleep(0.05)


def test_example_trial_shows_progress_then_the_result(
    server: Server, held: threading.Event
) -> None:
    client, _ = _login(server, "clinician")
    with closing(client):
        empty = client.get("/trials")
        assert "No trial started from the dashboard" in empty.text
        assert "No trial result is stored yet" in empty.text
        assert '<a href="/trials">Trials</a>' in empty.text
        assert 'value="500"' in empty.text
        assert f'max="{MAX_DESIGN_PATIENTS}"' in empty.text

        job_id = _start_example(client)
        fragment = _wait_progress(client, job_id, percent=50)
        running = client.get(f"/trials/{job_id}")
        listing = client.get("/trials")
        held.set()
        page = _wait_done(client, job_id)
        after = client.get(f"/trials/{job_id}/progress", headers={"HX-Request": "true"})
        final_listing = client.get("/trials")
    with server.client("clinician") as api:
        stored = api.get(f"/api/v1/trials/{job_id}/result")
    assert stored.status_code == 200, stored.text[:500]
    payload = stored.json()["payload"]

    # while the job runs: a self-refreshing progress bar at 50%
    assert running.status_code == 200
    assert 'id="trial-status">running</span>' in running.text
    assert '<progress id="trial-progress-bar" value="50" max="100">' in running.text
    assert '<span id="trial-percent">50%</span>' in running.text
    assert "1 of 2 chunks of patients" in running.text  # 200 patients in chunks of 100
    assert f'hx-get="/trials/{job_id}/progress" hx-trigger="every 1s"' in running.text
    assert '<meta http-equiv="refresh" content="2">' in running.text
    assert 'id="trial-arm-table"' not in running.text
    assert fragment.status_code == 200
    assert "HX-Refresh" not in fragment.headers
    assert 'value="50"' in fragment.text
    assert "<html" not in fragment.text
    assert "Relapsed FL: rituximab vs rituximab + γδ T-cell activation" in listing.text
    assert 'class="badge job-running">running</span>' in listing.text

    # once done: the stored result
    assert "badge job-failed" not in page.text, page.text[:2000]
    text = html.unescape(page.text)
    assert after.headers.get("HX-Refresh") == "true"
    assert 'value="100"' in after.text
    assert "hx-trigger" not in after.text
    assert 'http-equiv="refresh"' not in page.text
    assert payload["design"]["n_per_arm"] == 200
    assert f'<td class="pid" id="trial-hash">{payload["design_hash"]}</td>' in page.text
    assert f'<td id="trial-seed">{payload["seed"]}</td>' in page.text
    assert payload["disclaimer"] in text
    for arm in payload["design"]["arms"]:
        assert f"<code>{arm['regimen']}</code>" in text
    overall = [a for a in payload["arms"] if a["stratum"] is None]
    assert [a["label"] for a in overall] == list(ARMS)
    for arm in payload["arms"]:
        orr = f"{100 * arm['orr']['estimate']:.1f}%"
        ci = f"{100 * arm['orr']['ci_low']:.1f}–{100 * arm['orr']['ci_high']:.1f}"
        row = f'<td class="num orr">{orr}</td><td class="num">{ci}</td>'
        assert row in text
        assert f"<td>{arm['label']}</td><td>{arm['stratum'] or 'all'}</td>" in text
    assert text.count('<td class="num orr">') == len(payload["arms"])
    strata = {a["stratum"] for a in payload["arms"]}
    assert {"low FLIPI", "intermediate/poor FLIPI"} <= strata
    for o in payload["observed"]:
        assert f'<td class="num gap">{o["gap_points"]:+.1f}</td>' in text
        assert f'<td class="num">{o["p_value"]:.3g}</td>' in text
    waterfall = page.text.split('id="trial-waterfall">', 1)[1]
    assert waterfall.lstrip().startswith("<svg") or "<svg" in waterfall[:400]
    assert 'id="trial-pfs">' in page.text
    for note in payload["notes"]:
        assert html.escape(note) in page.text

    # the list: the job done and the stored result with its hash prefix and ORR per arm
    assert 'class="badge job-done">done</span>' in final_listing.text
    assert f"{payload['design_hash'][:12]}…" in final_listing.text
    first = f"{ARMS[0]}: <strong>{100 * overall[0]['orr']['estimate']:.1f}%</strong>"
    assert first in html.unescape(final_listing.text)
    result_id = stored.json()["id"]
    assert f'href="/trials/results/{result_id}"' in final_listing.text


def test_trial_posts_need_the_csrf_token(server: Server) -> None:
    client, csrf = _login(server, "researcher")
    with closing(client):
        missing = client.post("/trials/example", data={"n_per_arm": "100"})
        wrong = client.post("/trials/design", data={"csrf_token": "x" * 40, "design": "name: x"})
        listing = client.get("/trials")
    assert csrf
    for refused in (missing, wrong):
        assert refused.status_code == 403
        assert "security token is missing or out of date" in refused.text
    assert "No trial started from the dashboard" in listing.text


def test_invalid_yaml_and_designs_are_named_on_the_page(
    server: Server, no_internals: Callable[[httpx.Response], None]
) -> None:
    client, _ = _login(server, "researcher")
    with closing(client):
        csrf = _csrf(client.get("/trials"))

        def post(design: str) -> httpx.Response:
            return client.post("/trials/design", data={"csrf_token": csrf, "design": design})

        broken = post("name: [unclosed\nmodel: fl_adcc\n")
        not_mapping = post("- just\n- a list\n")
        invalid = post(
            "name: <b>test</b>\nmodel: nosuchmodel\nseed: 1\nn_per_arm: 0\n"
            "follow_up_days: 30\narms:\n  - {id: a, regimen: 'rituximab 650 mg d0'}\n"
        )
        too_big = post(
            "name: big\nmodel: fl_adcc\nseed: 1\nfollow_up_days: 84\n"
            f"n_per_arm: {MAX_DESIGN_PATIENTS + 1}\n"
            "arms:\n  - {id: a, regimen: 'rituximab 650 mg d0'}\n"
        )
        bad_number = client.post("/trials/example", data={"csrf_token": csrf, "n_per_arm": "-3"})
        listing = client.get("/trials")
    for response in (broken, not_mapping, invalid, too_big, bad_number):
        assert response.status_code == 422, response.text[:500]
        assert 'role="alert"' in response.text
        no_internals(response)
    assert "design: not valid YAML at line" in broken.text
    assert "name: [unclosed" in broken.text  # the pasted text is kept in the textarea
    assert "expected a mapping of fields" in not_mapping.text
    assert "<li>model = &#39;nosuchmodel&#39;: unknown model" in invalid.text
    assert "<li>n_per_arm = 0: " in invalid.text  # the field, the value, what is expected
    assert "nosuchmodel" in invalid.text
    assert "&lt;b&gt;test&lt;/b&gt;" in invalid.text
    assert "<b>test</b>" not in invalid.text
    assert "<li>body.n_per_arm = 20001: at most 20,000 patients per arm" in too_big.text
    assert "<li>n_per_arm = &#39;-3&#39;: give a whole number from 1 to 20,000" in bad_number.text
    assert "No trial started from the dashboard" in listing.text


def test_another_users_trial_is_not_found(server: Server) -> None:
    clinician, _ = _login(server, "clinician")
    researcher, _ = _login(server, "researcher")
    admin, _ = _login(server, "admin")
    with closing(clinician), closing(researcher), closing(admin):
        job_id = _start_example(clinician, n=100)
        _wait_done(clinician, job_id)
        with server.client("clinician") as api:
            result_id = api.get(f"/api/v1/trials/{job_id}/result").json()["id"]
        other = researcher.get(f"/trials/{job_id}")
        other_fragment = researcher.get(f"/trials/{job_id}/progress")
        other_result = researcher.get(f"/trials/results/{result_id}")
        other_listing = researcher.get("/trials")
        unknown = clinician.get("/trials/0123456789abcdef")
        as_admin = admin.get(f"/trials/{job_id}")
        admin_result = admin.get(f"/trials/results/{result_id}")
        own_result = clinician.get(f"/trials/results/{result_id}")
    for missing in (other, other_fragment, other_result, unknown):
        assert missing.status_code == 404, missing.text[:300]
        assert "Error 404" in missing.text
    assert f"no trial job {job_id!r}".replace("'", "&#39;") in other.text
    assert job_id[:12] not in other_listing.text
    assert "No trial result is stored yet" in other_listing.text
    for shown in (as_admin, admin_result, own_result):
        assert shown.status_code == 200
        assert 'id="trial-arm-table"' in shown.text
        assert "<svg" in shown.text


def test_a_trial_started_again_by_another_process_says_so(server: Server) -> None:
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(server.db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(ServiceJobRow).values(
                    id="5" * 32,
                    kind=trial_routes.DESIGN_RESULT_KIND,
                    owner="cli-token",
                    status="running",
                    progress=0.25,
                    created_at=now,
                    heartbeat_at=now,
                    message=RESUMED_MESSAGE,
                    starts=2,
                    label="taken over",
                )
            )
    finally:
        engine.dispose()
    client, _ = _login(server, "clinician")
    with closing(client):
        page = client.get(f"/trials/{'5' * 32}")
    assert page.status_code == 200, page.text[:300]
    assert 'id="trial-note"' in page.text
    assert html.escape(RESUMED_MESSAGE.capitalize()) in page.text
    assert "badge job-running" in page.text


@pytest.mark.parametrize("value", ["", "   ", "1" * 21, "12,345,678,901,234,567,890"])
def test_an_empty_or_overlong_patients_per_arm_is_refused_in_the_form(
    server: Server, no_internals: Callable[[httpx.Response], None], value: str
) -> None:
    client, csrf = _login(server, "clinician")
    with closing(client):
        answer = client.post("/trials/example", data={"csrf_token": csrf, "n_per_arm": value})
        listing = client.get("/trials")
    assert answer.status_code == 422, answer.headers.get("location")
    no_internals(answer)
    text = html.unescape(answer.text)
    shown = value.strip() if len(value.strip()) <= 20 else value.strip()[:20] + "…"
    assert f"<li>n_per_arm = {shown!r}" in text
    assert ": give a whole number from 1 to 20,000</li>" in text
    assert 'id="trial-example-form"' in answer.text  # the form, to correct the value
    assert "No trial started from the dashboard" in listing.text  # nothing run
