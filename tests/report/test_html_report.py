"""The HTML report: well-formed, with every required section, escaped input and provenance."""

from __future__ import annotations

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
