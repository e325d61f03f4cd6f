"""Agent ``route``: normalised events -> the per-key detection topics.

Reads ``events.normalized`` (keyed by actor), folds ``profile`` events into the
profiles GlobalTable, runs the text model once per message (``annotate``),
asks ``route`` which pair, actor and target keys the event reaches, and sends
one routed record per key, carrying the stage bytes and the profiles the step
reads. Steps therefore need no global state of their own.
"""

from __future__ import annotations

import faust

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from agents.models import ModelHolder
from pipeline.detect.annotate import annotate
from pipeline.detect.profiles import Profile, profile_step
from pipeline.detect.routing import route, step_records
from pipeline.model import NormalizedEvent
from pipeline.stream.records import (
    add_profile_version,
    decode_profile_history,
    encode_profile_history,
    encode_routed,
    profile_as_of,
)


class TableProfiles:
    """The profiles GlobalTable as a ``ProfileView`` as of one event's time."""

    def __init__(self, table: faust.GlobalTable) -> None:
        self._table = table
        self._seen: dict[str, Profile | None] = {}
        self.at_us = 0

    def versions(self, user: str) -> list[Profile]:
        stored = self._table.get(user.encode())
        return decode_profile_history(stored) if stored is not None else []

    def get(self, user: str) -> Profile | None:
        if user in self._seen:
            return self._seen[user]
        profile = profile_as_of(self.versions(user), self.at_us)
        self._seen[user] = profile
        return profile

    def moment(self, at_us: int) -> None:
        """Answer for the event at ``at_us`` from now on."""
        self.at_us = at_us
        self._seen.clear()


def register(app: faust.App, ctx: WorkerContext, holder: ModelHolder) -> None:
    topo = ctx.topology
    source = app.topic(topo.port("route", "reads", "normalized"), key_type=bytes,
                       value_type=bytes, key_serializer="raw", value_serializer="raw")
    outputs = {
        port: app.topic(topo.port("route", "writes", port), key_serializer="raw",
                        value_serializer="raw")
        for port in ("pairs", "actors", "targets")
    }
    changelog_name = topo.port("route", "tables", "profiles")
    changelog = app.topic(changelog_name, partitions=topo.topics[changelog_name].partitions,
                          internal=True, key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    table = app.GlobalTable("profiles", default=None, changelog_topic=changelog,
                            partitions=topo.topics[changelog_name].partitions,
                            key_type=bytes, value_type=bytes)

    @app.agent(source, name="route")
    async def route_events(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        acks = DeliveryAcks(manual)
        profiles = TableProfiles(table)
        async for event in manual.events():
            framed: bytes = event.message.value
            _, record = ctx.schemas.decode(framed)
            normalized = NormalizedEvent.from_record(record)
            sent = []
            if normalized.type == "profile":
                versions = profiles.versions(normalized.actor)
                updated = profile_step(versions[-1] if versions else None, normalized)
                table[normalized.actor.encode()] = encode_profile_history(
                    add_profile_version(versions, updated))
                sent.extend(table.written())
            profiles.moment(normalized.occurred_at_us)
            model = holder.model
            staged = annotate(normalized, model, profiles)
            keys = route(normalized, profiles)
            snapshot = {}
            for user in keys.reads:
                profile = profiles.get(user)
                if profile is not None:
                    snapshot[user] = profile
            for kind, key, readers in step_records(normalized, keys, snapshot):
                value = encode_routed(ctx.schemas, key, framed, staged.stages,
                                      model.version, readers)
                sent.append(await outputs[kind + "s"].send(key=key.encode(), value=value))
            await acks.add(event, sent)
