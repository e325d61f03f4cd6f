"""Blocking PostgreSQL work for request handlers: one connection per call, on a thread.

A connection that cannot be made or is lost answers ``503 unavailable`` with
``Retry-After``, so clients retry instead of seeing a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import psycopg

from pipeline.api.errors import ApiError

T = TypeVar("T")


class Database:
    def __init__(self, dsn: str, what: str) -> None:
        self._dsn = dsn
        self._what = what

    def _run(self, work: Callable[[psycopg.Connection], T]) -> T:
        with psycopg.connect(self._dsn, autocommit=True, connect_timeout=10) as conn:
            return work(conn)

    async def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """``work(conn)`` on a worker thread; 503 when PostgreSQL is unreachable."""
        try:
            return await asyncio.to_thread(self._run, work)
        except psycopg.OperationalError:
            raise ApiError(503, "unavailable", f"{self._what} unavailable; retry shortly",
                           headers={"Retry-After": "5"}) from None
