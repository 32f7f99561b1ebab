"""The cohort report: tests named once, the knowledge base it used, each cut's group curves."""

from __future__ import annotations

from html import escape as html_escape

import pandas as pd

from immunoprecise.cohort import cohort_frame, response_table
from immunoprecise.cohort.cutpoint import optimal_cutpoint
from immunoprecise.data import example_path
from immunoprecise.knowledge import load_knowledge_base
from immunoprecise.report.cohort import CohortReportOptions, render_cohort_html

COHORT = example_path("fl_cohort.csv")


def test_response_tests_are_named_once() -> None:
    frame = cohort_frame(COHORT)
    html = render_cohort_html(frame, CohortReportOptions(by="risk.flipi:category"))
    table = response_table(frame, by="risk.flipi:category")
    assert table.orr_test is not None
    assert table.cr_test is not None
    for test in (table.orr_test, table.cr_test):
        assert html_escape(str(test), quote=False) in html
    assert "ORR: ORR:" not in html
    assert "CR: CR rate:" not in html
    assert html.count(f"{table.orr_test.name} ") == 1


def test_the_knowledge_base_that_computed_the_profile_values_is_recorded() -> None:
    kb = load_knowledge_base()
    html = render_cohort_html(cohort_frame(COHORT), CohortReportOptions(), source=COHORT)
    assert f"knowledge base {kb.version}, sha256 <code>{kb.sha256}</code>" in html
    # an analysis table made elsewhere was not computed by it, and says nothing of it
    table = pd.DataFrame(
        {"patient_id": ["a", "b", "c"], "os_days": [10.0, 20, 30], "os_event": [1, 0, 1]}
    )
    assert "knowledge base" not in render_cohort_html(table, CohortReportOptions())


def test_each_cut_point_has_the_curves_of_its_two_groups_with_numbers_at_risk() -> None:
    frame = cohort_frame(COHORT)
    biomarker = "cd8_foxp3_ratio.interfollicular"
    options = CohortReportOptions(endpoint="pfs", biomarkers=(biomarker,), n_boot=20)
    html = render_cohort_html(frame, options)
    section = html.split('id="cutpoint-1"', 1)[1].split("</section>", 1)[0]
    assert section.count("<svg") == 2  # the scan, then the groups' curves
    curves = section.split("<svg")[2]
    assert "Number at risk" in curves
    cut = optimal_cutpoint(frame, biomarker, endpoint="pfs", n_boot=20)
    for group in cut.groups:  # the legend: each group of the cut with its patients and events
        label = html_escape(f"{group.label} (n={group.n}, {group.events} events)", quote=False)
        assert label in curves
    assert "p not adjusted for the search" in curves
    assert f"log-rank χ² = {cut.logrank.estimate:.3f}" in curves
