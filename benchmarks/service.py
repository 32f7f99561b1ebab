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
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

import immunoprecise as ip
from immunoprecise.service import Role, TokenStore

EXAMPLES = ["ball_cd19", "crc_msih", "fl_relapsed", "melanoma_braf", "mm_post_asct", "nsclc_cold"]


def fresh_registry(prefix: str) -> tuple[Path, str]:
    """A new folder and the URL of a migrated SQLite registry in it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    db = f"sqlite:///{folder / 'registry.db'}"
    subprocess.run(
        [sys.executable, "-m", "immunoprecise", "db", "init", "--db", db],
        check=True,
        capture_output=True,
    )
    return folder, db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clinician_tokens(db: str, count: int) -> list[str]:
    with TokenStore.open(db) as store:
        return [
            store.create(f"client{k:02d}", Role.clinician, created_by="bench")[1]
            for k in range(count)
        ]


def example_bodies() -> list[dict[str, object]]:
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
    bodies = example_bodies()
    start = time.perf_counter()
    stop = start + seconds
    results = await asyncio.gather(
        *(_client(url, t, bodies, stop, k) for k, t in enumerate(tokens))
    )
    elapsed = time.perf_counter() - start
    latencies = [x for lat, _ in results for x in lat]
    return latencies, [e for _, errs in results for e in errs], elapsed


WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ERRORS connect %d, read %d, write %d, HTTP status %d, timeout %d\\n",
    e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""
"""wrk's report (Lua): the errors by kind and a RESULT line that :func:`run_wrk` reads."""

WRK_REQUESTS = """
local requests = {%(requests)s}
local tokens = {%(tokens)s}
local count = 0
request = function()
  count = count + 1
  local r = requests[(count %% #requests) + 1]
  local headers = {["Authorization"] = "Bearer " .. tokens[(count %% #tokens) + 1]}
  if r[1] == "POST" then headers["Content-Type"] = "application/json" end
  return wrk.format(r[1], r[2], headers, r[3])
end
"""
"""wrk's requests (Lua), round-robin: fill in ``requests`` ({method, path, body} each) and
``tokens`` with :func:`wrk_script`."""


def wrk_script(requests: list[tuple[str, str, str]], tokens: list[str]) -> str:
    """The Lua script making ``requests`` round-robin with ``tokens``, and reporting."""
    return (
        WRK_REQUESTS
        % {
            "requests": ", ".join(
                "{" + ", ".join(_lua_string(x) for x in r) + "}" for r in requests
            ),
            "tokens": ", ".join(_lua_string(t) for t in tokens),
        }
        + WRK_DONE
    )


def run_wrk(binary: str, script: Path, url: str, clients: int, seconds: float) -> Result:
    """Run wrk with ``script`` (which ends with :data:`WRK_DONE`) and read its report."""
    command = [binary, "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s"]
    out = subprocess.run(
        [*command, "-s", str(script), url], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out)
    if match is None:
        sys.exit(f"could not read wrk's output: {out!r}")
    requests, micros, errors = (int(match.group(k)) for k in (1, 2, 3))
    p50, p95, p99 = (float(match.group(k)) for k in (4, 5, 6))
    kinds = re.findall(r"ERRORS (.*)", out) if errors else []
    return Result(requests, requests / (micros / 1e6), errors, kinds, p50, p95, p99)


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk(url: str, tokens: list[str], seconds: float, clients: int) -> Result | None:
    """Run wrk (C, Debian package ``wrk``) as the clients; ``None`` if it is not installed."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    requests = [("POST", "/api/v1/evaluate", json.dumps(b)) for b in example_bodies()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(wrk_script(requests, tokens))
    return run_wrk(binary, Path(handle.name), url, clients, seconds)


@dataclass
class Result:
    """One load run: requests, throughput (/s), errors and latency percentiles (ms)."""

    requests: int
    throughput: float
    errors: int
    error_kinds: list[str]
    p50: float
    p95: float
    p99: float


def _httpx(url: str, tokens: list[str], seconds: float) -> Result:
    latencies, errors, elapsed = asyncio.run(_run(url, tokens, seconds))
    ms = np.array(latencies) * 1e3
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    kinds = [f"{errors.count(k)} × {k}" for k in sorted(set(errors))]
    return Result(len(ms), len(ms) / elapsed, len(errors), kinds, p50, p95, p99)


def start_server(db: str, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """``immunoprecise serve`` on ``db`` (rate limit out of the way); the process and its URL."""
    port = free_port()
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
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not start")


def print_table(rows: list[tuple[str, str, Result]]) -> None:
    """Print one Markdown row per (server, client, result), with any errors under it."""
    print("| server | clients | requests | throughput | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for server_name, client, r in rows:
        print(
            f"| {server_name} | {client} | {r.requests:,} | {r.throughput:,.0f}/s | "
            f"{r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | {r.errors} |"
        )
        for kind in r.error_kinds:
            print(f"  {kind}")


def main(clients: int = 50, seconds: float = 60.0) -> None:
    """Run the service with and without its evaluation cache under both clients; print a table."""
    _, db = fresh_registry("ip-bench-")
    tokens = clinician_tokens(db, clients)
    rows: list[tuple[str, str, Result]] = []
    for server_name, extra in (
        ("no evaluation cache (baseline)", ("--evaluation-cache", "0")),
        ("evaluation cache (default)", ()),
    ):
        server, base = start_server(db, *extra)
        url = f"{base}/api/v1/evaluate"
        try:
            _httpx(url, tokens[:2], 2.0)  # warm-up
            rows.append((server_name, "httpx (Python)", _httpx(url, tokens, seconds)))
            made = _wrk(url, tokens, seconds, clients)
            if made is not None:
                rows.append((server_name, "wrk (C)", made))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, immunoprecise {ip.__version__}"
    )
    print(f"{clients} clients, {seconds:g} s each, POST /api/v1/evaluate (six example records)")
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt install wrk): the C client's rows are missing")
    print_table(rows)
    base_row = rows[0][2]
    for server_name, client, r in rows[1:]:
        print(
            f"{server_name}, {client}: {r.throughput / base_row.throughput:.1f}x the baseline's "
            f"throughput, p95 {r.p95:.1f} ms vs {base_row.p95:.1f} ms (target p95 < 50, 0 errors)"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 50, float(args[1]) if len(args) > 1 else 60.0)
