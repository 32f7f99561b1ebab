"""Benchmark: 50 concurrent clients on ``POST /api/v1/evaluate`` for 60 s against uvicorn.

The server is ``immunoprecise serve`` (uvicorn, one process) on a fresh SQLite registry on
localhost, started as a subprocess; every client holds its own clinician token (the rate limit is
per token, set high enough not to interfere). Each client posts, in a closed loop, one of the six
bundled example records (round-robin), so every request is a full profile + strategy plan of a
record sent in the body. Reported: throughput, latency percentiles (p50/p95/p99, client side,
including the HTTP round trip) and errors (any non-200 answer or failed connection).

Target: p95 < 50 ms with 0 errors.

Run: .venv/bin/python benchmarks/service.py [clients] [seconds]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

import immunoprecise as ip

EXAMPLES = ["ball_cd19", "crc_msih", "fl_relapsed", "melanoma_braf", "mm_post_asct", "nsclc_cold"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _token(db: str, name: str) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "immunoprecise",
            "token",
            "create",
            name,
            "--role",
            "clinician",
            "--db",
            db,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"[A-Za-z0-9_-]{40,}", out)
    if match is None:
        sys.exit(f"could not read the token from: {out!r}")
    return match.group(0)


def _bodies() -> list[dict[str, object]]:
    bodies = []
    for name in EXAMPLES:
        data = json.loads(ip.data.example_path(f"{name}.json").read_text(encoding="utf-8"))
        data.pop("expression", None)  # the service never opens files named in a request
        bodies.append(data)
    return bodies


async def _client(
    url: str, token: str, bodies: list[dict[str, object]], stop: float, offset: int
) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30.0) as client:
        i = offset
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                response = await client.post(url, json=bodies[i % len(bodies)], headers=headers)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}: {response.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:160])
            latencies.append(time.perf_counter() - start)
            i += 1
    return latencies, errors


async def _run(url: str, tokens: list[str], seconds: float) -> tuple[list[float], list[str], float]:
    bodies = _bodies()
    start = time.perf_counter()
    stop = start + seconds
    results = await asyncio.gather(
        *(_client(url, t, bodies, stop, k) for k, t in enumerate(tokens))
    )
    elapsed = time.perf_counter() - start
    latencies = [x for lat, _ in results for x in lat]
    return latencies, [e for _, errs in results for e in errs], elapsed


def main(clients: int = 50, seconds: float = 60.0) -> None:
    """Start the server, run the clients, print throughput and latency percentiles."""
    folder = Path(tempfile.mkdtemp(prefix="ip-bench-"))
    db = f"sqlite:///{folder / 'registry.db'}"
    subprocess.run(
        [sys.executable, "-m", "immunoprecise", "db", "init", "--db", db],
        check=True,
        capture_output=True,
    )
    tokens = [_token(db, f"client{k:02d}") for k in range(clients)]
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "immunoprecise",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--rate",
            "100000",
            "--burst",
            "100000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            sys.exit("the server did not start")
        asyncio.run(_run(f"{base}/api/v1/evaluate", tokens[:2], 2.0))  # warm-up
        latencies, errors, elapsed = asyncio.run(_run(f"{base}/api/v1/evaluate", tokens, seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = np.array(latencies) * 1e3
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, immunoprecise {ip.__version__}"
    )
    print(f"{clients} clients, {seconds:g} s, POST /api/v1/evaluate (six example records)")
    print(f"requests: {len(ms):,}; throughput {len(ms) / elapsed:,.0f}/s; errors: {len(errors)}")
    for kind in sorted(set(errors)):
        print(f"  {errors.count(kind)} × {kind}")
    print(f"latency ms: p50 {p50:.1f}, p95 {p95:.1f}, p99 {p99:.1f} (target p95 < 50, 0 errors)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 50, float(args[1]) if len(args) > 1 else 60.0)
