"""When and how long to wait before retrying a request.

Retried: connection errors and timeouts, ``429`` (after its ``Retry-After``) and
``500``, ``502``, ``503``, ``504`` (``503`` also carries ``Retry-After`` when the
broker did not acknowledge). Never retried: any other status (a 4xx is the
caller's to fix; ``501`` will not change). Waits grow exponentially with full
jitter and are capped; a ``Retry-After`` longer than the cap is cut to it.

Retrying is safe because every request is idempotent: contract events carry
their own ``event_id`` (a repeat is a duplicate the pipeline processes once) and
decisions send one ``Idempotency-Key`` on every attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts the first try; waits are ``base * 2**n`` with full
    jitter, at most ``max_delay`` seconds (``Retry-After`` too)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return (rng or random).uniform(0.0, ceiling)


def retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
