"""The batched LU solver and the analytic Jacobians that the stiff methods use."""

from __future__ import annotations

import numpy as np
import pytest

import immunoprecise as ip
from immunoprecise.dynamics.integrator import Segment, integrate
from immunoprecise.dynamics.linear_solve import BatchedLU


def _residual(a: np.ndarray, x: np.ndarray, v: np.ndarray) -> float:
    return float(np.max(np.abs(np.einsum("mij,mj->mi", a, x) - v)))


@pytest.mark.parametrize("size", [1, 2, 3, 6, 9])
def test_batched_lu_solves_like_lapack(size: int) -> None:
    rng = np.random.default_rng(size)
    a = rng.normal(size=(400, size, size))
    if size > 1:
        a[::5, 0, 0] = 0.0  # these patients need a row exchange at the first column
    v = rng.normal(size=(400, size))
    x = BatchedLU(a).solve(v)
    np.testing.assert_allclose(x, np.linalg.solve(a, v[..., None])[..., 0], rtol=1e-8, atol=1e-9)


def test_shifted_form_equals_explicit_matrix() -> None:
    rng = np.random.default_rng(7)
    jac = rng.normal(size=(300, 5, 5))
    shift = rng.uniform(0.5, 3.0, 300)
    v = rng.normal(size=(300, 5))
    x = BatchedLU(jac, scale=-1.0, diagonal=shift).solve(v)
    w = np.eye(5)[None] * shift[:, None, None] - jac
    assert _residual(w, x, v) < 1e-9


def test_structural_zeros_are_skipped_but_fill_in_is_kept() -> None:
    # a de Pillis-like pattern: drug rows depend on themselves only, a dense coupled block;
    # some patients must exchange rows inside the block, which changes the pattern
    rng = np.random.default_rng(3)
    m = 200
    a = np.zeros((m, 6, 6))
    a[:, :3, :3] = rng.normal(size=(m, 3, 3))
    a[:, :3, 4] = rng.normal(size=(m, 3))
    a[:, 3, 3:5] = rng.normal(size=(m, 2))
    a[:, 4, 4] = rng.uniform(1, 2, m)
    a[:, 5, 5] = rng.uniform(1, 2, m)
    a[:, 2, 5] = rng.normal(size=m)
    a[::3, 0, 0] = 0.0
    v = rng.normal(size=(m, 6))
    assert _residual(a, BatchedLU(a).solve(v), v) < 1e-9


def test_forced_row_exchange_when_a_diagonal_is_zero_for_everyone() -> None:
    a = np.zeros((3, 3, 3))
    a[:, 0, 1] = 1.0
    a[:, 1, 0] = 2.0
    a[:, 1, 2] = 1.0
    a[:, 2, 2] = 3.0
    v = np.arange(9.0).reshape(3, 3)
    assert _residual(a, BatchedLU(a).solve(v), v) < 1e-12


def test_a_singular_patient_does_not_spoil_the_others() -> None:
    a = np.stack([np.eye(2), np.zeros((2, 2)), 2 * np.eye(2)])
    x = BatchedLU(a).solve(np.ones((3, 2)))
    np.testing.assert_allclose(x[[0, 2]], [[1.0, 1.0], [0.5, 0.5]])
    assert not np.all(np.isfinite(x[1]))


def test_non_square_matrices_are_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        BatchedLU(np.zeros((2, 2, 3)))


def _finite_difference_jacobian(model: ip.dynamics.Model, y: np.ndarray, p: dict) -> np.ndarray:
    t = np.zeros(y.shape[0])
    u = np.zeros((y.shape[0], len(model.inputs)))
    s = y.shape[1]
    jac = np.empty((y.shape[0], s, s))
    for j in range(s):
        step = 1e-6 * np.maximum(np.abs(y[:, j]), 1e-3)
        up, down = y.copy(), y.copy()
        up[:, j] += step
        down[:, j] -= step
        jac[:, :, j] = (model.rhs(t, up, p, u) - model.rhs(t, down, p, u)) / (2 * step[:, None])
    return jac


