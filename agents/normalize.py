"""Agent ``normalize``: raw JSON and Avro events -> validated (keyed by event) | dead letters.

Each record is parsed, validated and pseudonymised by ``pipeline.ingest.accept``;
identity-map entries go to their compacted topic (a small recency cache skips
re-sending the same pseudonym over and over; the topic is an upsert, so a
resend is harmless). Output is keyed by (tenant, event id) so that ``dedupe``
sees every copy of one event on one partition.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import faust

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from pipeline.avro import (
    DEAD_LETTER_SCHEMA_ID,
    IDENTITY_ENTRY_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
)
from pipeline.errors import FieldError
from pipeline.ingest import Accepted, RawFormat, accept, dead_letter, event_key
from pipeline.model import DeadLetter

_RECENT_IDENTITIES = 100_000


def _position(message: Any) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def register(app: faust.App, ctx: WorkerContext) -> None:
    topo = ctx.topology
    json_name = topo.port("normalize", "reads", "json")
    avro_name = topo.port("normalize", "reads", "avro")
    source = app.topic(json_name, avro_name, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    validated = app.topic(topo.port("normalize", "writes", "validated"),
                          key_serializer="raw", value_serializer="raw")
    identities = app.topic(topo.port("normalize", "writes", "identity"),
                           key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(topo.port("normalize", "writes", "dead_letters"),
                             key_serializer="raw", value_serializer="raw")
    recent: OrderedDict[str, None] = OrderedDict()

    async def send_dead_letter(letter: DeadLetter) -> Any:
        return await dead_letters.send(
            key=letter.dead_letter_id.encode(),
            value=ctx.schemas.encode(DEAD_LETTER_SCHEMA_ID, letter.to_record()),
        )

    @app.agent(source, name="normalize")
    async def normalize(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        acks = DeliveryAcks(manual)
        async for event in manual.events():
            message = event.message
            position = _position(message)
            received_us = int(message.timestamp * 1_000_000)
            data = message.value if isinstance(message.value, bytes) else b""
            if not data:
                await acks.add(event, [await send_dead_letter(dead_letter(
                    [FieldError("(record)", "empty", "record has no value")],
                    b"", position, received_us))])
                continue
            fmt: RawFormat = "avro" if message.topic == avro_name else "json"
            result = accept(data, fmt, source=position, received_at_us=received_us,
                            pseudonyms=ctx.pseudonyms, schemas=ctx.schemas)
            if isinstance(result, Accepted) and not await ctx.tenants.is_known(
                result.event.tenant_id
            ):
                result = dead_letter(
                    [FieldError("tenant_id", "unknown_tenant", "is not a registered tenant")],
                    data, position, received_us, result.event.tenant_id)
            if isinstance(result, DeadLetter):
                await acks.add(event, [await send_dead_letter(result)])
                continue
            sent = []
            for entry in result.identities:
                if entry.key in recent:
                    recent.move_to_end(entry.key)
                    continue
                recent[entry.key] = None
                if len(recent) > _RECENT_IDENTITIES:
                    recent.popitem(last=False)
                sent.append(await identities.send(
                    key=entry.key.encode(),
                    value=ctx.schemas.encode(IDENTITY_ENTRY_SCHEMA_ID, entry.to_record()),
                ))
            normalized = result.event
            sent.append(await validated.send(
                key=event_key(normalized.tenant_id, normalized.event_id),
                value=ctx.schemas.encode(NORMALIZED_EVENT_SCHEMA_ID, normalized.to_record()),
            ))
            await acks.add(event, sent)
