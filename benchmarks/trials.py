"""Benchmark: a virtual trial of 1,000,000 patients × 2 arms on a local Dask cluster.

The same design runs on a local cluster of 1 worker process (the baseline, measured in the same
run) and of 2; the benchmark prints patient-arm simulations per second, the scaling from 1 to 2
workers (target ≥ 1.7×), the peak resident memory of each worker process (target < 2 GiB) and
checks that both runs gave identical outcomes.

Design: the shipped example (relapsed FL, rituximab vs rituximab + γδ T-cell activation, 728
days), resized to ``n_per_arm`` patients in chunks of 10,000.

Run: .venv/bin/python benchmarks/trials.py [n_per_arm] [workers, e.g. 1,2]
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import Any

import pandas as pd
from distributed import Client, LocalCluster

from immunoprecise.data import example_path
from immunoprecise.dynamics.trials import TrialDesign, load_trial_design, run_trial


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux: ru_maxrss is in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def run_on(design: TrialDesign, workers: int) -> dict[str, Any]:
    """Run the design on a fresh local cluster of ``workers`` processes."""
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
        memory_limit="4GiB",
    ) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        result = run_trial(design, scheduler=cluster.scheduler_address)
        seconds = time.perf_counter() - started
        rss = client.run(peak_rss_bytes)
    return {
        "workers": workers,
        "seconds": seconds,
        "simulation_seconds": result.execution.seconds,
        "rate": result.execution.simulations / result.execution.seconds,
        "peak_rss_gib": max(rss.values()) / 2**30,
        "result": result,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    counts = [int(k) for k in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1, 2]
    base = load_trial_design(example_path("fl_gammadelta_trial.yaml"))
    design = TrialDesign.model_validate({**base.model_dump(), "n_per_arm": n, "chunk_size": 10_000})
    print(
        f"{design.name}: {n:,} patients × {len(design.arms)} arms, {design.n_chunks} chunks of "
        f"{design.chunk_size:,}; model {design.model}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    runs = [run_on(design, k) for k in counts]
    for r in runs:
        print(
            f"  {r['workers']} worker(s): {r['simulation_seconds']:.1f} s simulating "
            f"({r['seconds']:.1f} s with endpoints), {r['rate']:,.0f} patient-arm simulations/s, "
            f"peak memory per worker {r['peak_rss_gib']:.2f} GiB"
        )
    first = runs[0]
    for r in runs[1:]:
        speedup = first["simulation_seconds"] / r["simulation_seconds"]
        ideal = r["workers"] / first["workers"]
        print(
            f"  scaling {first['workers']} → {r['workers']} workers: {speedup:.2f}× "
            f"(efficiency {speedup / ideal:.0%}; target ≥ 1.7× for 1 → 2)"
        )
        pd.testing.assert_frame_equal(first["result"].outcomes, r["result"].outcomes)
        print(f"  outcomes identical with {first['workers']} and {r['workers']} workers: yes")
    print(first["result"].summary())


if __name__ == "__main__":
    main()
