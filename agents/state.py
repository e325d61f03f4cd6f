"""Keyed state written behind the output it depends on.

An agent computes a key's new state, sends what the step emitted, and stores the
state only once that output is delivered (``agents/acks.py``). Until then the
next event of the same key must see the new state, so it is kept here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents.acks import OnDelivered
from agents.tables import DurableTable


class WriteBehind:
    def __init__(self, table: DurableTable) -> None:
        self._table = table
        self._staged: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        staged = self._staged.get(key)
        return staged if staged is not None else self._table.get(key)

    def stage(self, key: bytes, value: bytes) -> OnDelivered:
        """Hold ``value`` for ``key``; the returned callback stores it."""
        self._staged[key] = value

        def write() -> list[asyncio.Future[Any]]:
            self._table[key] = value
            if self._staged.get(key) is value:
                del self._staged[key]
            return self._table.written()

        return write
