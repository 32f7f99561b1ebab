"""Benchmark: a request's rate-limit check with buckets shared between processes, against the
in-memory buckets of one process (the baseline), in the same run.

``immunoprecise serve --workers N`` keeps the token buckets in a file mapped by every worker
(:class:`~immunoprecise.service.ratelimit.SharedRateLimiter`: a thread lock, an ``flock`` and
a few bytes read and written per request); one process keeps them in a dict
(:class:`~immunoprecise.service.ratelimit.RateLimiter`). Measured: microseconds per ``take``
with 50 tokens in turn, in one process, then with two processes taking at once from one file
(the lock contended). A service request takes milliseconds (``service.py``), so the check is
worth measuring only to show it stays far below that.

Run: .venv/bin/python benchmarks/rate_limit.py [calls]
"""

from __future__ import annotations

import multiprocessing as mp
import platform
import sys
import tempfile
import time
from pathlib import Path

from immunoprecise.service.ratelimit import Limiter, RateLimit, RateLimiter, SharedRateLimiter

LIMIT = RateLimit(rate=1e6, burst=1_000_000)  # nothing refused: every call does the full work
TOKENS = [f"token-{i:02d}" for i in range(50)]


def per_call(limiter: Limiter, calls: int) -> float:
    """Microseconds per ``take``, tokens in turn."""
    started = time.perf_counter()
    for i in range(calls):
        limiter.take(TOKENS[i % len(TOKENS)])
    return (time.perf_counter() - started) / calls * 1e6


def _shared_worker(path: str, calls: int, start_at: float) -> float:
    limiter = SharedRateLimiter(LIMIT, path)
    time.sleep(max(0.0, start_at - time.time()))  # both processes start together
    try:
        return per_call(limiter, calls)
    finally:
        limiter.close()


def main(calls: int) -> None:
    print(f"python {sys.version.split()[0]}, {platform.machine()}, {calls:,} calls each\n")
    folder = Path(tempfile.mkdtemp())
    memory = per_call(RateLimiter(LIMIT), calls)
    shared = SharedRateLimiter(LIMIT, folder / "one")
    one = per_call(shared, calls)
    shared.close()
    context = mp.get_context("spawn")
    with context.Pool(2) as pool:
        start_at = time.time() + 3.0
        two = pool.starmap(_shared_worker, [(str(folder / "two"), calls, start_at)] * 2)
    rows = [
        ("in memory, one process (the baseline)", memory),
        ("shared file, one process", one),
        ("shared file, two processes at once", max(two)),
    ]
    print("| buckets | µs per check | vs baseline |")
    print("|---|---|---|")
    for label, micros in rows:
        print(f"| {label} | {micros:.2f} | {micros / memory:.1f}× |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
