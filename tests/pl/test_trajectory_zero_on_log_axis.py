"""On a logarithmic axis a state's points at 0 are left out of its line: an effector that
starts at 0 (before its dose) starts at its first positive value, not with a vertical line
from the bottom of the axis."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

import immunoprecise as ip
from immunoprecise import pl


def test_a_state_starting_at_zero_starts_at_its_first_positive_value() -> None:
    tr = ip.simulate("cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42")
    effector = tr.state("C_T")[0]
    first = int(np.flatnonzero(effector > 0)[0])
    assert first > 0
    assert (effector[:first] == 0).all()
    ax = pl.trajectories(tr).axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "state:C_T"]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[:first]).all()
    assert y[first] == effector[first] > 0
    assert not (y[np.isfinite(y)] <= 0).any()  # nothing drawn at 0 or below
    # on a linear axis 0 is a value like any other and is drawn
    linear = pl.trajectories(tr, log=False).axes[0]
    (flat,) = [ln for ln in linear.get_lines() if ln.get_gid() == "state:C_T"]
    np.testing.assert_array_equal(np.asarray(flat.get_ydata(), dtype=float), effector)


def test_a_median_at_zero_is_left_out_on_the_log_axis() -> None:
    gammas = np.linspace(2.5e-6, 5e-6, 5)  # five patients, all eradicated: a median at 0
    tr = ip.simulate(
        "cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42", params={"gamma": gammas}
    )
    ax = pl.regimen_comparison({"CAR-T d42": tr}).axes[0]
    (line,) = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("regimen:")]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert not (y[np.isfinite(y)] <= 0).any()
