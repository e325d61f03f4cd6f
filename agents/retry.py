"""Waiting out a PostgreSQL outage inside an agent.

Raising from an agent would crash it with an event in flight; waiting with
backoff applies back-pressure instead and resumes by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import psycopg

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF_SECONDS = 30.0


async def until_available(call: Callable[[], T], what: str) -> T:
    """Run the blocking ``call`` in a thread; retry while PostgreSQL is unreachable.

    Only ``psycopg.OperationalError`` (connection lost, server starting or
    stopping) is retried; any other error propagates to the caller.
    """
    backoff = 0.5
    while True:
        try:
            return await asyncio.to_thread(call)
        except psycopg.OperationalError as exc:
            log.warning("%s: postgres unavailable (%s); retrying in %.1fs",
                        what, type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
