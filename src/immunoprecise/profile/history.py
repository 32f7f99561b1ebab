"""Treatment history and HLA type, as the rules read them.

- ``prior.<category>`` — whether a prior therapy of that kind is recorded (categories and their
  name patterns are data: ``therapy_history.yaml``);
- ``days_since.<category>`` — days from the latest such therapy (its end date, else its start)
  to the date the record was collected, for categories that open timing windows (autologous
  transplant, CAR-T); not assessable, with a note, when that date is after the collection date
  (the therapy had not finished, or not started, by the record date);
- ``prior_severe_irae`` — a grade ≥ 3 immune-related adverse event on a prior therapy; not
  assessable when none is recorded and a prior immunotherapy lacks its irAE grade;
- ``hla_type`` — the HLA alleles, for MHC-restricted products (TCR-T, tebentafusp).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from immunoprecise.profile.values import Computed, Metric, ValueBuilder, labelled

__all__ = ["history_values"]

_SEVERE_GRADE = 3  # CTCAE v5 grade 3 = severe (ctcae5)
_IMMUNOTHERAPY = ("checkpoint_inhibitor", "car_t", "bispecific_t_cell_engager")


def _days(start: str, end: object) -> float:
    if not isinstance(end, str):
        return np.nan
    return float((dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days)


def history_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """Prior-therapy categories, days since timing anchors, prior severe irAE and HLA type."""
    rows = build.cols.text("patient.prior_therapies[]")
    collected = build.cols.text("collected_on")
    n = len(rows)
    unrecorded = np.fromiter((ts is None for ts in rows), dtype=bool, count=n)  # not "none"
    # One flat list of all patients' prior therapies; each distinct name/class is matched once.
    owner = np.fromiter((i for i, ts in enumerate(rows) for _ in ts or ()), dtype=np.intp)
    texts = [f"{name} | {cls}" for ts in rows for name, cls, _, _ in ts or ()]
    dates = pd.Series([date for ts in rows for _, _, date, _ in ts or ()], dtype=object)
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
    out: list[Computed] = []
    immunotherapy_entry = np.zeros(len(texts), dtype=bool)  # per prior therapy, all patients
    for category in build.kb.therapy_history:
        hit = np.array([category.matches(str(u)) for u in uniques], dtype=bool)[codes]
        if category.id in _IMMUNOTHERAPY:
            immunotherapy_entry |= hit
        flags = np.zeros(n, dtype=bool)
        flags[owner[hit]] = True
        latest = np.full(n, np.nan)
        if category.track_days and hit.any():
            dated = hit & dates.notna().to_numpy()
            last = dates[dated].groupby(owner[dated]).max()  # ISO dates sort as text
            for i, date in zip(last.index.to_numpy(dtype=int), last.to_numpy(), strict=True):
                latest[i] = _days(str(date), collected[i])
        # a therapy dated after the record's collection date had not finished (or not started)
        # by then: there is no interval since it to read
        ahead = latest < 0
        latest[ahead] = np.nan
        out.append(
            build.computed(
                Metric(
                    f"prior.{category.id}",
                    f"Prior {category.label}",
                    "a recorded prior therapy whose name or class matches the knowledge base's "
                    f"patterns for {category.label} (therapy_history.yaml)",
                    kind="bool",
                    inputs=("patient.prior_therapies",),
                ),
                np.where(unrecorded, np.nan, flags.astype(float)),
            )
        )
        if category.track_days:
            out.append(
                build.computed(
                    Metric(
                        f"days_since.{category.id}",
                        f"Days since {category.label}",
                        f"days from the latest {category.label} (end date, else start date) to "
                        "the date the record was collected",
                        formula="collected_on − date of the latest matching prior therapy",
                        kind="int",
                        unit="days",
                        inputs=("patient.prior_therapies", "collected_on"),
                        only_if_assessed=True,
                    ),
                    latest,
                    note=labelled(
                        ahead,
                        f"the latest {category.label} ends (or, without an end date, starts) "
                        "after the record's collection date: not finished by the record date, "
                        "so no interval since it can be read",
                    ),
                )
            )
    out.append(_severe_irae(build, rows, owner, immunotherapy_entry, unrecorded))
    out.append(
        build.recorded(
            Metric("hla_type", "HLA type", "as recorded", kind="text", inputs=("patient.hla_type",))
        )
    )
    return out


def _severe_irae(
    build: ValueBuilder,
    rows: np.ndarray,
    owner: np.ndarray,
    immunotherapy_entry: np.ndarray,
    unrecorded: np.ndarray,
) -> Computed:
    """Grade ≥ 3 irAE on any prior therapy: yes; else unknown when any prior immunotherapy
    lacks its grade (its irAE may have been severe) or the history is not recorded; else no."""
    n = len(rows)
    ungraded = np.zeros(n, dtype=bool)  # a prior immunotherapy recorded without its irAE grade
    flat_grades = [g for ts in rows for *_, g in ts or ()]
    for i, entry, grade in zip(owner, immunotherapy_entry, flat_grades, strict=True):
        if entry and grade is None:
            ungraded[i] = True
    value = np.zeros(n, dtype=float)
    for i, therapies in enumerate(rows):
        grades = [g for *_, g in therapies or () if g is not None]
        if any(g >= _SEVERE_GRADE for g in grades):
            value[i] = 1.0
        elif ungraded[i]:
            value[i] = np.nan  # an immunotherapy given, its toxicity not recorded
    value[unrecorded] = np.nan
    field = "patient.prior_therapies[].irae_grade"
    missing = build.missing(
        value, lambda i: ("patient.prior_therapies",) if unrecorded[i] else (field,)
    )
    return build.computed(
        Metric(
            "prior_severe_irae",
            "Prior severe immune-related adverse event",
            "any prior therapy with an immune-related adverse event of CTCAE grade ≥ 3; not "
            "assessable when a prior immunotherapy is recorded without its irAE grade",
            kind="bool",
            references=("ctcae5", "dolladille2020"),
            inputs=("patient.prior_therapies",),
        ),
        value,
        missing=missing,
    )
