"""Agent ``dedupe``: drop repeated (tenant, event id); re-key by actor pseudonym.

The table remembers where the first copy of each event sat in
``events.validated``. If the worker crashed after recording it but before its
output was flushed, the same record comes back at the same position and is
emitted again (downstream upserts absorb the repeat); a copy at any other
position is a true duplicate and is dropped. So nothing is lost and nothing is
counted twice. Entries older than the dedupe horizon (in event time) expire.
"""

from __future__ import annotations

import faust

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from pipeline.ingest import is_replayed_copy

_MICROS_PER_DAY = 86_400_000_000
_EXPIRY_SCAN_SECONDS = 300.0


def register(app: faust.App, ctx: WorkerContext) -> None:
    topo = ctx.topology
    validated_name = topo.port("dedupe", "reads", "validated")
    changelog_name = topo.port("dedupe", "tables", "dedupe")
    partitions = topo.topics[validated_name].partitions
    validated = app.topic(validated_name, key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    normalized = app.topic(topo.port("dedupe", "writes", "normalized"),
                           key_serializer="raw", value_serializer="raw")
    changelog = app.topic(changelog_name, partitions=partitions, internal=True,
                          key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    # key: event key; value: b"<first position>|<event time us>"
    seen = app.Table("dedupe", default=None, partitions=partitions, changelog_topic=changelog,
                     key_type=bytes, value_type=bytes)
    horizon_us = ctx.settings.dedupe_horizon_days * _MICROS_PER_DAY
    newest_us = [0]

    @app.agent(validated, name="dedupe")
    async def dedupe(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        acks = DeliveryAcks(manual)
        async for event in manual.events():
            message = event.message
            key: bytes = message.key
            position = f"{message.topic}/{message.partition}/{message.offset}"
            first: bytes | None = seen.get(key)
            first_position = first.decode().split("|", 1)[0] if first else None
            verdict = is_replayed_copy(first_position, position)
            if verdict is False:
                await acks.add(event)
                continue
            _, record = ctx.schemas.decode(message.value)
            if verdict is None:
                seen[key] = f"{position}|{record['occurred_at_us']}".encode()
            newest_us[0] = max(newest_us[0], record["occurred_at_us"])
            sent = await normalized.send(key=record["actor"].encode(), value=message.value)
            # The entry's changelog record must be delivered before the input is
            # committed (agents/tables.py says why Faust does not ensure it).
            await acks.add(event, [sent, *seen.written()])

    @app.timer(_EXPIRY_SCAN_SECONDS)
    async def expire_seen() -> None:
        cutoff = newest_us[0] - horizon_us
        if cutoff <= 0:
            return
        stale = [
            key for key, value in list(seen.items())
            if value is not None and int(value.split(b"|", 1)[1]) < cutoff
        ]
        for key in stale:
            del seen[key]
