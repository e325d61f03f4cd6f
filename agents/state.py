"""Keyed state written behind the output it depends on.

An agent computes a key's new state, sends what the step emitted, and stores the
state only once that output is delivered (``agents/acks.py``). Until then the
next event of the same key must see the new state, so it is kept here.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from agents.acks import OnDelivered
from agents.tables import DurableTable

STAGED: weakref.WeakSet[WriteBehind] = weakref.WeakSet()


class WriteBehind:
    def __init__(self, table: DurableTable) -> None:
        STAGED.add(self)
        self._table = table
        self._staged: dict[bytes, bytes] = {}
        # Keys erased while a staged value waited for its output: that write is dropped.
        self._forgotten: set[bytes] = set()

    def get(self, key: bytes) -> bytes | None:
        staged = self._staged.get(key)
        return staged if staged is not None else self._table.get(key)

    def stage(self, key: bytes, value: bytes) -> OnDelivered:
        """Hold ``value`` for ``key``; the returned callback stores it."""
        self._staged[key] = value
        self._forgotten.discard(key)  # state built after an erasure is new

        def write() -> list[asyncio.Future[Any]]:
            if key in self._forgotten:
                return []
            self._table[key] = value
            if self._staged.get(key) is value:
                del self._staged[key]
            return self._table.written()

        return write

    def forget(self, matches: Callable[[bytes], bool]) -> int:
        """Drop staged values of the keys ``matches`` (an erasure); how many."""
        keys = [key for key in self._staged if matches(key)]
        for key in keys:
            del self._staged[key]
            self._forgotten.add(key)
        return len(keys)
