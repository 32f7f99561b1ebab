"""Benchmark: ip.profile_table on 100,000 patients against a per-record loop of ip.profile.

Baseline: the loop ``[ip.profile(r) for r in records]`` over validated records, timed on a
sample of the same table (the loop over all 100,000 would take minutes; its rate is per
patient). Target: the table path ≥ 50× the loop's patients/s, with identical values (asserted in
tests/profile/test_profile_table.py on 1,000 patients).

Run: .venv/bin/python benchmarks/bench_profile_table.py [n_patients] [loop_sample]
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

import immunoprecise as ip
from immunoprecise.data.synthetic import synthetic_table


def main(n: int = 100_000, sample: int = 2_000) -> None:
    """Print patients/s of both paths and their ratio."""
    frame = synthetic_table(n, seed=20261121)
    ip.load_knowledge_base()  # loaded once by both paths
    start = time.perf_counter()
    table = ip.profile_table(frame)
    table_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.csv"
        frame.head(sample).to_csv(path, index=False)
        records = ip.read_cohort(path).records
    start = time.perf_counter()
    for record in records:
        ip.profile(record)
    loop_s = time.perf_counter() - start
    table_rate, loop_rate = n / table_s, sample / loop_s
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"profile_table: {n:,} patients in {table_s:.2f} s = {table_rate:,.0f} patients/s "
        f"({table.shape[1]} columns)"
    )
    print(
        f"loop of ip.profile (baseline): {sample:,} patients in {loop_s:.2f} s = "
        f"{loop_rate:,.0f} patients/s"
    )
    print(f"speed-up: {table_rate / loop_rate:.0f}x (target >= 50x)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
