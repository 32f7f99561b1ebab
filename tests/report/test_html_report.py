"""The HTML report: well-formed, with every required section, escaped input and provenance."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import immunoprecise as ip
from immunoprecise.evaluation import DISCLAIMER
from immunoprecise.records import PatientRecord
from immunoprecise.report import render_html

_VOID = {"meta", "br", "link", "img", "hr", "input"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "a" and str(attributes.get("href", "")).startswith("#"):
            self.links.append(str(attributes["href"])[1:])
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def _render(name: str) -> tuple[str, Any]:
    record = ip.read_patient(ip.data.example_path(name))
    evaluation = ip.evaluate(record)
    return render_html(evaluation, record), evaluation


def test_report_is_well_formed_and_links_resolve() -> None:
    html, _ = _render("fl_relapsed.json")
    checker = _Checker()
    checker.feed(html)
    assert checker.errors == []
    assert checker.stack == []
    assert set(checker.links) <= checker.ids
    assert {"patient", "plan", "profile", "references"} <= checker.ids


def test_report_shows_units_references_disclaimer_and_provenance() -> None:
    html, evaluation = _render("fl_relapsed.json")
    assert DISCLAIMER in html
    assert evaluation.software.version in html
    assert evaluation.software.input_sha256 in html
    assert "cells/mm²" in html
    assert "ratio" in html
    assert "doi:10.3892/etm.2010.146" in html  # Saifi 2010 behind the CD8/FOXP3 cut-off
    assert "Lenalidomide + rituximab" in html


def test_not_assessable_values_are_shown_with_missing_fields(minimal: dict[str, Any]) -> None:
    record = PatientRecord.model_validate(minimal)
    html = render_html(ip.evaluate(record), record)
    assert "not assessable — missing tumor.pdl1_tps" in html


def test_user_text_is_escaped(minimal: dict[str, Any]) -> None:
    minimal["disease"]["diagnosis"] = "<script>alert(1)</script>"
    record = PatientRecord.model_validate(minimal)
    html = render_html(ip.evaluate(record), record)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.svg_hrefs: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if self.depth and (attributes.get("xlink:href") or attributes.get("href")):
            self.svg_hrefs.append(str(attributes.get("xlink:href") or attributes.get("href")))
        if tag == "svg":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth -= 1


def test_report_inlines_the_profile_figures_as_svg() -> None:
    html, _ = _render("fl_relapsed.json")
    figures = html.split('<h3 id="figures">Figures</h3>', 1)[1].split("</section>", 1)[0]
    for figure_id, svg_id in [
        ("fig-immunogram", "svg-immunogram"),
        ("fig-effector-suppressor", "svg-effectors"),
        ("fig-tumor-burden", "svg-burden"),  # fl_relapsed has SPD measurements
    ]:
        assert f'<figure id="{figure_id}">\n<svg id="{svg_id}" role="img"' in figures
    assert figures.count("<svg") == 3
    assert "<figcaption>Cancer immunogram (Blank" in figures
    assert "&lt;svg" not in html  # inlined, not escaped
    assert "<script" not in html.lower()
    parser = _Ids()
    parser.feed(html)
    assert len(parser.ids) == len(set(parser.ids)), "element ids clash between figures"
    assert parser.svg_hrefs
    assert all(h.startswith("#") and h[1:] in parser.ids for h in parser.svg_hrefs)


def test_report_without_record_or_burden_has_no_burden_figure(minimal: dict[str, Any]) -> None:
    record = ip.read_patient(ip.data.example_path("crc_msih.json"))
    html = render_html(ip.evaluate(record))
    assert html.count("<svg") == 2
    assert 'id="svg-burden"' not in html
    no_burden = PatientRecord.model_validate(minimal)
    html = render_html(ip.evaluate(no_burden), no_burden)
    assert 'id="svg-immunogram"' in html
    assert 'id="svg-effectors"' in html
    assert 'id="svg-burden"' not in html


def test_plan_section_has_answers_strategies_timing_and_contraindications() -> None:
    record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    html = render_html(ip.evaluate(record), record)
    assert 'id="answers"' in html
    assert "Give effector cells as a drug" in html
    assert 'id="strategy-ball_debulk_lymphodeplete_car_t"' in html
    # negative days with a minus sign and "to", as the knowledge base's timings write them
    assert "Lymphodepletion before an effector-cell infusion: days −7 to −2." in html
    assert "days -7" not in html
    assert 'href="#ref-park2018"' in html
    assert 'id="ref-park2018"' in html
    data = record.model_dump(mode="json")
    data["tumor"]["antigens"][0]["status"] = "negative"  # CD19-negative relapse
    negative = PatientRecord.model_validate(data)
    html = render_html(ip.evaluate(negative), negative)
    assert 'id="contraindicated"' in html
    assert "Contraindication (contraindicate)" in html
    assert html.index('id="contraindicated"') > html.index('id="options"')


def test_the_report_tells_no_prior_therapy_from_an_unrecorded_history() -> None:
    data = json.loads(ip.data.example_path("nsclc_cold.json").read_text(encoding="utf-8"))
    data.pop("expression", None)
    naive = PatientRecord.model_validate(data)
    assert "<dt>Prior therapies</dt><dd>none</dd>" in render_html(ip.evaluate(naive), naive)
    del data["patient"]["prior_therapies"]
    unrecorded = PatientRecord.model_validate(data)
    html = render_html(ip.evaluate(unrecorded), unrecorded)
    assert "<dt>Prior therapies</dt><dd>not recorded</dd>" in html
