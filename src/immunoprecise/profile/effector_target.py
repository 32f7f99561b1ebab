"""Effector:target balance — tumour cell number from burden against killer-cell numbers.

Documented conversions (constants in the knowledge base's ``constants.yaml``):

- tumour cells = tumour volume (cm³) × ``tumor_cells_per_cm3`` (1e9 cells/cm³, an upper
  estimate; Del Monte 2009). Volume from the latest burden measurement: a recorded cell count is
  used as is; otherwise a sphere whose diameter is the RECIST sum of diameters (an upper bound
  when there are several lesions), or √SPD for a Lugano sum of products: V = π/6 · d³.
- blood effectors = count (cells/µL) × ``blood_volume`` (5 L; Nadler 1962).
- infiltrating effectors per cm³ of tumour = density (cells/mm²) ÷ (section thickness + nuclear
  height) × 1000 mm³/cm³ (Abercrombie 1946).
- the E:T ratio a literature cell dose would reach = dose ÷ tumour cells (LAK ≈ 2e11, CIK
  0.5–5e10 cells; Rosenberg 1985, Rossi 2019).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from immunoprecise.profile.values import Computed, Metric, ValueBuilder, labelled
from immunoprecise.records.columns import burden_key, density_key

__all__ = ["effector_target_values"]

_TUMOR_FORMULA = (
    "cells = recorded cell count, else π/6 · (d/10)³ cm³ × tumour cells per cm³ with d = sum of "
    "diameters (mm), else d = √SPD (mm)"
)
_REGIONS = ("tumor_core", "whole_section", "interfollicular")


def _tumor_cells(build: ValueBuilder) -> Computed:
    per_cm3 = build.constant("tumor_cells_per_cm3")
    count = build.cols.number(burden_key("cell_count"))
    sod = build.cols.number(burden_key("sum_of_diameters"))
    spd = build.cols.number(burden_key("spd"))
    diameter_cm = np.where(np.isnan(sod), np.sqrt(spd), sod) / 10
    from_volume = np.pi / 6 * diameter_cm**3 * per_cm3
    # a recorded cell count is used as is; only the volume estimate is rounded to thousands
    value = np.where(np.isnan(count), np.round(from_volume, -3), count)
    inputs = tuple(burden_key(m) for m in ("cell_count", "sum_of_diameters", "spd"))
    has_other = build.cols.present(burden_key("marrow_blasts")) | build.cols.present(
        burden_key("m_protein")
    )
    note = labelled(
        np.isnan(value) & has_other,
        "marrow blasts and M-protein have no documented conversion to a tumour cell number",
    )
    metric = Metric(
        "tumor_cells",
        "Estimated tumour cell number",
        "from the latest burden entry with a tumour size (cell count, sum of diameters or "
        "SPD; documented conversion)",
        unit="cells",
        formula=_TUMOR_FORMULA,
        references=("delmonte2009",),
        inputs=inputs,
        interpretation=build.kb.constant("tumor_cells_per_cm3").description,
    )
    return build.computed(metric, value, note=note)


def _significant(value: npt.NDArray[np.float64], digits: int = 3) -> npt.NDArray[np.float64]:
    """Round to ``digits`` significant digits (NaN stays NaN).

    Examples
    --------
    >>> _significant(np.array([0.0123456, 1234.5, np.nan, 0.0])).tolist()
    [0.0123, 1230.0, nan, 0.0]
    """
    finite = np.isfinite(value) & (value != 0)
    decimals = np.zeros(len(value), dtype=int)
    decimals[finite] = digits - 1 - np.floor(np.log10(np.abs(value[finite]))).astype(int)
    out = value.copy()
    for d in np.unique(decimals[finite]):
        rows = finite & (decimals == d)
        out[rows] = np.round(value[rows], int(d))
    return out


def _ratio(
    build: ValueBuilder,
    key: str,
    label: str,
    effectors: npt.NDArray[np.float64],
    tumor: Computed,
    *,
    method: str,
    formula: str,
    references: tuple[str, ...],
    inputs: tuple[str, ...],
) -> Computed:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = effectors / np.where(tumor.value > 0, tumor.value, np.nan)
    metric = Metric(
        key,
        label,
        method,
        unit="E:T ratio",
        formula=formula,
        references=(*references, *tumor.metric.references),
        inputs=(*inputs, *tumor.metric.inputs),
    )
    no_tumor = ~tumor.assessed
    present = {f: build.cols.present(f) for f in inputs}
    missing = build.missing(
        value,
        lambda i: (
            tuple(f for f in inputs if not present[f][i])
            + (tumor.metric.inputs if no_tumor[i] else ())
        ),
    )
    zero = labelled(
        tumor.assessed & (tumor.value == 0),
        "the estimated tumour cell number is 0 (no measurable tumour): the ratio is undefined",
    )
    return build.computed(metric, _significant(value), note=zero, missing=missing)


def _infiltrating(build: ValueBuilder) -> Computed:
    thickness = build.constant("section_thickness") + build.constant("lymphocyte_nuclear_diameter")
    density = np.full(build.cols.n, np.nan)
    for region in reversed(_REGIONS):  # the first region measured wins
        d = build.cols.number(density_key("CD8", region))
        density = np.where(np.isnan(d), density, d)
    effectors_per_cm3 = density / thickness * 1000
    inputs = tuple(density_key("CD8", r) for r in _REGIONS)
    metric = Metric(
        "et_ratio.infiltrating_cd8",
        "Infiltrating CD8+ T cells : tumour cells",
        "CD8+ cells per cm³ of tumour — the IHC density of the tumour core, else whole section, "
        "else interfollicular area, ÷ (section thickness + nuclear height) (Abercrombie 1946) — "
        "per tumour cell in the same cm³",
        unit="E:T ratio",
        formula=f"density (cells/mm²) ÷ {thickness:g} mm × 1000 mm³/cm³ ÷ "
        f"{build.constant('tumor_cells_per_cm3'):.0e} tumour cells/cm³",
        references=("abercrombie1946", "delmonte2009"),
        inputs=inputs,
    )
    value = _significant(effectors_per_cm3 / build.constant("tumor_cells_per_cm3"))
    return build.computed(metric, value)


def effector_target_values(build: ValueBuilder, done: Mapping[str, Computed]) -> list[Computed]:
    """Tumour cell number, blood and infiltrating CD8+ effector:target ratios, and the ratios
    that the LAK and CIK cell doses of the literature would reach."""
    tumor = _tumor_cells(build)
    out = [tumor]
    blood_volume = build.constant("blood_volume")
    cd8_blood = build.cols.number("host.flow.cd8") * blood_volume
    out.append(
        _ratio(
            build,
            "et_ratio.blood_cd8",
            "Blood CD8+ T cells : tumour cells",
            cd8_blood,
            tumor,
            method="all circulating CD8+ T cells (count × blood volume) per tumour cell",
            formula="CD8 (cells/µL) × 5e6 µL / tumour cells",
            references=("nadler1962",),
            inputs=("host.flow.cd8",),
        )
    )
    out.append(_infiltrating(build))
    for dose_id, key, label in (
        ("lak_cell_dose", "et_ratio.lak_dose", "LAK cell dose : tumour cells"),
        ("cik_cell_dose_low", "et_ratio.cik_dose_low", "CIK cell dose, low : tumour cells"),
        (
            "cik_cell_dose_high",
            "et_ratio.cik_dose_high",
            "CIK cell dose, high : tumour cells",
        ),
    ):
        dose = build.kb.constant(dose_id)
        out.append(
            _ratio(
                build,
                key,
                label,
                np.full(build.cols.n, dose.value),
                tumor,
                method=f"the E:T ratio an infusion of {dose.value:.2g} cells would reach — "
                + dose.description,
                formula=f"{dose.value:.2g} cells / tumour cells",
                references=dose.references,
                inputs=(),
            )
        )
    return out
