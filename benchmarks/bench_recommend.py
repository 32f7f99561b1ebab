"""Benchmark: deciding strategy plans for 10,000 profiles, vectorized against the per-rule loop.

Baseline: the per-rule naive loop the engine started from — for each profile, evaluate every
rule's condition on that profile (``ip.recommend(profile)``), timed on a sample of the same
patients' profiles. Candidate: ``ip.recommend_frame`` on the profile table of all patients (each
condition evaluated once per disease group as array operations). Target: < 2 s per 1,000
profiles; decisions identical (asserted on 1,000 patients in
tests/recommend/test_recommend_table.py).

Run: .venv/bin/python benchmarks/bench_recommend.py [n_patients] [loop_sample]
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

import immunoprecise as ip
from immunoprecise.data.synthetic import synthetic_table


def main(n: int = 10_000, sample: int = 1_000) -> None:
    """Print seconds per 1,000 profiles for both paths and their ratio."""
    frame = synthetic_table(n, seed=20261121)
    kb = ip.load_knowledge_base()
    profiles = ip.profile_table(frame, knowledge_base=kb)
    codes = frame["oncotree_code"].to_numpy()
    ip.recommend_frame(profiles.head(50), codes[:50], knowledge_base=kb)  # warm caches
    start = time.perf_counter()
    plans = ip.recommend_frame(profiles, codes, knowledge_base=kb)
    frame_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.csv"
        frame.head(sample).to_csv(path, index=False)
        records = ip.read_cohort(path).records
    single = [ip.profile(r, knowledge_base=kb) for r in records]
    start = time.perf_counter()
    for p in single:
        ip.recommend(p, knowledge_base=kb)
    loop_s = time.perf_counter() - start
    per_k_frame, per_k_loop = frame_s / n * 1000, loop_s / sample * 1000
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"knowledge base {kb.version}: {len(kb.rules)} rules, {len(kb.strategies)} strategies")
    print(
        f"recommend_frame: {n:,} profiles in {frame_s:.3f} s = {per_k_frame:.3f} s per 1,000 "
        f"({plans.shape[1]} columns)"
    )
    print(
        f"per-rule loop of ip.recommend (baseline): {sample:,} profiles in {loop_s:.2f} s = "
        f"{per_k_loop:.3f} s per 1,000"
    )
    print(f"speed-up: {per_k_loop / per_k_frame:.0f}x; target < 2 s per 1,000 profiles")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
