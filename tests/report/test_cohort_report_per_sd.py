"""The cohort HTML report with hazard ratios per standard deviation (``cox_per_sd``): the Cox
table says so in its heading and header, gives each term's SD and its definition, and the
options recorded in the provenance carry the choice."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from immunoprecise.cohort import cohort_frame, cox_model
from immunoprecise.cohort.cox import SD_DEFINITION, CoxModel
from immunoprecise.cohort.statistic import format_ratio
from immunoprecise.data import example_path
from immunoprecise.errors import CohortError
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html

COHORT = example_path("fl_cohort.csv")
COVARIATES = ("crp", "risk.flipi:category")


def _cox_section(html: str) -> str:
    match = re.search(r'<section id="cox">.*?</section>', html, flags=re.S)
    assert match is not None
    return match.group(0)


def _hr_text(model: CoxModel, term: str) -> str:
    hr = model.hazard_ratios[term]
    return format_ratio(hr.estimate, hr.ci_low, hr.ci_high)


def _options_recorded(html: str) -> dict[str, object]:
    match = re.search(r"Options: (\{.*?\})</p>", html)
    assert match is not None
    return dict(json.loads(unescape(match.group(1))))


def test_report_per_sd_shows_hazard_ratios_per_sd_with_each_terms_sd() -> None:
    frame = cohort_frame(COHORT)
    options = CohortReportOptions(cox=COVARIATES, cox_per_sd=True, n_boot=0)
    html = render_cohort_html(frame, options, source=COHORT)
    section = _cox_section(html)
    expected = cox_model(frame, list(COVARIATES), scale="sd")
    per_unit = cox_model(frame, list(COVARIATES))
    assert expected.sd["crp"] > 0
    shown, unit = _hr_text(expected, "crp"), _hr_text(per_unit, "crp")
    assert shown != unit
    assert (
        f'<tr><td>crp</td><td class="num">{shown}</td>\n<td>{expected.per("crp")}</td>' in section
    )
    assert f"1 SD ({expected.sd['crp']:.4g})" in section
    assert "<th>HR per SD (95% CI)</th>" in section
    assert "hazard ratios per SD" in section
    assert SD_DEFINITION in section
    # a level is per level against its reference, never per SD
    level = next(t for t in expected.hazard_ratios if t.startswith("risk.flipi:category="))
    assert f"<td>{expected.per(level)}</td>" in section
    assert "vs" in expected.per(level)
    assert _options_recorded(html)["cox_per_sd"] is True


def test_report_without_per_sd_is_per_unit() -> None:
    frame = cohort_frame(COHORT)
    html = render_cohort_html(frame, CohortReportOptions(cox=("crp",), n_boot=0), source=COHORT)
    section = _cox_section(html)
    shown = _hr_text(cox_model(frame, ["crp"]), "crp")
    assert f'<tr><td>crp</td><td class="num">{shown}</td>\n<td class="num">' in section
    assert "<th>Hazard ratio (95% CI)</th>" in section
    assert "per SD" not in section
    assert "HR per unit" in section
    assert _options_recorded(html)["cox_per_sd"] is False


def test_report_per_sd_without_a_cox_model_is_refused() -> None:
    options = CohortReportOptions(cox_per_sd=True, n_boot=0)
    with pytest.raises(CohortError, match=r"cox_per_sd.*--cox"):
        render_cohort_html(cohort_frame(COHORT), options, source=COHORT)


def test_report_hazard_ratios_have_the_digits_of_every_other_table() -> None:
    """A hazard ratio per unit of a covariate with a wide range is close to 1: written with two
    decimals it read "1.00 (1.00–1.00)"; the report writes it as the command line and the
    tables do, with the decimals that tell it and its CI apart from 1."""
    frame = cohort_frame(COHORT)
    frame["crp"] = frame["crp"] * 1000  # CRP in µg/L: a thousand times smaller steps
    html = render_cohort_html(frame, CohortReportOptions(cox=("crp",), n_boot=0), source=COHORT)
    model = cox_model(frame, ["crp"])
    hr = model.hazard_ratios["crp"]
    two_decimals = f"{hr.estimate:.2f} ({hr.ci_low:.2f}–{hr.ci_high:.2f})"
    assert two_decimals == "1.00 (1.00–1.00)"  # the case where two decimals say nothing
    assert f'<td class="num">{_hr_text(model, "crp")}</td>' in _cox_section(html)
    assert two_decimals not in _cox_section(html)
