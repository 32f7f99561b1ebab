"""Per-token rate limiting: an in-memory token bucket for each bearer token."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

__all__ = ["DEFAULT_RATE_LIMIT", "RateLimit", "RateLimiter"]


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
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.limit.burst), bucket.tokens + elapsed * self.limit.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.limit.rate
