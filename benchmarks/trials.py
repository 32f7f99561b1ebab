"""Benchmark: a virtual trial of 1,000,000 patients × 2 arms on a local Dask cluster.

Scaling: the design with ``n_scaling`` patients per arm (default 200,000) runs on a local cluster
of 1 worker process (the baseline, measured in the same run) and of 2; the benchmark prints
patient-arm simulations per second, the speed-up from 1 to 2 workers (target ≥ 1.7×) and checks
that both gave identical outcomes. Then the full trial (default 1,000,000 patients per arm) runs
on 2 workers. Every run reports the peak resident memory of each worker process (target
< 2 GiB).

Design: the shipped example (relapsed FL, rituximab vs rituximab + γδ T-cell activation, 728
days), resized to ``n_per_arm`` patients in chunks of 10,000.

Run: .venv/bin/python benchmarks/trials.py [n_per_arm] [n_scaling]
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
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
            memory_limit="4GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
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
    n_scaling = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    base = load_trial_design(example_path("fl_gammadelta_trial.yaml"))

    def sized(patients: int) -> TrialDesign:
        return TrialDesign.model_validate(
            {**base.model_dump(), "n_per_arm": patients, "chunk_size": 10_000}
        )

    print(
        f"{base.name}: model {base.model}, {len(base.arms)} arms, {base.follow_up_days:g} days, "
        f"chunks of 10,000; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"Scaling, {n_scaling:,} patients × {len(base.arms)} arms:")
    one, two = run_on(sized(n_scaling), 1), run_on(sized(n_scaling), 2)
    for r in (one, two):
        _line(r)
    speedup = one["simulation_seconds"] / two["simulation_seconds"]
    print(f"  scaling 1 → 2 workers: {speedup:.2f}× (efficiency {speedup / 2:.0%}; target ≥ 1.7×)")
    pd.testing.assert_frame_equal(one["result"].outcomes, two["result"].outcomes)
    print("  outcomes identical with 1 and 2 workers: yes")
    print(f"Full trial, {n:,} patients × {len(base.arms)} arms on 2 workers:")
    full = run_on(sized(n), 2)
    _line(full)
    print(full["result"].summary())


def _line(r: dict[str, Any]) -> None:
    print(
        f"  {r['workers']} worker(s): {r['simulation_seconds']:.1f} s simulating "
        f"({r['seconds']:.1f} s with endpoints), {r['rate']:,.0f} patient-arm simulations/s, "
        f"peak memory per worker {r['peak_rss_gib']:.2f} GiB"
    )


if __name__ == "__main__":
    main()
