"""Agent ``risk``: signal batches -> each user's risk -> ``scores``, ``scores.latest``, ``alerts``.

Keyed by the user the signals are about. The risk state keeps the newest signal
per source, so a batch delivered twice changes nothing; the table value also
remembers the input offset applied and the score last published. Outputs are
sent before the state is stored, and ids of scores and alerts come from the
event that moved them (``pipeline.stream.records``).
"""

from __future__ import annotations

from functools import partial

import faust

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from agents.state import WriteBehind
from agents.undecodable import decode_or_dead_letter
from pipeline.score.risk import RiskState
from pipeline.stream.records import (
    decode_signal_batch,
    encode_alert,
    encode_score,
    score_key,
)
from pipeline.stream.steps import (
    DecodedCache,
    Published,
    decode_risk_value,
    join_guarded,
    join_risk,
    split_guarded,
    step_risk,
)


def register(app: faust.App, ctx: WorkerContext) -> None:
    topo = ctx.topology
    source_name = topo.port("risk", "reads", "signals")
    partitions = topo.topics[source_name].partitions
    source = app.topic(source_name, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    scores, latest, alerts = (
        app.topic(topo.port("risk", "writes", port), key_serializer="raw",
                  value_serializer="raw")
        for port in ("scores", "latest", "alerts")
    )
    changelog = app.topic(topo.port("risk", "tables", "state"), partitions=partitions,
                          internal=True, key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    table = app.Table("risk", default=None, partitions=partitions, changelog_topic=changelog,
                      key_type=bytes, value_type=bytes)
    dead_letters = app.topic(topo.port("normalize", "writes", "dead_letters"),
                             key_serializer="raw", value_serializer="raw")
    config = ctx.config
    states = WriteBehind(table)
    # Decoded states keep the terms they computed; reusing them is most of the speed.
    decoded: DecodedCache[tuple[Published, RiskState]] = DecodedCache()

    @app.agent(source, name="risk")
    async def risk(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        acks = DeliveryAcks(manual)
        async for event in manual.events():
            message = event.message
            batch = await decode_or_dead_letter(
                ctx, dead_letters, "risk", event, acks,
                partial(decode_signal_batch, ctx.schemas), lambda b: b.actor)
            if batch is None:
                continue
            key: bytes = message.key
            applied, body = split_guarded(states.get(key))
            if message.offset <= applied:
                await acks.add(event)  # applied before a restart; its outputs were delivered
                continue
            user = batch.actor
            state: RiskState | None = None
            published = Published()
            if body is not None:
                hit = decoded.get(user, body)
                published, state = hit if hit is not None else decode_risk_value(body)
            outcome = step_risk(batch, state, published, config)
            sent = []
            if outcome.score is not None:
                framed = encode_score(ctx.schemas, outcome.score)
                record_key = score_key(batch.tenant_id, batch.actor)
                sent.append(await scores.send(key=record_key, value=framed))
                sent.append(await latest.send(key=record_key, value=framed))
            for alert in outcome.alerts:
                sent.append(await alerts.send(key=score_key(alert.tenant_id, alert.actor),
                                              value=encode_alert(ctx.schemas, alert)))
            new_body = join_risk(outcome.published, outcome.state)
            decoded.put(user, new_body, (outcome.published, outcome.state))
            value = join_guarded(message.offset, new_body)
            await acks.add(event, sent, states.stage(key, value))
