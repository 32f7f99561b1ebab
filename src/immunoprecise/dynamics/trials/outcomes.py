"""Simulate one chunk of a trial under every arm and read each patient's outcomes.

Every arm sees the same patients (a within-patient comparison). Per patient and arm the chunk
records the best overall response by the design's criteria (RECIST 1.1 or Lugano 2014, a tumor
read as one spherical lesion, :func:`~immunoprecise.dynamics.response.assess_response`), the
waterfall number, progression-free survival (first progression at a scheduled assessment, or
death, whichever is first; censored at the last assessment) and overall survival (death = the
tumor rising to ``design.lethal_burden_cells``, an upward crossing only: a tumor shrinking
through that level is not a death; censored at the end of follow-up). A dead patient is not
scanned again: the first scan after death counts as progression (best response ``PD`` if there
was no scan in life), and responses seen before it still count. Patients whose integration
failed are kept with best response ``NE`` and ``ok = False``: they count in the denominators
(intention to treat) and are reported, never dropped. Under Lugano, a patient whose sampled
baseline tumor is not a measurable node (longest diameter ≤ 15 mm,
:func:`~immunoprecise.dynamics.response.lugano_measurable`) is not assessed: best response
``NE`` (``ok`` stays true), still in the denominators.

Examples
--------
>>> from immunoprecise.dynamics.trials.design import TrialArm, TrialDesign
>>> d = TrialDesign(name="t", model="cartmath2021", seed=3, n_per_arm=4, chunk_size=100,
...                 follow_up_days=112, arms=(TrialArm(id="CAR-T", regimen="CAR-T 1e6 cells d0"),))
>>> out = simulate_chunk(d, 0)
>>> out.outcomes.columns.tolist()[:5]
['patient', 'arm', 'stratum', 'ok', 'best_response']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from immunoprecise.dynamics.response import (
    assess_response,
    cells_to_diameter_mm,
    lugano_measurable,
)
from immunoprecise.dynamics.simulate import resolve_model, simulate
from immunoprecise.dynamics.trials.design import TrialDesign
from immunoprecise.dynamics.trials.patients import chunk_patients
from immunoprecise.errors import ModelError

__all__ = ["OUTCOME_COLUMNS", "ChunkOutput", "measurable_baseline", "simulate_chunk", "time_grid"]

OUTCOME_COLUMNS = (
    "patient",
    "arm",
    "stratum",
    "ok",
    "best_response",
    "best_change_percent",
    "pfs_days",
    "pfs_event",
    "os_days",
    "os_event",
    "eradicated",
    "tumor_start_cells",
    "tumor_nadir_cells",
    "min_et_ratio",
)
"""Columns of the per-patient outcome table, one row per patient and arm."""

TRAJECTORY_STEP_DAYS = 7.0
"""Spacing of the output times kept for spider and effector:tumor plots (days)."""


@dataclass(frozen=True)
class ChunkOutput:
    """What one chunk gives: outcomes (patient × arm), the patients and kept trajectories."""

    index: int
    outcomes: pd.DataFrame
    population: pd.DataFrame
    trajectories: pd.DataFrame
    rejected: dict[str, int] = field(default_factory=dict)


def time_grid(design: TrialDesign) -> np.ndarray:
    """Output times: every week and every scheduled assessment up to the follow-up (days)."""
    weekly = np.arange(0.0, design.follow_up_days + 1e-9, TRAJECTORY_STEP_DAYS)
    grid = np.union1d(weekly, np.asarray(design.assessment_days()))
    return np.union1d(grid, [design.follow_up_days])


def measurable_baseline(design: TrialDesign, tumor_cells: np.ndarray) -> np.ndarray:
    """Whether each baseline tumor (cells) can be assessed by the design's criteria.

    RECIST: any tumor of at least one cell. Lugano: a node longer than 15 mm (one sphere at 10⁹
    cells/cm³, read exactly as :func:`~immunoprecise.dynamics.response.assess_response` reads
    it). NaN (a failed simulation) is not measurable.
    """
    cells = np.asarray(tumor_cells, dtype=float)
    finite = np.asarray(np.isfinite(cells) & (cells >= 1.0), dtype=bool)
    if design.response_criteria != "lugano":
        return finite
    diameter = cells_to_diameter_mm(np.where(finite, cells, 0.0))
    diameter = np.where(finite, diameter, 0.0)
    return np.asarray(finite & lugano_measurable(diameter**2), dtype=bool)


def simulate_chunk(design: TrialDesign, index: int) -> ChunkOutput:
    """Sample chunk ``index``'s patients and simulate them under every arm.

    Parameters
    ----------
    design
        The trial design.
    index
        Chunk number (0 … ``design.n_chunks − 1``).

    Returns
    -------
    ChunkOutput
        ``outcomes`` with :data:`OUTCOME_COLUMNS`; ``population``: one row per patient (stratum,
        sampled parameters and initial states); ``trajectories``: long table (``patient``,
        ``arm``, ``t`` days, ``tumor_change_percent``, ``et_ratio``) for the patients numbered
        below ``design.keep_trajectories``.
    """
    patients = chunk_patients(design, index)
    ids = patients.parameters.index.to_numpy()
    times = time_grid(design)
    assessments = np.asarray(design.assessment_days())
    keep = ids < design.keep_trajectories
    tumor_state = resolve_model(design.model).tumor_state
    assert tumor_state is not None  # for mypy: designs without a tumor state are refused
    body = design.population.body_size  # per-kg and per-m² doses are given for this body
    # the trial's patient numbers, as the outcome tables show them: an index of ids rather than
    # a range, which simulate would read as unnamed rows and name by position
    named = pd.Index(ids, dtype="int64", name="patient")
    params = patients.parameters.set_axis(named)
    initial = patients.initial.set_axis(named) if len(patients.initial.columns) else None
    outcomes, kept = [], []
    for arm in design.arms:
        try:
            tr = simulate(
                design.model,
                t_end=float(times[-1]),
                regimen=arm.regimen or None,
                params=params,
                initial=initial,
                t_eval=times,
                parameter_set=design.population.parameter_set,
                thresholds={"death": (tumor_state, design.lethal_burden_cells, "up")},
                body_weight_kg=body["body_weight_kg"],
                body_surface_m2=body["body_surface_m2"],
            )
        except ModelError as exc:
            raise ModelError(f"trial {design.name!r}, arm {arm.id!r}: {exc}") from None
        tumor = np.maximum(tr.tumor, 0.0)
        ok = tr.ok & np.all(np.isfinite(tumor), axis=1) & (tumor[:, 0] > 0)
        n = len(ids)
        death = np.asarray(tr.crossing_days["death"], dtype=float)
        died = np.isfinite(death) & ok
        # a dead patient is not assessed again: the scans after death read as progression
        assessed = _after_death(tumor, times, death, design.lethal_burden_cells)
        best = np.full(n, "NE", dtype=object)
        change = np.full(n, np.nan)
        ttp = np.full(n, np.nan)
        # Lugano: a baseline that is not a measurable node is not assessed (NE)
        evaluable = ok & measurable_baseline(design, np.where(ok, tumor[:, 0], np.nan))
        if evaluable.any():
            resp = assess_response(
                times,
                assessed[evaluable],
                kind="cells",
                criteria=design.response_criteria,
                assessment_days=assessments,
            )
            best[evaluable] = resp.best_response
            change[evaluable] = resp.best_change_percent
            ttp[evaluable] = resp.time_to_progression_days
            last = float(resp.assessment_days[-1])
        else:
            last = float(assessments[-1])
        first_scan = assessments[1] if len(assessments) > 1 else np.inf
        change[died & (death < first_scan)] = np.nan  # no scan while alive: no waterfall number
        progressed = np.isfinite(ttp)
        # death without documented progression is a PFS event, also after the last scan: only
        # a death after two or more missed scans is censored, and none is missed here (US FDA,
        # Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics, guidance for
        # industry 2007, Appendix 3, Table A); the alive are censored at their last scan
        pfs_event = ok & (progressed | died)
        pfs_days = np.where(
            pfs_event,
            np.fmin(np.where(progressed, ttp, np.inf), np.where(died, death, np.inf)),
            last,
        )
        os_days = np.where(died, death, design.follow_up_days)
        with np.errstate(divide="ignore", invalid="ignore"):
            et = np.where(tumor >= 1.0, tr.effectors / tumor, np.nan)
        min_et = np.nanmin(np.where(np.isnan(et), np.inf, et), axis=1)
        outcomes.append(
            pd.DataFrame(
                {
                    "patient": ids,
                    "arm": arm.id,
                    "stratum": patients.stratum.to_numpy(),
                    "ok": ok,
                    "best_response": best,
                    "best_change_percent": change,
                    "pfs_days": np.where(ok, pfs_days, np.nan),
                    "pfs_event": pfs_event,
                    "os_days": np.where(ok, os_days, np.nan),
                    "os_event": died,
                    "eradicated": tr.eradicated & ok,
                    "tumor_start_cells": tumor[:, 0],
                    "tumor_nadir_cells": np.nanmin(tumor, axis=1),
                    "min_et_ratio": np.where(np.isfinite(min_et), min_et, np.nan),
                }
            )
        )
        if keep.any():
            sub = tumor[keep]
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = 100.0 * (sub - sub[:, :1]) / sub[:, :1]
            kept.append(
                pd.DataFrame(
                    {
                        "patient": np.repeat(ids[keep], len(times)),
                        "arm": arm.id,
                        "t": np.tile(times, int(keep.sum())),
                        "tumor_change_percent": pct.reshape(-1),
                        "et_ratio": et[keep].reshape(-1),
                    }
                )
            )
    population = pd.concat(
        [patients.stratum, patients.parameters, patients.initial], axis=1
    ).reset_index()
    trajectories = (
        pd.concat(kept, ignore_index=True)
        if kept
        else pd.DataFrame(
            {
                "patient": pd.Series(dtype="int64"),
                "arm": pd.Series(dtype=object),
                "t": pd.Series(dtype=float),
                "tumor_change_percent": pd.Series(dtype=float),
                "et_ratio": pd.Series(dtype=float),
            }
        )
    )
    return ChunkOutput(
        index=index,
        outcomes=pd.concat(outcomes, ignore_index=True),
        population=population,
        trajectories=trajectories,
        rejected=patients.rejected,
    )


def _after_death(
    tumor: np.ndarray, times: np.ndarray, death: np.ndarray, lethal: float
) -> np.ndarray:
    """The burden as scans would see it: from the day of death on, a burden far above any
    earlier one (1000 × the larger of baseline and the lethal burden, a 10-fold diameter), so
    that the first scan after death reads as progression and responses before it still count."""
    gone = times[None, :] >= death[:, None]
    if not gone.any():
        return tumor
    marker = 1000.0 * np.maximum(tumor[:, :1], lethal)
    return np.where(gone, marker, tumor)
