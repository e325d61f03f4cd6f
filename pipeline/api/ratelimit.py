"""Per-key token buckets: each key may spend ``burst`` requests at once and
regains ``rate_per_second`` per second. Pure (the clock is passed in).

Limits are per API process; with N replicas behind a balancer a key gets up
to N times its rate. A shared limiter (PostgreSQL or Kafka-backed) is the
upgrade path when that matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key_id: str, rate_per_second: float, burst: int, now: float) -> int:
        """0 when the request may proceed (and is counted), else whole seconds to wait."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            if len(self._buckets) >= _MAX_KEYS:
                self._buckets.clear()  # bounded memory; only forgets who was throttled
            bucket = self._buckets[key_id] = _Bucket(float(burst), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(burst), bucket.tokens + elapsed * rate_per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / rate_per_second))
