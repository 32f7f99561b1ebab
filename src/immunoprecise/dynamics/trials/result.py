"""The result of a virtual trial: endpoints, per-patient outcomes and what made them.

Everything that decides the numbers is recorded — the design and its SHA-256, the seed and the
library versions — and nothing in the numbers depends on how the trial was executed (workers,
scheduler, resumed or not), which is recorded separately in ``execution``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from immunoprecise.cohort import SurvivalCurves
from immunoprecise.cohort.statistic import finite_json
from immunoprecise.dynamics.trials.design import TrialDesign
from immunoprecise.dynamics.trials.endpoints import ArmEndpoints, HazardRatio, ObservedComparison
from immunoprecise.wording import counted

__all__ = ["TrialExecution", "TrialResult", "library_versions"]

DISCLAIMER = (
    "A virtual trial simulates a published tumor–immune model over a sampled population: it "
    "illustrates the tumor–effector balance under each regimen and is research decision support, "
    "not a prediction for a patient and not a medical device."
)

_LIBRARIES = (
    "immunoprecise",
    "numpy",
    "scipy",
    "pandas",
    "lifelines",
    "dask",
    "distributed",
    "pyarrow",
)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that compute a trial (recorded with every result)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "not installed"
    return out


@dataclass(frozen=True)
class TrialExecution:
    """How a trial ran (never changes its numbers): scheduler, workers, chunks, seconds."""

    scheduler: str
    workers: int
    chunks: int
    chunks_computed: int
    chunks_reused: int
    simulations: int
    seconds: float
    folder: str | None = None

    @property
    def simulations_per_second(self) -> float:
        """Patient × arm simulations of this run per second (reused chunks excluded)."""
        return 0.0 if self.seconds <= 0 else self.simulations / self.seconds


@dataclass(frozen=True)
class TrialResult:
    """A virtual trial's endpoints and data.

    Attributes
    ----------
    design, design_hash, seed, versions
        What produced the numbers (same design, seed and versions → same numbers).
    arms
        ORR and CR rate per arm, then per arm and stratum (:class:`ArmEndpoints`).
    pfs, os
        Kaplan–Meier per arm with the log-rank test (``None`` when not an endpoint).
    hazard_ratios
        Each arm against the first, per survival endpoint.
    observed
        Published results beside the simulated ones, with the gap.
    outcomes
        One row per patient and arm (see
        :data:`~immunoprecise.dynamics.trials.outcomes.OUTCOME_COLUMNS`).
    population
        One row per patient: stratum, sampled parameters and initial states.
    trajectories
        Tumor % change and effector:tumor ratio over time of the first
        ``design.keep_trajectories`` patients in every arm.
    rejected
        Candidates dropped by each population constraint while sampling.
    execution
        How this run went (not part of the numbers).
    notes
        What could not be estimated, and why.
    """

    design: TrialDesign
    design_hash: str
    seed: int
    versions: dict[str, str]
    arms: tuple[ArmEndpoints, ...]
    pfs: SurvivalCurves | None
    os: SurvivalCurves | None
    hazard_ratios: tuple[HazardRatio, ...]
    observed: tuple[ObservedComparison, ...]
    outcomes: pd.DataFrame
    population: pd.DataFrame
    trajectories: pd.DataFrame
    rejected: dict[str, int]
    execution: TrialExecution
    notes: tuple[str, ...] = ()
    disclaimer: str = field(default=DISCLAIMER)

    @property
    def not_evaluable(self) -> int:
        """Patient × arm simulations that failed (counted as non-responders, ``NE``)."""
        return int((~self.outcomes["ok"].astype(bool)).sum())

    def arm_table(self) -> pd.DataFrame:
        """One row per arm (and stratum): n, response counts, ORR and CR rate with 95% CIs (%)."""
        rows = []
        for a in self.arms:
            rows.append(
                {
                    "arm": a.label,
                    "stratum": a.stratum or "all",
                    "n": a.n,
                    **a.counts,
                    "ORR %": 100 * a.orr.estimate,
                    "ORR CI": _ci(a.orr),
                    "CR %": 100 * a.cr_rate.estimate,
                    "CR CI": _ci(a.cr_rate),
                    "median best change %": a.median_best_change_percent,
                }
            )
        return pd.DataFrame(rows)

    def observed_table(self) -> pd.DataFrame:
        """Published vs simulated rates, the gap (percentage points) and its p-value (Fisher's
        exact test of the published count against the simulated count)."""
        rows = []
        for c in self.observed:
            rows.append(
                {
                    "arm": c.arm,
                    "stratum": c.stratum or "all",
                    "endpoint": c.endpoint.upper().replace("_RATE", " rate"),
                    "observed %": 100 * c.observed.estimate,
                    "observed": f"{round(c.observed.estimate * c.observed.n)}/{c.observed.n}",
                    "observed CI": _ci(c.observed),
                    "simulated %": 100 * c.simulated.estimate,
                    "simulated CI": _ci(c.simulated),
                    "gap (points)": c.gap_points,
                    "p": c.p_value,
                    "source": c.source,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A plain-text summary: design, arms, survival, observed gaps and provenance."""
        d = self.design
        lines = [
            f"Virtual trial {d.name!r}: model {d.model}, {counted(d.n_per_arm, 'patient')} "
            f"per arm, {counted(d.follow_up_days, 'day')}, {d.response_criteria.upper()} every "
            f"{counted(d.assessment_interval_days, 'day')}; seed {self.seed}, "
            f"design {self.design_hash[:12]}",
        ]
        for a in self.arms:
            where = a.label if a.stratum is None else f"{a.label} [{a.stratum}]"
            lines.append(f"  {where}: {a.orr}; {a.cr_rate}")
        for curves in (self.pfs, self.os):
            if curves is None:
                continue
            for c in curves.curves:
                lines.append(f"  {curves.endpoint.upper()} {c.label}: {c.median}")
            if curves.log_rank is not None:
                lines.append(f"  {curves.log_rank}")
        for h in self.hazard_ratios:
            lines.append(f"  {h.arm} vs {h.reference}: {h.hr}")
        for o in self.observed:
            where = o.arm if o.stratum is None else f"{o.arm} [{o.stratum}]"
            lines.append(
                f"  observed {o.endpoint} {where}: {100 * o.observed.estimate:.1f}% vs simulated "
                f"{100 * o.simulated.estimate:.1f}% (gap {o.gap_points:+.1f} points, "
                f"p = {o.p_value:.3g}; {o.source})"
            )
        if self.not_evaluable:
            failed = counted(self.not_evaluable, "simulation")
            lines.append(f"  {failed} failed (counted as NE)")
        lines += [f"  {note}" for note in self.notes]
        lines.append(f"  {self.disclaimer}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: design, hash, seed, versions, endpoints and execution (no frames)."""
        return {
            "design": self.design.model_dump(mode="json"),
            "design_hash": self.design_hash,
            "seed": self.seed,
            "versions": self.versions,
            "arms": [a.model_dump(mode="json") for a in self.arms],
            "pfs": None if self.pfs is None else _curves_summary(self.pfs),
            "os": None if self.os is None else _curves_summary(self.os),
            "hazard_ratios": [h.model_dump(mode="json") for h in self.hazard_ratios],
            "observed": [c.model_dump(mode="json") for c in self.observed],
            "rejected": self.rejected,
            "not_evaluable": self.not_evaluable,
            "notes": list(self.notes),
            "execution": {
                "scheduler": self.execution.scheduler,
                "workers": self.execution.workers,
                "chunks": self.execution.chunks,
                "chunks_computed": self.execution.chunks_computed,
                "chunks_reused": self.execution.chunks_reused,
                "simulations": self.execution.simulations,
                "seconds": self.execution.seconds,
            },
            "disclaimer": self.disclaimer,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON (numbers that are not finite, e.g. a median not
        reached, become ``null``)."""
        return json.dumps(
            finite_json(self.to_dict()), indent=2, ensure_ascii=False, allow_nan=False
        )


def _ci(s: Any) -> str:
    if s.ci_low is None or s.ci_high is None:
        return ""
    return f"{100 * s.ci_low:.1f}–{100 * s.ci_high:.1f}"


def _curves_summary(curves: SurvivalCurves) -> dict[str, Any]:
    return {
        "endpoint": curves.endpoint,
        "log_rank": None if curves.log_rank is None else curves.log_rank.model_dump(mode="json"),
        "arms": [
            {"arm": c.label, "n": c.n, "events": c.events, "median": c.median.model_dump()}
            for c in curves.curves
        ],
    }
