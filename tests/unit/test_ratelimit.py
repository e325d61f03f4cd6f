"""Per-key token buckets."""

from __future__ import annotations

from pipeline.api.ratelimit import RateLimiter


def test_burst_then_refill_at_the_rate() -> None:
    limiter = RateLimiter()
    assert [limiter.retry_after("k", 1.0, 3, now=0.0) for _ in range(4)] == [0, 0, 0, 1]
    assert limiter.retry_after("k", 1.0, 3, now=0.5) == 1
    assert limiter.retry_after("k", 1.0, 3, now=1.6) == 0
    assert limiter.retry_after("k", 1.0, 3, now=1.7) == 1


def test_slow_rate_asks_for_a_longer_wait() -> None:
    limiter = RateLimiter()
    assert limiter.retry_after("k", 0.1, 1, now=0.0) == 0
    assert limiter.retry_after("k", 0.1, 1, now=0.0) == 10


def test_keys_are_limited_separately_and_burst_caps_savings() -> None:
    limiter = RateLimiter()
    assert limiter.retry_after("a", 1.0, 1, now=0.0) == 0
    assert limiter.retry_after("a", 1.0, 1, now=0.0) == 1
    assert limiter.retry_after("b", 1.0, 1, now=0.0) == 0
    # an idle hour does not bank more than the burst
    assert limiter.retry_after("a", 1.0, 1, now=3600.0) == 0
    assert limiter.retry_after("a", 1.0, 1, now=3600.0) == 1


def test_a_clock_that_goes_backwards_refills_nothing() -> None:
    limiter = RateLimiter()
    assert limiter.retry_after("k", 1.0, 1, now=10.0) == 0
    assert limiter.retry_after("k", 1.0, 1, now=5.0) == 1
