"""Rate-limit buckets shared by the server processes of one machine: N processes together allow
a token its rate and burst once, not N times (real processes on one bucket file, then a real
``immunoprecise serve --workers 2``)."""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from immunoprecise.service import RateLimit, TokenStore
from immunoprecise.service.auth import Role
from immunoprecise.service.ratelimit import RateLimiter, SharedRateLimiter
from service.test_service_workers import ACCESS_LINE, _serve

NO_REFILL = RateLimit(rate=0.001, burst=50)
"""50 requests at once, and (over a test's seconds) practically no refill."""


def _take_many(path: str, key: str, times: int, threads: int) -> int:
    """In a process of its own: ``threads`` threads take ``times`` each; how many were allowed."""
    limiter = SharedRateLimiter(NO_REFILL, path)
    allowed = [0] * threads

    def take(i: int) -> None:
        allowed[i] = sum(limiter.take(key) == 0.0 for _ in range(times))

    workers = [threading.Thread(target=take, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    limiter.close()
    return sum(allowed)


def test_processes_sharing_a_bucket_file_allow_the_burst_once(tmp_path: Path) -> None:
    path = str(tmp_path / "buckets")
    context = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    with context.Pool(3) as pool:
        counts = pool.starmap(_take_many, [(path, "ann", 100, 4)] * 3)
        other = pool.starmap(_take_many, [(path, "bob", 10, 1)])
    assert sum(counts) == NO_REFILL.burst  # 1,200 attempts, 50 allowed in all
    assert other == [10]  # another token's bucket is its own
    separate = [RateLimiter(NO_REFILL) for _ in range(3)]  # the per-process buckets, for scale
    assert sum(sum(r.take("ann") == 0.0 for _ in range(400)) for r in separate) == 150


def test_the_wait_is_the_time_to_the_next_token(tmp_path: Path) -> None:
    limit = RateLimit(rate=2.0, burst=1)
    one = SharedRateLimiter(limit, tmp_path / "buckets")
    two = SharedRateLimiter(limit, tmp_path / "buckets")
    try:
        assert one.take("ann") == 0.0
        wait = two.take("ann")
        assert 0.4 < wait <= 0.5  # one token every 0.5 s
    finally:
        one.close()
        two.close()


def test_a_full_file_gives_the_slot_of_the_token_idle_longest(tmp_path: Path) -> None:
    limiter = SharedRateLimiter(RateLimit(rate=0.001, burst=1), tmp_path / "b", slots=2)
    try:
        assert limiter.take("ann") == 0.0
        assert limiter.take("bob") == 0.0
        assert limiter.take("ann") > 0  # ann's bucket is empty
        assert limiter.take("eve") == 0.0  # takes bob's slot (idle longest)
        assert limiter.take("ann") > 0  # ann kept hers
        assert limiter.take("bob") == 0.0  # bob starts full again, in eve's or ann's slot
    finally:
        limiter.close()


def test_a_file_that_is_not_a_bucket_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not buckets")
    with pytest.raises(ValueError, match=re.escape(f"{other} is not a bucket file")):
        SharedRateLimiter(NO_REFILL, other)
    made = tmp_path / "buckets"
    SharedRateLimiter(NO_REFILL, made, slots=8).close()
    with pytest.raises(ValueError, match="of 16 slots"):
        SharedRateLimiter(NO_REFILL, made, slots=16)


def test_two_server_processes_hold_a_token_to_one_rate_limit(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))  # where serve makes its bucket file
    with TokenStore.open(db_url) as store:
        _, secret = store.create("busy", Role.clinician, created_by="pytest")
    headers = {"Authorization": f"Bearer {secret}"}
    options = ("--workers", "2", "--rate", "0.001", "--burst", "6")
    with _serve(db_url, tmp_path, *options) as served:
        buckets = list(temporary.glob("immunoprecise-serve-*/rate-limit-buckets"))
        answers = []
        for _ in range(40):  # each on a new connection: both processes answer
            with httpx.Client(base_url=served.base, headers=headers, timeout=60.0) as client:
                answers.append(client.get("/api/v1/patients"))
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 6, codes
    assert codes.count(429) == 34, codes
    assert all("Retry-After" in a.headers for a in answers if a.status_code == 429)
    answered_by = {int(m.group(1)) for m in ACCESS_LINE.finditer(served.log)}
    assert len(answered_by) == 2, served.log[-3000:]
    assert len(buckets) == 1
    assert list(temporary.iterdir()) == []  # removed when the server stopped


def test_serve_help_says_the_limit_holds_across_processes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "immunoprecise", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert "across all --workers processes" in done.stdout
