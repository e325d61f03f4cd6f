"""Agent ``sink_postgres``: normalised events, dead letters and identity entries -> PostgreSQL.

Each batch is written in one transaction (``pipeline.storage.sink.write_batch``)
and acknowledged only after it commits; the batching, retry and exit policy
is the shared sink loop in ``agents.sink_loop``.
"""

from __future__ import annotations

from typing import Any

import faust

from agents.context import WorkerContext
from agents.sink_loop import Writer, drain
from pipeline.avro import (
    DEAD_LETTER_SCHEMA_ID,
    IDENTITY_ENTRY_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
)
from pipeline.model import DeadLetter, IdentityEntry, NormalizedEvent
from pipeline.storage.sink import SinkBatch, write_batch


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
    writer = Writer(ctx.settings.pg_dsn.get_secret_value(), write_batch)

    async def batch_of(events: list[Any]) -> SinkBatch:
        return _to_batch(ctx, events)

    @app.agent(source, name="sink_postgres")
    async def sink_postgres(stream: faust.StreamT[bytes]) -> None:
        await drain(stream, "sink_postgres", writer, batch_of)
