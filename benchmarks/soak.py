"""Soak: the REST service under 50 concurrent clients for 10 minutes.

One ``immunoprecise serve`` process (uvicorn) on a fresh SQLite registry holding the six example
patients. The load, in closed loops, mixes what a team does all day:

- ``POST /api/v1/evaluate`` of records from a pool of 3,000 distinct variants of the examples
  (CRP and age varied), three times the evaluation cache (1,024), so that the cache keeps
  evicting and memory must level off rather than grow with the number of distinct records;
- ``POST /api/v1/evaluate`` of stored patients by id (an evaluation is stored each time: the
  database grows, as it does in use);
- ``GET /api/v1/patients/{id}``, ``GET /api/v1/patients`` and ``GET /api/v1/kb/therapies``.

Clients: wrk (C, Debian package ``wrk``) when installed, else httpx. The run is cut into windows
(1 minute each by default); after each, the server's resident memory (``/proc/PID/status``
``VmRSS``) and the window's latency percentiles are printed. Targets: memory of the last window
within 10% of the first's (after a one-minute warm-up), p99 stable (the last window's p99 within
2× the first's), 0 errors.

Run: .venv/bin/python benchmarks/soak.py [clients] [windows] [seconds_per_window]
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import platform
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import immunoprecise as ip

sys.path.insert(0, str(Path(__file__).parent))
from service import (
    clinician_tokens,
    example_bodies,
    fresh_registry,
    run_wrk,
    start_server,
    wrk_script,
)

DISTINCT_RECORDS = 3000
SEED = 20261121


def _variants(base: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        record = copy.deepcopy(base[k % len(base)])
        record.setdefault("host", {})["crp"] = {"value": round(rng.uniform(0.5, 120), 2),
                                                "unit": "mg/L"}  # fmt: skip
        record["patient"]["age"] = {"value": rng.randint(25, 90), "unit": "years"}
        out.append(record)
    return out


def _requests(base: list[dict[str, Any]], rng: random.Random) -> list[tuple[str, str, str]]:
    """The request mix, in a seeded order: (method, path, body)."""
    ids = [r["patient"]["id"] for r in base]
    mix: list[tuple[str, str, str]] = []
    for record in _variants(base, DISTINCT_RECORDS, rng):
        mix.append(("POST", "/api/v1/evaluate", json.dumps(record)))
    for k in range(DISTINCT_RECORDS // 3):
        pid = ids[k % len(ids)]
        mix.append(("POST", "/api/v1/evaluate", json.dumps({"patient_id": pid})))
        mix.append(("GET", f"/api/v1/patients/{pid}", ""))
    for _ in range(DISTINCT_RECORDS // 10):
        mix.append(("GET", "/api/v1/patients", ""))
        mix.append(("GET", "/api/v1/kb/therapies", ""))
    rng.shuffle(mix)
    return mix


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return float(match.group(1)) / 1024 if match else float("nan")


def _wrk_window(
    binary: str, script: Path, base_url: str, clients: int, seconds: float
) -> tuple[int, int, float, float, float]:
    r = run_wrk(binary, script, base_url, clients, seconds)
    return r.requests, r.errors, r.p50, r.p95, r.p99


async def _httpx_window(
    base_url: str, tokens: list[str], mix: list[tuple[str, str, str]], seconds: float
) -> tuple[int, int, float, float, float]:
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0

    async def client(k: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {tokens[k]}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
            i = k * 97
            while time.perf_counter() < stop:
                method, path, body = mix[i % len(mix)]
                start = time.perf_counter()
                try:
                    answer = await http.request(method, path, content=body or None,
                                                headers=headers)  # fmt: skip
                    errors += answer.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)
                i += 1

    await asyncio.gather(*(client(k) for k in range(len(tokens))))
    ms = np.array(latencies) * 1e3
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return len(ms), errors, float(p50), float(p95), float(p99)


def main(clients: int = 50, windows: int = 10, seconds: float = 60.0) -> None:
    """Run the soak and print one row per window, then the verdict."""
    rng = random.Random(SEED)
    folder, db = fresh_registry("ip-soak-")
    tokens = clinician_tokens(db, clients)
    base = example_bodies()
    mix = _requests(base, rng)
    server, url = start_server(db)
    binary = shutil.which("wrk")
    rows = []
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            for record in base:
                stored = http.post("/api/v1/patients", json=record,
                                   headers={"Authorization": f"Bearer {tokens[0]}"})  # fmt: skip
                stored.raise_for_status()
        script = folder / "soak.lua"
        script.write_text(wrk_script(mix, tokens), encoding="utf-8")
        client_name = "wrk (C)" if binary else "httpx (Python)"
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, immunoprecise {ip.__version__}; {clients} clients "
            f"({client_name}), {windows} windows of {seconds:g} s, seed {SEED}"
        )
        print("| window | requests | throughput | p50 ms | p95 ms | p99 ms | errors | RSS MiB |")
        print("|---|---|---|---|---|---|---|---|")
        for w in range(1, windows + 1):
            if binary:
                made = _wrk_window(binary, script, url, clients, seconds)
            else:
                made = asyncio.run(_httpx_window(url, tokens, mix, seconds))
            rss = _rss_mib(server.pid)
            rows.append((*made, rss))
            n, errors, p50, p95, p99 = made
            print(f"| {w} | {n:,} | {n / seconds:,.0f}/s | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
                  f"{errors} | {rss:.0f} |", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    first, last = rows[0], rows[-1]
    growth = last[5] / first[5] - 1
    errors = sum(r[1] for r in rows)
    p99_ratio = last[4] / first[4]
    print(
        f"memory {first[5]:.0f} → {last[5]:.0f} MiB ({growth:+.1%}; target ≤ +10%), "
        f"p99 {first[4]:.1f} → {last[4]:.1f} ms ({p99_ratio:.2f}×; target ≤ 2×), "
        f"errors {errors} (target 0): "
        + ("PASS" if growth <= 0.10 and p99_ratio <= 2 and errors == 0 else "FAIL")
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]) if args else 50,
        int(args[1]) if len(args) > 1 else 10,
        float(args[2]) if len(args) > 2 else 60.0,
    )
