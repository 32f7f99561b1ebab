"""Malformed and adversarial input, generated: accepted with consistent values or rejected with
field-named errors — never an uncaught exception.

Each entry point gets ``EXAMPLES`` generated cases (500 by default; the environment variable
``IMMUNOPRECISE_FUZZ_EXAMPLES`` changes it, and ``make release-check`` runs 10,000): patient
documents (the shipped examples with values replaced by NaN, ±inf, huge or negative numbers,
unicode, wrong types, missing and unknown keys), patient tables (CSV), regimen texts and
virtual-trial designs.
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import immunoprecise as ip
from immunoprecise.dynamics import Regimen
from immunoprecise.dynamics.trials import TrialDesign, load_trial_design
from immunoprecise.errors import ExpressionError, ImmunopreciseError, ValidationError
from immunoprecise.profile.expression import read_expression
from immunoprecise.records import (
    PatientRecord,
    column_catalogue,
    read_fhir_bundles,
    record_to_fhir,
    validate_model,
)

EXAMPLES = int(os.environ.get("IMMUNOPRECISE_FUZZ_EXAMPLES", "500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure in CI reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

DOCUMENTS = [json.loads(p.read_text(encoding="utf-8")) for p in ip.data.example_patients()]
TRIAL = yaml.safe_load(ip.data.example_path("fl_gammadelta_trial.yaml").read_text("utf-8"))

STRINGS = st.sampled_from(
    ["", " ", "NaN", "nan", "inf", "-inf", "-1", "1e309", "0", "null", "mg/L", "cells/µL",
     "10^9/L", "cells/mm²", "pg/mL", "days", "%", "😀", "ß\u0301", "\x00", "a" * 300,
     "1,5", "12 mg", "2026-13-45", "2026-02-30", "P1; DROP TABLE patients", "<script>"]
)  # fmt: skip
LEAVES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=40),
    STRINGS,
    st.none(),
    st.booleans(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(-5, 5), max_size=2),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON document (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, *, delete: bool) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif delete and isinstance(parent, list):
        parent.pop(path[-1])
    else:
        parent[path[-1]] = value


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any]) -> Any:
    """A document with 1–4 values replaced, deleted, or unknown keys added."""
    doc = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        try:
            if action == "add":
                target = doc
                for key in path[:-1]:
                    target = target[key]
                if isinstance(target, dict):
                    target[draw(st.text(min_size=1, max_size=12))] = draw(LEAVES)
            else:
                _set(doc, path, draw(LEAVES), delete=action == "delete")
        except (KeyError, IndexError, TypeError):
            continue
    return doc


def _named(exc: ValidationError) -> None:
    """A rejection names at least one field, with a message."""
    assert exc.problems, str(exc)
    for problem in exc.problems:
        assert problem.field, str(exc)
        assert problem.message, str(exc)


def _finite_numbers(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_numbers(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite_numbers(v) for v in value)
    return True


@FUZZ
@given(mutated(DOCUMENTS))
def test_patient_documents_are_accepted_or_named(doc: Any) -> None:
    try:
        record = validate_model(PatientRecord, doc, source="generated.json")
    except ValidationError as exc:
        _named(exc)
        return
    # accepted: every number is finite and the record round-trips unchanged
    dumped = record.model_dump(mode="json")
    assert _finite_numbers(dumped)
    assert validate_model(PatientRecord, dumped) == record


PROFILE_EXAMPLES = max(1, EXAMPLES // 10)


@settings(FUZZ, max_examples=PROFILE_EXAMPLES)
@given(mutated(DOCUMENTS))
def test_accepted_records_profile_and_recommend_without_crashing(doc: Any) -> None:
    try:
        record = validate_model(PatientRecord, doc, source="generated.json")
    except ValidationError:
        return
    refusal = ""
    try:
        plan = ip.recommend(ip.profile(record))
    except ImmunopreciseError as exc:  # a named refusal is allowed, a crash is not
        refusal = str(exc)
    else:
        assert plan.options is not None
    assert refusal or plan.patient_id == record.patient_id


COLUMNS = [c for c, _ in column_catalogue()]
CELLS = st.one_of(
    STRINGS, st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=20)
)


@st.composite
def tables(draw: st.DrawFn) -> str:
    header = ["patient_id", "diagnosis", *draw(st.lists(st.sampled_from(COLUMNS), max_size=6))]
    header += draw(st.lists(st.text(min_size=1, max_size=10), max_size=1))  # unknown columns
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header)), max_size=3))

    def cell(x: str) -> str:
        return '"' + x.replace('"', '""') + '"'

    lines = [",".join(cell(h) for h in header)] + [",".join(cell(c) for c in r) for r in rows]
    return "\n".join(lines) + "\n"


@FUZZ
@given(tables())
def test_patient_tables_are_accepted_or_named(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path: Path = tmp_path_factory.getbasetemp() / "generated.csv"
    path.write_text(text, encoding="utf-8")
    try:
        records = ip.read_patients(path)
    except ValidationError as exc:
        _named(exc)
        return
    for record in records:
        assert _finite_numbers(record.model_dump(mode="json"))


REGIMEN_WORDS = st.sampled_from(
    ["chemo", "IL2", "CAR-T", "rituximab", "zoledronate", "1", "0", "-1", "1e6", "1e400", "nan",
     "mg", "mg/kg", "IU/d", "cells", "mg/m2", "d0", "d8-12", "d0,7,14", "d-3", "d12-8", "q21d",
     "q2w", "x6", "x0", "x1000000", ";", "#", "+", "d", "q", "x", "🧪", "\t", ""]
)  # fmt: skip
REGIMENS = st.one_of(
    st.lists(REGIMEN_WORDS, max_size=12).map(" ".join),
    st.text(max_size=60),
)


@FUZZ
@given(REGIMENS)
def test_regimen_texts_are_accepted_or_named(text: str) -> None:
    try:
        regimen = Regimen.parse(text)
    except ValidationError as exc:
        _named(exc)
        return
    # accepted: the canonical text parses back to the same doses
    again = Regimen.parse(str(regimen))
    assert [(d.agent, d.start, d.end, d.amount) for d in again.doses()] == [
        (d.agent, d.start, d.end, d.amount) for d in regimen.doses()
    ]


@FUZZ
@given(mutated([TRIAL]))
def test_trial_designs_are_accepted_or_named(doc: Any) -> None:
    try:
        design = load_trial_design(doc) if isinstance(doc, dict) else load_trial_design({})
    except ValidationError as exc:
        _named(exc)
        return
    assert isinstance(design, TrialDesign)
    assert design.n_chunks >= 1
    assert TrialDesign.model_validate(design.model_dump()) == design


BUNDLES = [
    record_to_fhir(validate_model(PatientRecord, doc)) for doc in DOCUMENTS[:4]
]  # exported by the package itself, then broken


@FUZZ
@given(mutated(BUNDLES))
def test_fhir_bundles_are_accepted_or_refused_with_a_reason(bundle: Any) -> None:
    refusal: ImmunopreciseError | None = None
    imported = []
    try:
        imported = read_fhir_bundles(bundle)
    except ImmunopreciseError as exc:
        refusal = exc
    if isinstance(refusal, ValidationError):
        _named(refusal)
    elif refusal is not None:
        assert str(refusal)  # a refusal says why
    for item in imported:
        assert _finite_numbers(item.record.model_dump(mode="json"))
        assert all(s.reason for s in item.skipped)


GENES = st.sampled_from(
    [
        "CD8A",
        "CD8B",
        "GZMA",
        "PRF1",
        "CXCL9",
        "CXCL10",
        "IFNG",
        "ACTB",
        "",
        "cd8a",
        "ENSG00000153563",
        "🧬",
    ]
)
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=0, max_value=1e6),
    st.integers(-10, 10**9).map(float),
)


@st.composite
def matrices(draw: st.DrawFn) -> tuple[Any, str]:
    import pandas as pd

    genes = draw(st.lists(GENES, min_size=0, max_size=8))
    samples = draw(st.lists(st.sampled_from(["S1", "S2", "S3", "", "S1 ", "😀"]), max_size=4))
    values = [[draw(VALUES) for _ in samples] for _ in genes]
    frame = pd.DataFrame(values, index=genes, columns=samples, dtype=float)
    return frame, draw(st.sampled_from(["counts", "tpm", "log2tpm"]))


@FUZZ
@given(matrices())
def test_expression_matrices_are_accepted_or_named(case: tuple[Any, str]) -> None:
    frame, units = case
    refusal = ""
    try:
        matrix = read_expression(frame, units=units)  # type: ignore[arg-type]
    except ExpressionError as exc:
        refusal = str(exc)
    if refusal:
        return
    tpm = matrix.tpm()
    values = tpm.to_numpy(dtype=float)
    assert (values[~np.isnan(values)] >= 0).all()  # missing stays missing, never negative
    assert not np.isinf(values).any()
    assert not tpm.index.duplicated().any()
    assert len(set(matrix.samples)) == len(matrix.samples)
