"""The dashboard in a real browser (Chromium through Playwright) against the real server.

Screenshots of each step go to ``$IMMUNOPRECISE_ARTIFACTS`` when set, else to pytest's
``tmp_path``. The tests are skipped only when no Chromium binary is found (``$CHROMIUM``, else
``/usr/bin/chromium``); Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import immunoprecise as ip
from immunoprecise.cohort import kaplan_meier, response_table
from immunoprecise.safety import car_hematotox, grade_course
from service.service_server import Server
from service.test_dashboard_errors import moved_table
from service.test_versions_that_no_longer_validate import _store_one_that_no_longer_validates

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS_ENV = "IMMUNOPRECISE_ARTIFACTS"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM} (install it, e.g. apt-get install chromium, or set "
    "$CHROMIUM to its path)",
)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where the screenshots go."""
    chosen = os.environ.get(ARTIFACTS_ENV)
    folder = Path(chosen) if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(server: Server) -> Iterator[Page]:
    """A fresh browser page (a new context: no cookies) on the test server."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(
            base_url=server.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(30_000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        context.close()
        browser.close()
        assert not errors, f"JavaScript errors: {errors}"


def _shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_clinician_workflow(server: Server, page: Page, artifacts: Path) -> None:
    expect = sync_api.expect
    page.goto("/")
    expect(page.locator("footer")).to_contain_text("not a medical device")
    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("invalid or revoked token")
    _shot(page, artifacts, "01-login-error")

    page.fill("#token", server.tokens["clinician"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")
    _shot(page, artifacts, "02-patients-empty")

    page.set_input_files("#file", str(ip.data.example_path("crc_msih.json")))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/patients/SYN-CRC-001")
    expect(page.locator("#immunogram svg")).to_be_visible()
    expect(page.locator("#values")).to_contain_text("cells/mm²")
    _shot(page, artifacts, "03-patient-profile")

    page.click("#evaluate")
    expect(page.locator("#plan-result")).to_contain_text("Pembrolizumab")
    expect(page.locator("#plan-result")).to_contain_text("CIViC")
    _shot(page, artifacts, "04-evaluation")

    page.click("#simulate")
    expect(page.locator("#simulation .js-plotly-plot").first).to_be_visible()
    expect(page.locator("#simulation .plot-container").first).to_be_attached()
    _shot(page, artifacts, "05-simulation")

    with page.expect_download() as html_download:
        page.click("#report-html")
    html_path = html_download.value.path()
    assert html_path is not None
    assert Path(html_path).read_bytes().startswith(b"<!DOCTYPE html")

    if (page.locator("#report-pdf").count()) and _has_weasyprint():
        with page.expect_download() as pdf_download:
            page.click("#report-pdf")
        pdf_path = pdf_download.value.path()
        assert pdf_path is not None
        assert Path(pdf_path).read_bytes().startswith(b"%PDF-")

    # a CAR-T patient with a toxicity course: the safety card with its maximum grades
    page.goto("/patients")
    page.select_option("#example", "ball_cd19.json")
    page.click("#example-form button[type=submit]")
    page.wait_for_url("**/patients/SYN-BALL-001")
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    expect(page.locator("#crs-max")).to_have_text(grade_course(record).crs_max.text)
    expect(page.locator("#hematotox-score")).to_have_text(car_hematotox(record).text)
    expect(page.locator("#safety-days")).to_be_visible()
    page.locator("#safety").screenshot(path=str(artifacts / "06-safety.png"))

    page.goto("/patients")
    page.fill("#search", "zzz")
    expect(page.locator("#patient-list")).to_contain_text("No patients")
    page.fill("#search", "crc")
    expect(page.locator("#patient-list")).to_contain_text("SYN-CRC-001")
    _shot(page, artifacts, "07-search")

    page.click("text=Log out")
    page.wait_for_url(f"{server.url}/")
    page.goto("/patients")
    expect(page.locator("#token")).to_be_visible()


def test_cohort_workflow(server: Server, page: Page, artifacts: Path) -> None:
    expect = sync_api.expect
    page.goto("/")
    page.fill("#token", server.tokens["clinician"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")

    page.goto("/cohorts")
    expect(page.locator("#cohort-list")).to_contain_text("No cohort is stored yet")
    page.click("#cohort-example-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cohorts/FL%20example$"), timeout=120_000)
    expect(page.locator("h1")).to_contain_text("200 patients")

    # the survival fragment loads by itself and plotly draws the Kaplan–Meier curves
    expect(page.locator("#km-plot .main-svg").first).to_be_visible()
    expect(page.locator("#km-plot .gtitle")).to_contain_text("OS by risk.flipi:category")
    expect(page.locator("#log-rank")).to_be_visible()
    expect(page.locator("#log-rank")).to_contain_text("Log-rank χ²")
    expect(page.locator("#response-table")).to_be_visible()
    expect(page.locator("#response-table tbody tr").first).to_be_visible()
    fl = ip.data.example_path("fl_cohort.csv")
    strata = response_table(fl, by="risk.flipi:category").rows
    assert page.locator("#response-table tbody tr").count() == len(strata)
    km = kaplan_meier(fl, group="risk.flipi:category")
    assert km.log_rank is not None
    assert f"{km.log_rank.estimate:.2f}" in page.locator("#log-rank").inner_text()
    _shot(page, artifacts, "cohort-01-survival")

    # another endpoint: htmx swaps in a new fragment and plotly draws it again
    page.select_option("#endpoint", "pfs")
    expect(page.locator("#km-plot .gtitle")).to_contain_text("PFS by risk.flipi:category")
    expect(page.locator("#km-plot .main-svg").first).to_be_visible()
    expect(page.locator("#log-rank")).to_be_visible()
    _shot(page, artifacts, "cohort-02-pfs")

    page.fill("#n_boot", "50")
    page.click("#cutpoint-form button[type=submit]")
    expect(page.locator("#cutpoint-summary")).to_be_visible(timeout=120_000)
    expect(page.locator("#cutpoint-summary")).not_to_be_empty()
    expect(page.locator("#cut-km .main-svg").first).to_be_visible()
    expect(page.locator("#cut-scan .main-svg").first).to_be_visible()
    expect(page.locator("#cutpoint-result")).to_contain_text("50 bootstrap resamples")
    _shot(page, artifacts, "cohort-03-cutpoint")


def test_fragment_errors_read_as_messages(server: Server, page: Page, artifacts: Path) -> None:
    expect = sync_api.expect
    page.goto("/")
    page.fill("#token", server.tokens["clinician"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")
    page.goto("/cohorts")
    page.click("#cohort-example-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cohorts/FL%20example$"), timeout=120_000)
    expect(page.locator("#km-plot .main-svg").first).to_be_visible()

    # a number the browser accepts and the server does not read as a whole number: FastAPI's
    # own request validation, shown in the fragment as the field, the value and the reason
    page.fill("#n_boot", "1e2")
    page.click("#cutpoint-form button[type=submit]")
    alert = page.locator("#cutpoint-result [role=alert]")
    expect(alert).to_contain_text("the request is not valid")
    expect(alert).to_contain_text("query.n_boot = '1e2': Input should be a valid integer")
    assert "detail" not in page.locator("#cutpoint-result").inner_text()
    _shot(page, artifacts, "errors-01-invalid-field")

    # an unexpected error in a fragment (a registry table gone from under the server): a
    # message with the id the server log has it under
    with moved_table(server.db_url):
        page.select_option("#endpoint", "pfs")
        alert = page.locator("#survival-result [role=alert]")
        expect(alert).to_contain_text("internal error")
        expect(alert.locator("code.error-id")).to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
    assert "detail" not in page.locator("#survival-result").inner_text()
    assert "record_versions" not in page.locator("#survival-result").inner_text()
    _shot(page, artifacts, "errors-02-internal-error")


def test_a_record_to_correct_reads_as_a_page(server: Server, page: Page, artifacts: Path) -> None:
    expect = sync_api.expect
    pid = _store_one_that_no_longer_validates(server, sha256=True)
    page.goto("/")
    page.fill("#token", server.tokens["clinician"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")
    answer = page.goto(f"/patients/{pid}")
    assert answer is not None
    assert answer.status == 409
    expect(page.locator("h1")).to_contain_text("record version 1 needs correcting")
    expect(page.locator("#invalid-fields")).to_contain_text("patient.age = 131")
    expect(page.locator("#how-to-correct")).to_contain_text(f"PUT /api/v1/patients/{pid}")
    _shot(page, artifacts, "errors-03-record-to-correct")

    # the way the page names: import the corrected record on the patients page
    page.click("#how-to-correct a[href='/patients']")
    page.set_input_files("#file", str(ip.data.example_path("crc_msih.json")))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"**/patients/{pid}")
    expect(page.locator("#immunogram svg")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Record version 2")


def _has_weasyprint() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def test_trial_workflow(
    server: Server, page: Page, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from immunoprecise.service.routes import trials as trial_routes

    expect = sync_api.expect
    release = threading.Event()
    real_run_trial = trial_routes.run_trial

    def held_run_trial(design: Any, **kwargs: Any) -> Any:
        kwargs["progress"](1, 2)  # hold the job at 50% until the progress view was seen
        release.wait(120)
        return real_run_trial(design, **kwargs)

    monkeypatch.setattr(trial_routes, "run_trial", held_run_trial)
    page.goto("/")
    page.fill("#token", server.tokens["researcher"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")

    page.click("nav >> text=Trials")
    page.wait_for_url("**/trials")
    assert page.locator("#n_per_arm").input_value() == "500"
    page.fill("#n_per_arm", "200")
    page.click("#trial-example-form button[type=submit]")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f]{32}$"))
    expect(page.locator("#trial-percent")).to_have_text("50%")
    assert page.locator("#trial-progress-bar").get_attribute("value") == "50"
    assert page.locator("#trial-status").inner_text() == "running"
    assert page.locator("#trial-waterfall").count() == 0
    _shot(page, artifacts, "trial-00-progress")
    page.wait_for_timeout(1500)  # a poll or two: still running, still on the progress view
    assert page.locator("#trial-percent").inner_text() == "50%"
    release.set()

    # the progress view polls until the job is done, then the page reloads with the result
    expect(page.locator("#trial-waterfall svg")).to_be_visible(timeout=180_000)
    assert page.locator("#trial-waterfall svg").count() == 1
    assert page.locator("#trial-pfs svg").count() == 1
    assert page.locator("#trial-n").inner_text() == "200"
    assert len(page.locator("#trial-hash").inner_text()) == 64
    orr = page.locator("#trial-arm-table td.orr").all_inner_texts()
    assert len(orr) >= 2
    assert all(re.fullmatch(r"\d{1,3}\.\d%", text) for text in orr), orr
    labels = page.locator("#trial-arm-table tbody tr td:first-child").all_inner_texts()
    assert "rituximab" in labels
    assert "rituximab + zoledronate + IL-2" in labels
    assert page.locator("#trial-observed tbody tr").count() >= 1
    assert page.locator("#trial-progress").count() == 0
    _shot(page, artifacts, "trial-01-result")

    page.click("text=← Trials")
    expect(page.locator("#trial-jobs")).to_contain_text("done")
    assert page.locator("#trial-results tbody tr").count() == 1
    assert "rituximab:" in page.locator("#trial-results").inner_text()
    _shot(page, artifacts, "trial-02-list")


WAIT_MS = 30_000
"""How long the patient-list assertions wait for the page to update (ms)."""


def test_the_patient_list_pages_and_filters_across_pages(
    server: Server, page: Page, artifacts: Path
) -> None:
    from service.test_dashboard_patient_pages import store_patients

    expect = sync_api.expect  # assertions wait WAIT_MS: a busy 2-core machine is slow
    ids = store_patients(server, 120)
    page.goto("/")
    page.fill("#token", server.tokens["clinician"])
    page.click("button[type=submit]")
    page.wait_for_url("**/patients")
    listed = page.locator("#patient-list li")
    expect(listed).to_have_count(50, timeout=WAIT_MS)
    expect(page.locator("#patient-list")).to_contain_text("1–50 of 120 patients", timeout=WAIT_MS)

    page.click("#patient-list a[rel=next]")
    expect(page.locator("#patient-list")).to_contain_text("51–100 of 120 patients", timeout=WAIT_MS)
    expect(listed.first).to_have_text(ids[50], timeout=WAIT_MS)
    _shot(page, artifacts, "patients-second-page")

    page.fill("#search", "pg-011")  # ids past the first page
    expect(page.locator("#patient-list")).to_contain_text("10 patients matching", timeout=WAIT_MS)
    expect(listed).to_have_count(10, timeout=WAIT_MS)
    expect(listed.first).to_have_text("PG-0110", timeout=WAIT_MS)
    page.fill("#search", "")
    expect(page.locator("#patient-list")).to_contain_text("1–50 of 120 patients", timeout=WAIT_MS)
    assert [text.strip() for text in listed.all_inner_texts()] == ids[:50]
