"""Per-token rate limiting: a token bucket for each bearer token.

:class:`RateLimiter` keeps the buckets in one process's memory. :class:`SharedRateLimiter` keeps
them in a small file that the server processes of one machine map into memory together
(``immunoprecise serve --workers N`` makes one), so that a token's limit holds across all of
them rather than once per process.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import os
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "SHARED_BUCKET_SLOTS",
    "Limiter",
    "RateLimit",
    "RateLimiter",
    "SharedRateLimiter",
    "can_share_buckets",
]


@dataclass(frozen=True)
class RateLimit:
    """How many requests a token may make: ``rate`` per second on average, ``burst`` at once.

    Parameters
    ----------
    rate
        Requests per second refilled into the bucket (> 0).
    burst
        Size of the bucket: requests a token may make at once after being idle (≥ 1).

    Examples
    --------
    >>> RateLimit(rate=20, burst=40)
    RateLimit(rate=20, burst=40)
    """

    rate: float = 20.0
    burst: int = 40

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"rate limit: rate must be > 0 requests per second, not {self.rate}")
        if self.burst < 1:
            raise ValueError(f"rate limit: burst must be at least 1 request, not {self.burst}")


DEFAULT_RATE_LIMIT = RateLimit()
"""20 requests per second on average, bursts of up to 40."""


class Limiter(Protocol):
    """What the service asks of a rate limiter."""

    limit: RateLimit

    def take(self, key: str) -> float:
        """Take one request from ``key``'s bucket: 0 when allowed, else seconds to wait."""
        ...  # pragma: no cover - a protocol

    def close(self) -> None:
        """Release what the limiter holds."""
        ...  # pragma: no cover - a protocol


def _refill(limit: RateLimit, tokens: float, updated: float, now: float) -> tuple[float, float]:
    """A bucket's tokens after one request at ``now`` (negative: refused) and the wait (s)."""
    tokens = min(float(limit.burst), tokens + max(0.0, now - updated) * limit.rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / limit.rate


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """Token buckets by key (the token's name), filled at ``limit.rate`` up to ``limit.burst``.

    Parameters
    ----------
    limit
        The rate and burst allowed per key.

    Examples
    --------
    >>> limiter = RateLimiter(RateLimit(rate=1, burst=2))
    >>> [limiter.take("ann") == 0.0 for _ in range(3)]
    [True, True, False]
    """

    limit: RateLimit
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> float:
        """Take one request from ``key``'s bucket.

        Parameters
        ----------
        key
            Whose bucket (a token name).

        Returns
        -------
        float
            0 when the request is allowed; otherwise the seconds until it would be.
        """
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.limit.burst), now)
            bucket.tokens, wait = _refill(self.limit, bucket.tokens, bucket.updated, now)
            bucket.updated = now
            return wait

    def close(self) -> None:
        """Nothing to release (the buckets are in memory)."""


SHARED_BUCKET_SLOTS = 4096
"""Tokens a shared bucket file holds at once; beyond that, the token idle longest gives its
slot up (its bucket starts full again, as after a long pause)."""
_MAGIC = b"IPRL\x01\x00\x00\x00"
_HEADER = struct.Struct("<8sI4x")
_SLOT = struct.Struct("<16sdd")  # SHA-256 of the token name (first 16 bytes), tokens, updated
_EMPTY = bytes(16)


def can_share_buckets() -> bool:
    """Whether this system can lock files (``fcntl``), which :class:`SharedRateLimiter` needs."""
    return fcntl is not None


class SharedRateLimiter:
    """Token buckets kept in a file that several processes of one machine share.

    Each process maps the file into memory; a request takes one token from its bucket under an
    exclusive lock on the file (``flock``; and a thread lock within the process), so N server
    processes together allow each token ``limit.rate`` requests per second and ``limit.burst``
    at once, not N times as many. Times are read from the machine's monotonic clock, the same
    in every process. Needs ``fcntl`` (Linux, macOS).

    Parameters
    ----------
    limit
        The rate and burst allowed per key.
    path
        The bucket file: created (zero-filled) if missing, else opened as it is.
    slots
        Keys the file holds (see :data:`SHARED_BUCKET_SLOTS`); every process must give the same.

    Raises
    ------
    ValueError
        If ``path`` holds something other than a bucket file of ``slots`` slots.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "buckets"
    >>> one, two = (SharedRateLimiter(RateLimit(rate=0.001, burst=3), path) for _ in range(2))
    >>> [one.take("ann") == 0.0, two.take("ann") == 0.0, one.take("ann") == 0.0]
    [True, True, True]
    >>> two.take("ann") > 0  # the third request used the last token of both
    True
    >>> one.close(); two.close()
    """

    def __init__(
        self, limit: RateLimit, path: str | os.PathLike[str], *, slots: int = SHARED_BUCKET_SLOTS
    ) -> None:
        if slots < 1:
            raise ValueError(f"shared rate limit: slots must be at least 1, not {slots}")
        self.limit = limit
        self.path = Path(path)
        self._slots = slots
        self._lock = threading.Lock()
        size = _HEADER.size + slots * _SLOT.size
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                found = os.fstat(self._fd).st_size
                if found == 0:
                    os.ftruncate(self._fd, size)
                    os.pwrite(self._fd, _HEADER.pack(_MAGIC, slots), 0)
                    found = size
                header = os.pread(self._fd, _HEADER.size, 0)
                if found != size or header != _HEADER.pack(_MAGIC, slots):
                    raise ValueError(
                        f"shared rate limit: {self.path} is not a bucket file of {slots} slots; "
                        "give a new path"
                    )
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(self._fd, size)
        except BaseException:
            os.close(self._fd)
            raise

    def _slot(self, key: bytes) -> int:
        """The slot of ``key``: its own, else a free one, else the one idle longest."""
        start = int.from_bytes(key[:8], "little") % self._slots
        oldest, oldest_time = start, math.inf
        for probe in range(self._slots):
            index = (start + probe) % self._slots
            held, _, updated = _SLOT.unpack_from(self._map, _HEADER.size + index * _SLOT.size)
            if held in (key, _EMPTY):
                return index
            if updated < oldest_time:
                oldest, oldest_time = index, updated
        return oldest

    def take(self, key: str) -> float:
        """:meth:`RateLimiter.take`, on the bucket every process sharing the file uses."""
        digest = hashlib.sha256(key.encode()).digest()[:16]
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                now = time.monotonic()
                index = self._slot(digest)
                offset = _HEADER.size + index * _SLOT.size
                held, tokens, updated = _SLOT.unpack_from(self._map, offset)
                if held != digest:  # a new key (or one that gave its slot up): a full bucket
                    tokens, updated = float(self.limit.burst), now
                tokens, wait = _refill(self.limit, tokens, updated, now)
                _SLOT.pack_into(self._map, offset, digest, tokens, now)
                return wait
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Unmap and close the file (it stays for the other processes)."""
        self._map.close()
        os.close(self._fd)
