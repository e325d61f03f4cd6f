"""What an attempt's result means, and when to try again: pure, clock and randomness passed in.

Retried: 5xx, 429 (after its ``Retry-After`` when given), timeouts, connection
errors and names that do not resolve. Every other status (3xx included:
redirects are not followed) is final, as is a target refused at delivery time.
A retry waits ``base * 2**(n-1)`` seconds (n = attempts so far, capped), of which
a random half is jitter; after ``max_attempts`` attempts the delivery is dead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    retry_after_max_seconds: float


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """One attempt as the sender saw it: a status code, or an error and whether it may pass."""

    status_code: int | None
    retry_after: str | None = None
    error: str | None = None
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """What happens to the delivery next."""

    kind: Literal["delivered", "retry", "dead"]
    reason: str | None = None
    delay_seconds: float = 0.0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def backoff(attempts: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds before the next try after ``attempts`` tries: exponential, half jitter."""
    ceiling = min(policy.backoff_max_seconds,
                  policy.backoff_base_seconds * 2.0 ** min(max(attempts - 1, 0), 40))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def next_step(result: AttemptResult, attempts: int, policy: RetryPolicy,
              rng: random.Random, now: datetime) -> Step:
    """The step after an attempt; ``attempts`` counts tries in the current budget."""
    code = result.status_code
    if code is not None and 200 <= code < 300:
        return Step("delivered")
    delay: float | None = None
    if code == 429:
        reason = "HTTP 429"
        wait = parse_retry_after(result.retry_after, now)
        if wait is not None:
            delay = min(wait, policy.retry_after_max_seconds)
    elif code is not None and code >= 500:
        reason = f"HTTP {code}"
    elif code is not None:
        return Step("dead", f"HTTP {code}: not retried (only 429 and 5xx are)")
    elif not result.retryable:
        return Step("dead", result.error or "refused")
    else:
        reason = result.error or "no response"
    if attempts >= policy.max_attempts:
        return Step("dead", f"gave up after {attempts} attempts; last: {reason}")
    if delay is None:
        delay = backoff(attempts, policy, rng)
    return Step("retry", reason, delay)


def when(now: datetime, step: Step) -> datetime:
    return now + timedelta(seconds=step.delay_seconds)
