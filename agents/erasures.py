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
are already there.

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


def remove_local(tables: dict[str, Any], pseudonym: str) -> int:
    """Delete the person's keys from the local stores of ``tables``; how many were there."""
    own = pseudonym.encode()
    removed = 0
    for name in KEYED_TABLES:
        table = tables.get(name)
        if table is None:
            continue
        for db in _partition_dbs(table):
            if db.get(own) is not None:
                db.delete(own)
                removed += 1
        table.data._key_index.pop(own, None)
    pair_of = is_pair_of(own)
    for name in PAIR_TABLES:
        table = tables.get(name)
        if table is None:
            continue
        for db in _partition_dbs(table):
            keys = [key for key in db.keys() if pair_of(key)]  # noqa: SIM118 (a RocksDB, not a dict)
            for key in keys:
                db.delete(key)
                table.data._key_index.pop(key, None)
            removed += len(keys)
    for staged in list(STAGED):
        removed += staged.forget(lambda key: key == own or pair_of(key))
    return removed


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
        for request_id, subject in fresh:
            removed = remove_local(dict(app.tables.items()), subject)
            log.info("erasure %s applied here: %d local keys removed", request_id, removed)