def _random_states(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            10 ** rng.uniform(4, 9, n),  # T
            10 ** rng.uniform(4, 8, n),  # N
            10 ** rng.uniform(2, 8, n),  # L
            10 ** rng.uniform(9, 11, n),  # C
            rng.uniform(0.0, 3.0, n),  # M (mg/L)
            10 ** rng.uniform(0, 7, n),  # I (IU/L)
        ]
    )


@pytest.mark.parametrize("parameter_set", ["patient9", "patient10"])
def test_depillis2006_jacobian_matches_finite_differences(parameter_set: str) -> None:
    model = ip.dynamics.get_model("depillis2006")
    assert model.jacobian is not None
    y = _random_states(200, 11)
    defaults = model.defaults(parameter_set)
    p = {k: np.full(y.shape[0], v) for k, v in defaults.items()}
    t = np.zeros(y.shape[0])
    u = np.zeros((y.shape[0], len(model.inputs)))
    analytic = model.jacobian(t, y, p, u)
    numeric = _finite_difference_jacobian(model, y, p)
    # compare J_ij·y_j (the change of f_i when y_j changes by its own size, in f_i's unit)
    # relative to the largest such term of the row: entries of a row mix units
    size = np.abs(y)[:, None, :]
    row = np.max(np.abs(numeric) * size, axis=2, keepdims=True)
    assert np.max(np.abs(analytic - numeric) * size / row) < 1e-6


def test_depillis2006_jacobian_at_an_eradicated_tumor() -> None:
    model = ip.dynamics.get_model("depillis2006")
    assert model.jacobian is not None
    y = _random_states(5, 2)
    y[:, 0] = 0.0
    p = {k: np.full(5, v) for k, v in model.defaults().items()}
    jac = model.jacobian(np.zeros(5), y, p, np.zeros((5, 3)))
    assert np.all(np.isfinite(jac))
    # with no tumor, lysis runs at its maximum d: ∂(dT/dt)/∂T = a − c·N − d − K_T·(1 − e^{−M})
    kill = 1.0 - np.exp(-y[:, 4])
    expected = p["a"] - p["c"] * y[:, 1] - p["d"] - p["K_T"] * kill
    np.testing.assert_allclose(jac[:, 0, 0], expected, rtol=1e-12)
    np.testing.assert_array_equal(jac[:, 0, 2], 0.0)


def test_modifications_keep_or_drop_the_jacobian() -> None:
    cells = ip.dynamics.get_model("depillis2006+cells")
    checkpoint = ip.dynamics.get_model("depillis2006+checkpoint")
    assert cells.jacobian is not None
    assert checkpoint.jacobian is None  # a new state: finite differences instead
    base = ip.dynamics.get_model("depillis2006")
    assert base.jacobian is not None
    y = _random_states(4, 5)
    p = {k: np.full(4, v) for k, v in base.defaults().items()}
    u = np.ones((4, len(cells.inputs)))
    np.testing.assert_array_equal(
        cells.jacobian(np.zeros(4), y, p, u), base.jacobian(np.zeros(4), y, p, u[:, :3])
    )


def test_analytic_and_finite_difference_jacobians_give_the_same_trajectories() -> None:
    model = ip.dynamics.get_model("depillis2006")
    y0 = np.array([[1e7, 3e5, 1e4, 6e10, 0.0, 0.0], [1e8, 3e5, 0.0, 6e10, 0.0, 0.0]])
    p = {k: np.full(2, v) for k, v in model.defaults().items()}
    seg = [Segment(0.0, 30.0, np.zeros(3))]
    t_eval = np.linspace(0.0, 30.0, 7)
    common = {"method": "rodas4", "rtol": 1e-8, "atol": 1e-8, "tumor_state": 0}
    analytic = integrate(model.rhs, y0, p, seg, t_eval, jacobian=model.jacobian, **common)
    numeric = integrate(model.rhs, y0, p, seg, t_eval, **common)
    assert np.all(analytic.status == 0)
    assert np.all(numeric.status == 0)
    rel = np.abs(analytic.y - numeric.y) / np.maximum(np.abs(numeric.y), 1.0)
    assert np.max(rel) < 1e-5
