"""Erasures reach running workers: the person's keys leave this worker's RocksDB.

An erasure (``pipeline/privacy/erasure.py``) tombstones the person's keys on the
table changelogs, so a table rebuilt from its changelog never holds them again.
A running worker, though, reads the changelog of its active partitions only when
it restores them, and kept the person's state until a restart. So every worker
polls ``erasure_requests`` (by the database's ``stored_at`` clock) and deletes
the subject's keys from its local stores: the pseudonym in the keyed tables
(actors, targets, risk, the profiles global table), and every ``pairs`` key with
the pseudonym on either side; staged state waiting for its output is dropped
too (``agents/state.py``). Nothing is written to the changelogs: the tombstones
are already there. The scan of the pairs table runs in a thread; the deletes run
on the event loop between two events, so no step reads a half-erased state.

Polls wait while tables are being restored, which could still write the
person's older state back. At start a worker looks back :data:`LOOKBACK`, so an
erasure stored while it was restoring is applied as well; applying one again
only deletes state the same person built since, within that window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import faust
import psycopg

from agents.state import STAGED

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=5)
# A row's stored_at is its transaction's start, so one committed late can carry an
# earlier time than a row already seen: each poll reaches back this far.
OVERLAP = timedelta(minutes=1)
KEYED_TABLES = ("actors", "targets", "risk", "profiles")
PAIR_TABLES = ("pairs",)

_SINCE = """
    SELECT request_id, subject, stored_at FROM erasure_requests
    WHERE stored_at > coalesce(%s::timestamptz, now() - %s::interval)
    ORDER BY stored_at, request_id
"""


def is_pair_of(pseudonym: bytes) -> Callable[[bytes], bool]:
    return lambda key: pseudonym in key.split(b"|")


def _partition_dbs(table: Any) -> list[Any]:
    """The RocksDB of each partition this worker holds for ``table``."""
    return list(getattr(table.data, "_dbs", {}).values())


def find_pair_keys(tables: dict[str, Any], pseudonym: str) -> dict[str, set[bytes]]:
    """The pairs keys naming the person in this worker's RocksDB (a read-only scan).

    The one slow part of an erasure, so the worker runs it in a thread; the
    deletes then happen on the event loop, between two events of the agents.
    """
    pair_of = is_pair_of(pseudonym.encode())
    found: dict[str, set[bytes]] = {}
    for name in PAIR_TABLES:
        table = tables.get(name)
        if table is not None:
            found[name] = {key for db in _partition_dbs(table)
                           for key in db.keys() if pair_of(key)}  # noqa: SIM118 (a RocksDB)
    return found


def remove_found(tables: dict[str, Any], pseudonym: str,
                 pair_keys: dict[str, set[bytes]]) -> int:
    """Delete the person's keys and staged state on this worker; how many were there."""
    own = pseudonym.encode()
    wanted = {name: {own} for name in KEYED_TABLES} | pair_keys
    removed = 0
    for name, keys in wanted.items():
        table = tables.get(name)
        if table is None:
            continue
        for db in _partition_dbs(table):
            for key in keys:
                if db.get(key) is not None:
                    db.delete(key)
                    removed += 1
        for key in keys:
            table.data._key_index.pop(key, None)
    pair_of = is_pair_of(own)
    for staged in list(STAGED):
        removed += staged.forget(lambda key: key == own or pair_of(key))
    return removed


def remove_local(tables: dict[str, Any], pseudonym: str) -> int:
    """Both steps in the caller's thread (tests); how many keys were removed."""
    return remove_found(tables, pseudonym, find_pair_keys(tables, pseudonym))


class ErasureFollower:
    """Which stored erasures this worker has applied, and the next poll's watermark."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._watermark: datetime | None = None
        self._applied: dict[str, datetime] = {}

    def _fetch(self) -> list[tuple[str, str, datetime]]:
        since = None if self._watermark is None else self._watermark - OVERLAP
        with psycopg.connect(self._dsn, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(_SINCE, (since, LOOKBACK)).fetchall()
        return [(str(r[0]), str(r[1]), r[2]) for r in rows]

    def new_requests(self, rows: Iterable[tuple[str, str, datetime]]) -> list[tuple[str, str]]:
        """The ``(request_id, subject)`` not applied yet; advances the watermark."""
        fresh = []
        for request_id, subject, stored_at in rows:
            if self._watermark is None or stored_at > self._watermark:
                self._watermark = stored_at
            if request_id not in self._applied:
                self._applied[request_id] = stored_at
                fresh.append((request_id, subject))
        if self._watermark is not None:
            horizon = self._watermark - 2 * OVERLAP
            self._applied = {r: at for r, at in self._applied.items() if at >= horizon}
        return fresh

    async def poll(self) -> list[tuple[str, str]]:
        return self.new_requests(await asyncio.to_thread(self._fetch))


def register(app: faust.App, dsn: str, every_seconds: float) -> None:
    follower = ErasureFollower(dsn)

    @app.timer(every_seconds)
    async def apply_erasures() -> None:
        if app.rebalancing or app.in_recovery:
            # A table still being restored may yet write the person's older state
            # back; the next poll after the restore applies the erasure.
            return
        try:
            fresh = await follower.poll()
        except psycopg.Error as exc:
            log.warning("erasures: PostgreSQL unavailable (%s); trying again",
                        type(exc).__name__)
            return
        tables = dict(app.tables.items())
        for request_id, subject in fresh:
            pair_keys = await asyncio.to_thread(find_pair_keys, tables, subject)
            removed = remove_found(tables, subject, pair_keys)
            log.info("erasure %s applied here: %d local keys removed", request_id, removed)
