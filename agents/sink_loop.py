"""The loop every PostgreSQL sink agent runs: batch, write in one transaction, then ack.

Batches of up to ``BATCH`` records (or what arrived within ``WITHIN_SECONDS``)
are turned into one write by the sink's ``to_batch`` and written by its
``write`` in one transaction on a worker thread. Their events are acknowledged
only after it commits (``noack_take``: Faust's ``take_events`` would ack a
batch even when the write was interrupted), and Faust commits acknowledged
offsets. A transient database fault (connection lost, server restarting) is
retried with backoff for as long as it lasts: the stream waits, nothing is
acked. Any other database error stops the process without acking the batch,
so a restart replays it (sink writes are upserts, which makes that harmless).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import faust
import psycopg

log = logging.getLogger(__name__)
BATCH = 500
WITHIN_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
EXIT_SINK_FAILURE = 70

B = TypeVar("B")


class Writer(Generic[B]):
    """One connection, used from one worker thread at a time, reopened after faults."""

    def __init__(self, dsn: str, write: Callable[[psycopg.Connection, B], None]) -> None:
        self._dsn = dsn
        self._write = write
        self._conn: psycopg.Connection | None = None

    def __call__(self, batch: B) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        try:
            self._write(self._conn, batch)
        except psycopg.OperationalError:
            self._conn.close()
            raise


async def drain(stream: faust.StreamT[bytes], name: str, writer: Writer[B],
                to_batch: Callable[[list[Any]], Awaitable[B]]) -> None:
    """Run the sink loop over ``stream`` until the agent stops (see the module doc)."""
    # noack_take leaves acking to us: events are acked only after the commit below.
    manual = stream.noack()
    async for events in manual.noack_take(BATCH, within=WITHIN_SECONDS):
        batch = await to_batch(list(events))
        backoff = 0.5
        while True:
            try:
                await asyncio.to_thread(writer, batch)
                break
            except psycopg.OperationalError as exc:
                log.warning("%s: postgres unavailable (%s); retrying in %.1fs",
                            name, type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except psycopg.Error as exc:
                # Not transient: stop before this batch is acknowledged.
                log.critical("%s: postgres rejected a batch (SQLSTATE %s); stopping so it "
                             "replays after the fault is fixed", name, exc.sqlstate)
                os._exit(EXIT_SINK_FAILURE)
        for event in events:
            await manual.ack(event)
