"""Benchmark: 10,000 virtual patients of de Pillis 2006 under chemo + IL-2 + TIL, 120 days.

Candidate: ``ip.simulate`` — the batched integrator (all patients advance together as array
operations; Rodas4, the model's stiff method). Baseline: a per-patient loop of
``scipy.integrate.solve_ivp`` (LSODA, the same tolerances, the same dose segments and eradication
event), timed on a sample of the same patients and scaled to the whole cohort. Accuracy: both
against ``solve_ivp`` Radau at rtol 1e-10 on a smaller sample (max relative error over all
states and output days; values below 1e-4 of a unit compared absolutely).

Target: ≥ 100× faster than the baseline at equal accuracy. Also reported: right-hand-side
evaluations per second (patient-evaluations) and peak memory (tracemalloc, in a second identical
run so that tracing does not slow the timed one) of the batched run.

Run: .venv/bin/python benchmarks/dynamics.py [n_patients] [loop_sample] [reference_sample]
"""

from __future__ import annotations

import platform
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
import scipy

import immunoprecise as ip
from immunoprecise.dynamics.reference import scipy_reference

REGIMEN = "chemo 1 mg/kg q21d x6; IL2 5e6 IU/d d8-12; TIL 1e9 cells d7"
T_END = 120.0
RTOL = ATOL = 1e-6


def cohort(n: int, seed: int = 20261121) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Virtual patients: patient-9 parameters with lognormal spread (CV ≈ 30%), tumors 1e6–1e8."""
    rng = np.random.default_rng(seed)
    model = ip.dynamics.get_model("depillis2006")
    base = model.defaults("patient9")
    varied = ("a", "c", "d", "p", "q", "j", "alpha")
    params = pd.DataFrame({k: base[k] * rng.lognormal(0.0, 0.3, n) for k in varied})
    initial = pd.DataFrame({"T": 10 ** rng.uniform(6, 8, n)})
    return params, initial


def max_relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-4)))


def main(n: int = 10_000, loop_sample: int = 50, reference_sample: int = 10) -> None:
    """Print the batched and per-patient timings, their ratio, accuracy, RHS rate and memory."""
    params, initial = cohort(n)
    t_eval = np.arange(0.0, T_END + 1.0)
    ip.simulate("depillis2006", t_end=5, params=params.head(8), initial=initial.head(8))  # warm

    def batched() -> ip.dynamics.Trajectories:
        return ip.simulate(
            "depillis2006",
            t_end=T_END,
            regimen=REGIMEN,
            params=params,
            initial=initial,
            t_eval=t_eval,
            rtol=RTOL,
            atol=ATOL,
        )

    # timed without tracemalloc (which slows every numpy allocation about 2x); memory from a
    # second, identical run under tracemalloc
    start = time.perf_counter()
    tr = batched()
    batched_s = time.perf_counter() - start
    tracemalloc.start()
    batched()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    evals = tr.settings["rhs_evaluations"]

    def per_patient(rows: slice, method: str, rtol: float, atol: float) -> np.ndarray:
        p = {k: v.tolist() for k, v in params.iloc[rows].items()}
        i = {k: v.tolist() for k, v in initial.iloc[rows].items()}
        return scipy_reference(
            "depillis2006",
            T_END,
            t_eval,
            regimen=REGIMEN,
            params=p,
            initial=i,
            method=method,
            rtol=rtol,
            atol=atol,
        )

    start = time.perf_counter()
    for i in range(loop_sample):
        per_patient(slice(i, i + 1), "LSODA", RTOL, ATOL)
    loop_s = (time.perf_counter() - start) / loop_sample * n
    ref = per_patient(slice(0, reference_sample), "Radau", 1e-10, 1e-10)
    lsoda = per_patient(slice(0, reference_sample), "LSODA", RTOL, ATOL)
    err_batched = max_relative_error(tr.y[:reference_sample], ref)
    err_lsoda = max_relative_error(lsoda, ref)
    eradicated = int(tr.eradicated.sum())
    print(
        f"machine: {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    print(f"de Pillis 2006, {n:,} virtual patients, {T_END:g} days, regimen: {REGIMEN}")
    print(f"  eradicated: {eradicated:,} of {n:,}; failed: {int((~tr.ok).sum())}")
    print(
        f"batched ip.simulate (Rodas4): {batched_s:.1f} s; {evals / batched_s:,.0f} RHS "
        f"patient-evaluations/s; peak memory {peak / 2**20:.0f} MiB"
    )
    print(f"per-patient solve_ivp LSODA: {loop_s:.0f} s (scaled from {loop_sample} patients)")
    print(f"speed-up: {loop_s / batched_s:.0f}x (target >= 100x)")
    print(
        f"max relative error vs Radau rtol 1e-10 ({reference_sample} patients): "
        f"batched {err_batched:.1e}, LSODA {err_lsoda:.1e}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
