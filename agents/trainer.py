"""Agent ``trainer``: moderation labels -> new text model versions on ``models``.

``labels`` has one partition, so one worker trains at a time. For each label
the subject's recent private messages are read from PostgreSQL (the events the
sink stored; the stream keeps no second copy of message text) and folded into
the current model with ``pipeline.detect.text.learning.learn``. A label that
teaches nothing publishes nothing. Every worker picks the new version up from
the compacted ``models`` topic (``agents/models.py``).

Each version is a ``model_deployment`` record (version, parent, labels learned,
SHA-256 of the serialised model) in the audit log of ``_system``
(``pipeline.audit.events.SYSTEM_TENANT``): there is one text model for the
whole deployment, trained on every tenant's labels, so its history is one log.
The record is appended before the version is sent, so no published version
lacks one; after a crash in between, the replayed label teaches the same
parent the same examples and re-sends that version (same record id, nothing
appended twice).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import faust
import psycopg

from agents.context import WorkerContext
from agents.models import MODEL_KEY, ModelHolder
from pipeline.audit import store as audit_store
from pipeline.audit.events import SYSTEM_TENANT, model_deployment_record, model_digest
from pipeline.avro import LABEL_SCHEMA_ID
from pipeline.core import RECENT_TEXTS
from pipeline.detect.text.learning import learn
from pipeline.detect.text.model import model_to_bytes
from pipeline.errors import InvalidRecord
from pipeline.stream.records import decode_as, encode_model_version

log = logging.getLogger(__name__)
_TEXTS = """
    SELECT content FROM events
    WHERE tenant_id = %s AND actor = %s AND type = 'message'
      AND record->>'channel' = 'private' AND content IS NOT NULL AND occurred_at <= %s
    ORDER BY occurred_at DESC LIMIT %s
"""


async def recent_texts(dsn: str, tenant_id: str, subject: str, at_us: int) -> list[str]:
    """The subject's newest private texts up to the decision, oldest first."""
    at = datetime.fromtimestamp(at_us / 1_000_000, tz=UTC)
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=10,
                                                     autocommit=True) as conn:
        cursor = await conn.execute(_TEXTS, (tenant_id, subject, at, RECENT_TEXTS))
        rows = await cursor.fetchall()
    return [row[0] for row in reversed(rows)]


def record_deployment(dsn: str, version: dict[str, Any]) -> int:
    """Append the ``model_deployment`` record of a ``model_version.v1`` record; its seq."""
    record = model_deployment_record(
        version=version["version"], parent_version=version["parent_version"],
        labels_learned=version["labels_learned"], model_sha256=model_digest(version["model"]),
        deployed_at=datetime.fromtimestamp(version["created_at_us"] / 1_000_000, tz=UTC))
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        return audit_store.append(conn, SYSTEM_TENANT, record)


def register(app: faust.App, ctx: WorkerContext, holder: ModelHolder) -> None:
    topo = ctx.topology
    labels = app.topic(topo.port("trainer", "reads", "labels"), key_type=bytes,
                       value_type=bytes, key_serializer="raw", value_serializer="raw")
    models = app.topic(topo.port("trainer", "writes", "models"), key_serializer="raw",
                       value_serializer="raw")
    dsn = ctx.settings.pg_dsn.get_secret_value()

    @app.agent(labels, name="trainer")
    async def trainer(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()
        async for event in manual.events():
            try:
                label = decode_as(ctx.schemas, event.message.value, LABEL_SCHEMA_ID, "a label")
            except InvalidRecord as exc:
                log.error("trainer: undecodable label skipped (%s)", exc.errors[0].rule)
                await manual.ack(event)
                continue
            texts = list(label["texts"])
            while not texts:
                try:
                    texts = await recent_texts(dsn, label["tenant_id"], label["subject"],
                                               label["at_us"])
                    break
                except psycopg.OperationalError as exc:
                    log.warning("trainer: PostgreSQL unavailable (%s); retrying",
                                type(exc).__name__)
                    await asyncio.sleep(2.0)
            current = holder.model
            updated = learn(current, texts, label["decision"], ctx.config.stage_threshold)
            if updated is not current:
                record = {"version": updated.version, "parent_version": current.version,
                          "created_at_us": int(time.time() * 1_000_000),
                          "labels_learned": updated.learned,
                          "model": model_to_bytes(updated)}
                while True:
                    try:
                        await asyncio.to_thread(record_deployment, dsn, record)
                        break
                    except psycopg.OperationalError as exc:
                        log.warning("trainer: PostgreSQL unavailable for the audit record "
                                    "(%s); retrying", type(exc).__name__)
                        await asyncio.sleep(2.0)
                await (await models.send(key=MODEL_KEY,
                                         value=encode_model_version(ctx.schemas, record)))
                holder.model = updated
                log.info("trainer: published text model %s", updated.version)
            await manual.ack(event)
