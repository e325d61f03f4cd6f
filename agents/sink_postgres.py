"""Agent ``sink_postgres``: normalised events, dead letters and identity entries -> PostgreSQL.

Batches of up to ``_BATCH`` records are written in one transaction
(``pipeline.storage.sink.write_batch``); their events are acknowledged only
after it commits (``noack_take``: Faust's ``take_events`` would ack a batch
even when the write was interrupted), and Faust commits acknowledged offsets.
A transient database fault (connection lost, server restarting) is retried
with backoff for as long as it lasts: the stream waits, nothing is acked.
Any other database error stops the process without acking the batch, so a
restart replays it (upserts make that harmless).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import faust
import psycopg

from agents.context import WorkerContext
from pipeline.avro import (
    DEAD_LETTER_SCHEMA_ID,
    IDENTITY_ENTRY_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
)
from pipeline.model import DeadLetter, IdentityEntry, NormalizedEvent
from pipeline.storage.sink import SinkBatch, write_batch

log = logging.getLogger(__name__)
_BATCH = 500
_WITHIN_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 30.0
EXIT_SINK_FAILURE = 70


class _Writer:
    """One connection, used from one worker thread at a time, reopened after faults."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: psycopg.Connection | None = None

    def write(self, batch: SinkBatch) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        try:
            write_batch(self._conn, batch)
        except psycopg.OperationalError:
            self._conn.close()
            raise


def _to_batch(ctx: WorkerContext, events: list[Any]) -> SinkBatch:
    batch = SinkBatch()
    for event in events:
        message = event.message
        if message.value is None:
            parts = message.key.decode().split("/", 2)
            if len(parts) == 3:
                batch.erased_identities.append((parts[0], parts[1], parts[2]))
            continue
        schema_id, record = ctx.schemas.decode(message.value)
        if schema_id == NORMALIZED_EVENT_SCHEMA_ID:
            batch.events.append(NormalizedEvent.from_record(record))
        elif schema_id == DEAD_LETTER_SCHEMA_ID:
            batch.dead_letters.append(DeadLetter.from_record(record))
        elif schema_id == IDENTITY_ENTRY_SCHEMA_ID:
            batch.identities.append(IdentityEntry(**record))
    return batch


def register(app: faust.App, ctx: WorkerContext) -> None:
    topo = ctx.topology
    names = [topo.port("sink_postgres", "reads", p) for p in ("normalized", "dead_letters",
                                                               "identity")]
    source = app.topic(*names, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    writer = _Writer(ctx.settings.pg_dsn.get_secret_value())

    @app.agent(source, name="sink_postgres")
    async def sink_postgres(stream: faust.StreamT[bytes]) -> None:
        # noack_take leaves acking to us: events are acked only after the commit below.
        manual = stream.noack()
        async for events in manual.noack_take(_BATCH, within=_WITHIN_SECONDS):
            batch = _to_batch(ctx, list(events))
            backoff = 0.5
            while True:
                try:
                    await asyncio.to_thread(writer.write, batch)
                    break
                except psycopg.OperationalError as exc:
                    log.warning("postgres unavailable (%s); retrying in %.1fs",
                                type(exc).__name__, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                except psycopg.Error as exc:
                    # Not transient: stop before this batch is acknowledged.
                    log.critical("postgres rejected a batch (SQLSTATE %s); stopping so it "
                                 "replays after the fault is fixed", exc.sqlstate)
                    os._exit(EXIT_SINK_FAILURE)
            for event in events:
                await manual.ack(event)
