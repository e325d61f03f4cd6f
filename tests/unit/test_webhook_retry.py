"""What an attempt's result means for the delivery, with the clock and jitter passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from pipeline.webhooks.retry import (
    AttemptResult,
    RetryPolicy,
    backoff,
    next_step,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, backoff_base_seconds=2.0, backoff_max_seconds=60.0,
                     retry_after_max_seconds=300.0)


def step(result: AttemptResult, attempts: int = 1) -> tuple[str, str | None, float]:
    s = next_step(result, attempts, POLICY, random.Random(7), NOW)
    return s.kind, s.reason, s.delay_seconds


@pytest.mark.parametrize("code", [200, 201, 204, 299])
def test_2xx_is_delivered(code: int) -> None:
    assert step(AttemptResult(code))[0] == "delivered"


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_is_retried_with_backoff(code: int) -> None:
    kind, reason, delay = step(AttemptResult(code), attempts=3)
    assert (kind, reason) == ("retry", f"HTTP {code}")
    assert 4.0 <= delay <= 8.0  # 2 * 2**2 = 8, of which half is jitter


@pytest.mark.parametrize("code", [301, 302, 400, 401, 403, 404, 408, 410, 413, 422])
def test_other_statuses_are_dead_at_once_with_the_reason(code: int) -> None:
    assert step(AttemptResult(code)) == (
        "dead", f"HTTP {code}: not retried (only 429 and 5xx are)", 0.0)


def test_429_honours_retry_after_in_seconds_or_as_a_date_and_caps_it() -> None:
    assert step(AttemptResult(429, retry_after="17")) == ("retry", "HTTP 429", 17.0)
    assert step(AttemptResult(429, retry_after="Sun, 01 Mar 2026 12:01:00 GMT")) == (
        "retry", "HTTP 429", 60.0)
    assert step(AttemptResult(429, retry_after="86400"))[2] == 300.0
    kind, _, delay = step(AttemptResult(429, retry_after="soon"), attempts=1)
    assert kind == "retry" and 1.0 <= delay <= 2.0


def test_transport_errors_are_retried_and_refusals_are_not() -> None:
    assert step(AttemptResult(None, error="timed out", retryable=True))[:2] == (
        "retry", "timed out")
    assert step(AttemptResult(None, error="refused at delivery: url is private")) == (
        "dead", "refused at delivery: url is private", 0.0)


def test_the_last_attempt_lands_in_dead_letter() -> None:
    assert step(AttemptResult(503), attempts=5) == (
        "dead", "gave up after 5 attempts; last: HTTP 503", 0.0)
    assert step(AttemptResult(None, error="timed out", retryable=True), attempts=5)[0] == "dead"


def test_backoff_doubles_up_to_the_cap_with_half_jitter() -> None:
    rng = random.Random(1)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (200, 60.0)]:
        delay = backoff(attempts, POLICY, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_parsing() -> None:
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after(" 5 ", NOW) == 5.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("-3", NOW) is None
