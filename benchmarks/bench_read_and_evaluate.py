"""Benchmark: reading + validating a patient table, and evaluating patients.

Baseline: ``pandas.read_csv`` of the same file (parsing only, no validation or unit handling),
measured in the same run. Prints the time per call and the overhead factor of full validation.

Run: ``.venv/bin/python benchmarks/bench_read_and_evaluate.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import pandas as pd

import immunoprecise as ip


def _best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    """Run the benchmark and print a comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    table = ip.data.example_path("fl_cohort.csv")
    kb = ip.load_knowledge_base()
    cohort = ip.read_cohort(table)
    n = len(cohort.records)

    baseline = _best_of(lambda: pd.read_csv(table), args.repeat)
    reader = _best_of(lambda: ip.read_cohort(table), args.repeat)
    evaluate = _best_of(
        lambda: [ip.evaluate(r, knowledge_base=kb) for r in cohort.records], args.repeat
    )
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python "
        f"{platform.python_version()}; {n} patients; best / median of {args.repeat}"
    )
    print(f"{'step':48s} {'best ms':>9s} {'median ms':>10s} {'per patient ms':>15s}")
    rows = [
        ("baseline: pandas.read_csv (parse only)", baseline),
        ("read_cohort (parse + validate + convert units)", reader),
        ("evaluate every patient (profile + plan)", evaluate),
    ]
    for name, (best, median) in rows:
        print(f"{name:48s} {best * 1e3:9.1f} {median * 1e3:10.1f} {best * 1e3 / n:15.3f}")
    print(f"validation overhead vs baseline: {reader[0] / baseline[0]:.1f}x")


if __name__ == "__main__":
    main()
