"""Agents ``pairs``, ``actors`` and ``targets``: one detection step per key, state in RocksDB.

Each reads its ``detect.*`` topic (keyed by pair, actor or target), applies the
step to the key's state and sends the signals, grouped by the user they are
about, to ``signals``. A state is written to its table only after those
signals are delivered, together with the input offset it reflects
(``pipeline.stream.steps``): a record read again after a crash is skipped if
its state was stored, and re-run otherwise, so no event is applied twice and
no signal is lost. ``actors`` also turns moderation decisions about a user
into ``labels`` for the trainer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import faust

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from agents.state import WriteBehind
from agents.undecodable import decode_or_dead_letter
from pipeline.detect.signals import Signal
from pipeline.stream.records import (
    Routed,
    decode_routed,
    encode_label,
    encode_signal_batch,
    group_signals,
    record_id,
)
from pipeline.stream.steps import (
    event_tag,
    join_step_value,
    split_step_value,
    step_actor,
    step_pair,
    step_target,
)

StepFn = Callable[[Routed, bytes | None, int], tuple[bytes | None, list[Signal]]]
_LEARNED_DECISIONS = frozenset({"confirmed_grooming", "cleared"})


def _label(routed: Routed) -> dict[str, Any] | None:
    """A label record when the event is a learnable decision about this key's user."""
    event = routed.staged.event
    if (event.type != "moderation" or event.subject != routed.key
            or event.decision not in _LEARNED_DECISIONS):
        return None
    return {"label_id": record_id(event.tenant_id, event.event_id), "tenant_id": event.tenant_id,
            "subject": event.subject, "decision": event.decision,
            "at_us": event.occurred_at_us, "texts": []}


def register_step(app: faust.App, ctx: WorkerContext, name: str, kind: str,
                  step: StepFn) -> None:
    """The agent ``name`` running ``step``; its signal batches say they came from ``kind``."""
    topo = ctx.topology
    source_name = topo.port(name, "reads", "events")
    partitions = topo.topics[source_name].partitions
    source = app.topic(source_name, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    signals = app.topic(topo.port(name, "writes", "signals"), key_serializer="raw",
                        value_serializer="raw")
    labels = (app.topic(topo.port(name, "writes", "labels"), key_serializer="raw",
                        value_serializer="raw")
              if "labels" in topo.agents[name].writes else None)
    dead_letters = app.topic(topo.port("normalize", "writes", "dead_letters"),
                             key_serializer="raw", value_serializer="raw")
    changelog = app.topic(topo.port(name, "tables", "state"), partitions=partitions,
                          internal=True, key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    table = app.Table(name, default=None, partitions=partitions, changelog_topic=changelog,
                      key_type=bytes, value_type=bytes)
    states = WriteBehind(table)
    threshold = ctx.config.stage_threshold_byte

    @app.agent(source, name=name)
    async def run_step(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        acks = DeliveryAcks(manual)
        async for event in manual.events():
            message = event.message
            routed = await decode_or_dead_letter(
                ctx, dead_letters, name, event, acks, partial(decode_routed, ctx.schemas),
                lambda r: r.key)
            if routed is None:
                continue
            key: bytes = message.key
            applied, recent, state = split_step_value(states.get(key))
            if message.offset <= applied:
                await acks.add(event)  # applied before a restart; its signals were delivered
                continue
            event_in = routed.staged.event
            tag = event_tag(event_in.tenant_id, event_in.event_id)
            if tag in recent:
                await acks.add(event)  # a copy an upstream agent re-sent after a crash
                continue
            new_state, emitted = step(routed, state, threshold)
            sent = []
            for batch in group_signals(kind, routed.staged.event, emitted):
                sent.append(await signals.send(key=batch.actor.encode(),
                                               value=encode_signal_batch(ctx.schemas, batch)))
            if labels is not None:
                label = _label(routed)
                if label is not None:
                    sent.append(await labels.send(key=label["label_id"].encode(),
                                                  value=encode_label(ctx.schemas, label)))
            if new_state is None:
                await acks.add(event, sent)
                continue
            value = join_step_value(message.offset, (*recent, tag), new_state)
            await acks.add(event, sent, states.stage(key, value))


def register(app: faust.App, ctx: WorkerContext) -> None:
    register_step(app, ctx, "pairs", "pair", step_pair)
    register_step(app, ctx, "actors", "actor", step_actor)
    register_step(app, ctx, "targets", "target", step_target)
