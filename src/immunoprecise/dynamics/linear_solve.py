"""Batched LU factorization and solves for many small linear systems at once.

The implicit (Rosenbrock) steps of :mod:`immunoprecise.dynamics.integrator` solve one small system
``W x = v`` per patient and stage, with ``W = I/(γh) − J`` of size ``n_states`` (≤ ~10). LAPACK
through :func:`numpy.linalg.inv` or :func:`numpy.linalg.solve` pays a fixed cost per matrix, which
for 10,000 patients × 6 states made the inversion ~20% of a de Pillis 2006 run (measured in
``benchmarks/dynamics.py``; see ``benchmarks/RESULTS.md``). Here the elimination loops over the
few rows and columns in Python and each operation covers all patients as one numpy array, so the
cost per patient is a handful of vector operations.

Gaussian elimination with partial pivoting (row exchanges chosen per patient), as in
Golub GH, Van Loan CF. Matrix Computations, 4th ed. Johns Hopkins University Press 2013, §3.4.

Examples
--------
>>> import numpy as np
>>> a = np.array([[[0.0, 2.0], [3.0, 1.0]], [[4.0, 1.0], [1.0, 3.0]]])
>>> lu = BatchedLU(a)
>>> x = lu.solve(np.array([[2.0, 4.0], [5.0, 4.0]]))
>>> bool(np.allclose(np.einsum("mij,mj->mi", a, x), [[2.0, 4.0], [5.0, 4.0]]))
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["BatchedLU"]

Array = npt.NDArray[np.float64]


class BatchedLU:
    """LU factors of a batch of square matrices ``scale·a + diag(diagonal)``.

    Parameters
    ----------
    a
        The matrices, one per patient, shape ``[m, s, s]`` (not modified).
    scale
        Factor applied to ``a`` (``-1`` turns a Jacobian ``J`` into ``−J``).
    diagonal
        Added to the diagonal, one value per patient (shape ``[m]``), e.g. ``1/(γh)`` to form a
        Rosenbrock iteration matrix ``I/(γh) − J`` without a separate ``[m, s, s]`` temporary.

    Notes
    -----
    Entries that are zero for every patient (structural zeros of a model's Jacobian: a drug
    compartment depends only on itself) are skipped during elimination and solves, with fill-in
    tracked, so a sparse model pays for its nonzeros only. A singular matrix gives non-finite
    solutions for its patient only (division by a zero pivot); the integrator rejects such a step
    and retries with a smaller one.
    """

    def __init__(self, a: Array, *, scale: float = 1.0, diagonal: Array | None = None) -> None:
        m, s, s2 = a.shape
        if s != s2:
            raise ValueError(f"BatchedLU needs square matrices, got shape {a.shape}")
        # [row, column, patient]: every elementary operation is one contiguous vector over patients
        lu = np.ascontiguousarray(np.multiply(np.transpose(a, (1, 2, 0)), scale), dtype=np.float64)
        if diagonal is not None:
            for i in range(s):
                lu[i, i] += diagonal
        nz = np.any(lu != 0.0, axis=2)  # the batch's nonzero pattern, grown by pivoting/fill-in
        pivots: list[tuple[int, npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for k in range(s - 1):
                candidates = [r for r in range(k, s) if nz[r, k]]
                if len(candidates) > 1 or (candidates and candidates[0] != k):
                    self._pivot(lu, nz, k, candidates, pivots)
                targets = [i for i in range(k + 1, s) if nz[i, k]]
                if not targets:
                    continue
                cols = [j for j in range(k + 1, s) if nz[k, j]]
                inv_pivot = 1.0 / lu[k, k]
                for i in targets:
                    factor = lu[i, k] * inv_pivot
                    lu[i, k] = factor
                    for j in cols:
                        lu[i, j] -= factor * lu[k, j]
                        nz[i, j] = True
        self._lu = lu
        self._pivots = pivots
        self._lower = [[j for j in range(i) if nz[i, j]] for i in range(s)]
        self._upper = [[j for j in range(i + 1, s) if nz[i, j]] for i in range(s)]
        self.shape = (m, s)

    @staticmethod
    def _pivot(
        lu: Array,
        nz: npt.NDArray[np.bool_],
        k: int,
        candidates: list[int],
        pivots: list[tuple[int, npt.NDArray[np.intp], npt.NDArray[np.intp]]],
    ) -> None:
        """Partial pivoting at column ``k``: per patient, swap in the candidate row whose entry
        in column ``k`` is largest in magnitude."""
        best = np.full(lu.shape[2], candidates[0], dtype=np.intp)
        best_abs = np.abs(lu[candidates[0], k])
        for r in candidates[1:]:
            value = np.abs(lu[r, k])
            better = value > best_abs
            best = np.where(better, r, best)
            best_abs = np.where(better, value, best_abs)
        moved = np.flatnonzero(best != k)
        if not moved.size:
            return
        rows = best[moved]
        pivot_rows = lu[rows, :, moved]  # [n_moved, s]
        lu[rows, :, moved] = lu[k][:, moved].T
        lu[k][:, moved] = pivot_rows.T
        pivots.append((k, moved, rows))
        for r in np.unique(rows).tolist():
            union = nz[k] | nz[r]
            nz[k] = union
            nz[r] = union

    def solve(self, v: Array) -> Array:
        """Solve ``W x = v`` for every patient (``W`` the factored matrices).

        Parameters
        ----------
        v
            Right-hand sides, shape ``[m, s]``.

        Returns
        -------
        numpy.ndarray
            ``x`` of shape ``[m, s]`` (a transposed view of the working array).
        """
        lu = self._lu
        s = lu.shape[0]
        x = np.array(v.T, dtype=np.float64, order="C")  # [s, m]
        for k, moved, rows in self._pivots:
            held = x[k, moved].copy()
            x[k, moved] = x[rows, moved]
            x[rows, moved] = held
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for i in range(1, s):
                for j in self._lower[i]:
                    x[i] -= lu[i, j] * x[j]
            for i in range(s - 1, -1, -1):
                for j in self._upper[i]:
                    x[i] -= lu[i, j] * x[j]
                x[i] /= lu[i, i]
        return x.T
