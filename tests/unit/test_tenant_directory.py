"""The worker's tenant directory waits out a database outage instead of crashing the agent."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from agents.context import TenantDirectory


class FlakyDirectory(TenantDirectory):
    def __init__(self, failures: int) -> None:
        super().__init__("postgresql://unused")
        self.failures = failures
        self.loads = 0

    def _load(self) -> frozenset[str]:
        self.loads += 1
        if self.loads <= self.failures:
            raise psycopg.OperationalError("connection refused")
        return frozenset({"acme"})


def test_refresh_retries_until_the_database_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    directory = FlakyDirectory(failures=3)
    assert asyncio.run(directory.is_known("acme")) is True
    assert directory.loads == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_unknown_tenant_is_not_reloaded_on_every_event() -> None:
    directory = FlakyDirectory(failures=0)
    assert asyncio.run(directory.is_known("other")) is False
    assert asyncio.run(directory.is_known("other")) is False
    assert directory.loads == 1
