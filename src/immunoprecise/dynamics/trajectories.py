"""The result of a simulation: every state of every virtual patient at the output times."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from immunoprecise.dynamics.model import Array, Model
from immunoprecise.errors import FieldProblem, ModelError, ValidationError

if TYPE_CHECKING:
    from immunoprecise.dynamics.regimen import Regimen
    from immunoprecise.dynamics.response import ResponseAssessment

__all__ = ["Trajectories"]


@dataclass(frozen=True)
class Trajectories:
    """States over time of a batch of virtual patients under one regimen.

    Attributes
    ----------
    model
        The model that was run.
    t
        Output times, shape ``[n_times]`` (days).
    y
        States, shape ``[n_patients, n_times, n_states]`` in the units of ``model.states``.
    patients
        Patient identifiers, one per row.
    regimen
        The regimen given (``None``: no treatment).
    status
        0 where the integration succeeded, 1 where it stopped (``messages`` says why).
    eradication_day
        Day the tumor fell below one cell (NaN: never).
    crossing_days
        First crossing day of each requested threshold (NaN: never).
    dose_days
        Agent → days of its boluses and infusion starts (for plots).
    settings
        Method, tolerances and step statistics, for the record.
    notes
        Non-fatal remarks on the run, one sentence each (empty: none): doses starting after
        ``t_end`` (not given) and infusions cut short by ``t_end`` (see
        :func:`~immunoprecise.dynamics.simulate.dose_timing_notes`), and two regimen items
        giving one agent at the same time, whose doses add up in the model (see
        :func:`~immunoprecise.dynamics.simulate.dose_overlap_notes`). They do not change the
        numbers; read them before the results.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> ip.simulate("depillis2006", t_end=30, regimen="IL2 5e6 IU/d d8-12").notes
    ()
    >>> regimen = "IL2 5e6 IU/d d8-12; IL-2 1e6 IU/d d10-14"
    >>> print(ip.simulate("depillis2006", t_end=30, regimen=regimen).notes[0])
    Overlapping doses of IL2 / IL-2: item 1 (...) and item 2 (...) are both given from day 10 ...
    """

    model: Model
    t: Array
    y: Array
    patients: tuple[str, ...]
    regimen: Regimen | None
    status: npt.NDArray[np.int8]
    messages: tuple[str, ...]
    eradication_day: Array
    crossing_days: dict[str, Array] = field(default_factory=dict)
    dose_days: dict[str, tuple[float, ...]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """Which patients were integrated to the end."""
        return np.asarray(self.status == 0)

    def state(self, name: str) -> Array:
        """One state over time, shape ``[n_patients, n_times]``.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> tr = ip.simulate("kuznetsov1994", t_end=10, t_eval=[0, 10])
        >>> tr.state("T").shape
        (1, 2)
        """
        return np.asarray(self.y[:, :, self.model.state_index(name)])

    @property
    def tumor(self) -> Array:
        """Tumor cells over time ``[n_patients, n_times]`` (cells)."""
        if self.model.tumor_state is None:
            raise ModelError(f"model {self.model.id} has no tumor state")
        return self.state(self.model.tumor_state)

    @property
    def effectors(self) -> Array:
        """Killer effector cells over time, summed over the model's effector states (cells)."""
        cols = [self.model.state_index(s) for s in self.model.effector_states]
        if not cols:
            raise ModelError(f"model {self.model.id} declares no effector states")
        return np.asarray(self.y[:, :, cols].sum(axis=2))

    def effector_to_tumor_ratio(self) -> Array:
        """Effector:tumor ratio over time ``[n_patients, n_times]`` (inf once the tumor is gone)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.effectors / self.tumor)

    @property
    def eradicated(self) -> npt.NDArray[np.bool_]:
        """Which patients' tumors fell below one cell during the simulation."""
        return np.asarray(np.isfinite(self.eradication_day))

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per patient and output time; columns ``patient``, ``t``, states.

        Examples
        --------
        >>> import immunoprecise as ip
        >>> ip.simulate("kuznetsov1994", t_end=2, t_eval=[0, 1, 2]).to_frame().columns.tolist()
        ['patient', 't', 'E', 'T']
        """
        n, nt, _ = self.y.shape
        frame = pd.DataFrame(
            {
                "patient": np.repeat(np.asarray(self.patients, dtype=object), nt),
                "t": np.tile(self.t, n),
            }
        )
        for j, name in enumerate(self.model.state_names):
            frame[name] = self.y[:, :, j].reshape(-1)
        return frame

    def summary(self) -> pd.DataFrame:
        """One row per patient: start, nadir and end tumor, eradication day, status message."""
        rows: dict[str, Any] = {"patient": list(self.patients)}
        if self.model.tumor_state is not None:
            tum = self.tumor
            rows["tumor_start_cells"] = tum[:, 0]
            rows["tumor_nadir_cells"] = np.nanmin(tum, axis=1) if tum.size else []
            rows["tumor_end_cells"] = tum[:, -1]
            rows["eradication_day"] = self.eradication_day
        rows["ok"] = self.ok
        rows["message"] = list(self.messages)
        return pd.DataFrame(rows)

    def response(self, criteria: str = "recist", **options: Any) -> ResponseAssessment:
        """Tumor response of every patient by RECIST 1.1, iRECIST or Lugano.

        The tumor cell count is converted to a spherical lesion's diameter
        (:func:`~immunoprecise.dynamics.response.cells_to_diameter_mm`; for Lugano its square
        is the SPD); options go to :func:`~immunoprecise.dynamics.response.assess_response`.
        Lugano needs a measurable node at baseline (longest diameter > 15 mm, more than
        1.77 × 10⁹ cells at 10⁹ cells/cm³): a smaller initial tumor is refused.

        Raises
        ------
        ModelError
            If some patients' integration failed.
        ValidationError
            If the output times (``t_eval``) do not start at day 0, the baseline; if a baseline
            tumor is empty, or not measurable under Lugano (naming the patient's row, the
            baseline and the 15 mm rule).

        Examples
        --------
        >>> import immunoprecise as ip
        >>> regimen = ("rituximab 650 mg d0,7,14,21; zoledronate 4 mg d8 q21d x3; "
        ...            "IL2 1e6 IU/d d8-12 q21d x3")
        >>> tr = ip.simulate("fl_adcc", t_end=168, regimen=regimen)
        >>> tr.response("lugano").categories.tolist()
        [['BL', 'SD', 'PR', 'PR']]
        """
        from immunoprecise.dynamics.response import assess_response

        if self.t.size and self.t[0] != 0.0:
            raise ValidationError(
                [
                    FieldProblem(
                        "t_eval[0]",
                        float(self.t[0]),
                        "must be 0 for a response assessment: day 0 is the baseline scan every "
                        "later tumor size is compared with; simulate again with output times "
                        "starting at 0",
                    )
                ]
            )
        # interpolation may dip a hair below zero after eradication: no tumor is 0 cells
        tumor = np.where(self.ok[:, None], np.maximum(self.tumor, 0.0), np.nan)
        if np.isnan(tumor).any():
            raise ModelError("response needs complete trajectories; some patients failed")
        return assess_response(self.t, tumor, kind="cells", criteria=criteria, **options)
