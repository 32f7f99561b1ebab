"""Counts in the evaluation report agree with their noun: ``1 virtual patient``, ``30 virtual
patients``."""

from __future__ import annotations

import immunoprecise as ip
from immunoprecise.dynamics.candidates import simulated_regimens
from immunoprecise.report import render_html


def _report(n_virtual: int) -> str:
    record = ip.read_patient(ip.data.example_path("mm_post_asct.json"))
    evaluation = ip.evaluate(record)
    simulations = tuple(simulated_regimens(evaluation.plan, n_virtual=n_virtual, max_classes=1))
    assert simulations, "the example's top option has a simulated therapy class"
    return render_html(evaluation.model_copy(update={"simulations": simulations}), record)


def test_one_virtual_patient_is_singular() -> None:
    html = " ".join(_report(1).split())
    assert "over 1 virtual patient (published" in html
    assert "median of 1 virtual patient and" in html
    assert "1 virtual patients" not in html


def test_several_virtual_patients_are_plural() -> None:
    html = " ".join(_report(3).split())
    assert "over 3 virtual patients (published" in html
    assert "median of 3 virtual patients and" in html
