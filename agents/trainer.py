"""Agent ``trainer``: moderation labels -> new text model versions on ``models``.

``labels`` has one partition, so one worker trains at a time. For each label
the subject's recent private messages are read from PostgreSQL (the events the
sink stored; the stream keeps no second copy of message text) and folded into
the current model with ``pipeline.detect.text.learning.learn``. A label that
teaches nothing publishes nothing. Every worker picks the new version up from
the compacted ``models`` topic (``agents/models.py``).

A new version is published only if it passes the fairness gate
(``pipeline.detect.text.fairness``: benign messages marked with a stage no more
often in one writing style than another, beyond ``fairness_max_gap`` or the
parent's gap). Every gate is a ``fairness_evaluation`` record; a version held
back by it is never sent, and the next label learns from the current model.

Each published version is a ``model_deployment`` record (version, parent, labels learned,
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
from pipeline.audit.events import (
    SYSTEM_TENANT,
    fairness_evaluation_record,
    model_deployment_record,
    model_digest,
)
from pipeline.audit.records import AuditRecord
from pipeline.avro import LABEL_SCHEMA_ID
from pipeline.core import RECENT_TEXTS
from pipeline.detect.text import fairness
from pipeline.detect.text.learning import learn
from pipeline.detect.text.model import StageModel, model_to_bytes
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


def gate_record(candidate: fairness.FairnessResult, parent: fairness.FairnessResult,
                max_gap: float, evaluated_at: datetime) -> AuditRecord:
    """The ``fairness_evaluation`` record of one gate; ``details["passed"]`` is the verdict."""
    lowest, highest = candidate.widest
    metrics: dict[str, str | int] = {
        "suite": "benign_styles", "messages_per_style": candidate.messages_per_style,
        "max_gap": fairness.decimal(max_gap), "gap": fairness.decimal(candidate.gap),
        "parent_version": parent.model_version, "parent_gap": fairness.decimal(parent.gap),
        "lowest_style": lowest, "highest_style": highest,
    }
    for style, rate in sorted(candidate.benign_stage_rates.items()):
        metrics[f"rate_{style}"] = fairness.decimal(rate)
    return fairness_evaluation_record(
        evaluation_id=f"{candidate.model_version}:benign_styles",
        model_version=candidate.model_version,
        passed=fairness.passes(candidate, parent, max_gap), evaluated_at=evaluated_at,
        metrics=metrics)


def record_gate(dsn: str, gate: AuditRecord,
                version: dict[str, Any] | None) -> tuple[int, int | None]:
    """Append the gate's record and, for a version it passed, the ``model_deployment`` record.

    Returns their sequence numbers (``None`` for a version held back).
    """
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        gate_seq = audit_store.append(conn, SYSTEM_TENANT, gate)
        if version is None:
            return gate_seq, None
        return gate_seq, audit_store.append(conn, SYSTEM_TENANT, model_deployment_record(
                version=version["version"], parent_version=version["parent_version"],
                labels_learned=version["labels_learned"],
                model_sha256=model_digest(version["model"]),
                deployed_at=datetime.fromtimestamp(version["created_at_us"] / 1_000_000,
                                                   tz=UTC)))


class FairnessGate:
    """Evaluates candidates against their parent, remembering the current model's result."""

    def __init__(self, threshold: float, max_gap: float) -> None:
        self._threshold = threshold
        self._max_gap = max_gap
        self._known: dict[str, fairness.FairnessResult] = {}

    async def _result(self, model: StageModel) -> fairness.FairnessResult:
        result = self._known.get(model.version)
        if result is None:
            result = await asyncio.to_thread(fairness.evaluate, model, self._threshold)
            self._known = {model.version: result}  # only the newest is needed again
        return result

    async def judge(self, candidate: StageModel, parent: StageModel) -> AuditRecord:
        parent_result = await self._result(parent)
        candidate_result = await asyncio.to_thread(fairness.evaluate, candidate,
                                                   self._threshold)
        record = gate_record(candidate_result, parent_result, self._max_gap,
                             datetime.now(tz=UTC))
        if record.details["passed"]:
            self._known = {candidate.version: candidate_result}
        return record


def register(app: faust.App, ctx: WorkerContext, holder: ModelHolder) -> None:
    topo = ctx.topology
    labels = app.topic(topo.port("trainer", "reads", "labels"), key_type=bytes,
                       value_type=bytes, key_serializer="raw", value_serializer="raw")
    models = app.topic(topo.port("trainer", "writes", "models"), key_serializer="raw",
                       value_serializer="raw")
    dsn = ctx.settings.pg_dsn.get_secret_value()
    gate = FairnessGate(ctx.config.stage_threshold, ctx.settings.fairness_max_gap)

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
                verdict = await gate.judge(updated, current)
                record = None
                if verdict.details["passed"]:
                    record = {"version": updated.version, "parent_version": current.version,
                              "created_at_us": int(time.time() * 1_000_000),
                              "labels_learned": updated.learned,
                              "model": model_to_bytes(updated)}
                while True:
                    try:
                        await asyncio.to_thread(record_gate, dsn, verdict, record)
                        break
                    except psycopg.OperationalError as exc:
                        log.warning("trainer: PostgreSQL unavailable for the audit record "
                                    "(%s); retrying", type(exc).__name__)
                        await asyncio.sleep(2.0)
                if record is None:
                    log.warning("trainer: text model %s held back by the fairness gate "
                                "(gap %s, limit %s, parent's gap %s)", updated.version,
                                verdict.details["gap"], verdict.details["max_gap"],
                                verdict.details["parent_gap"])
                else:
                    await (await models.send(key=MODEL_KEY,
                                             value=encode_model_version(ctx.schemas, record)))
                    holder.model = updated
                    log.info("trainer: published text model %s", updated.version)
            await manual.ack(event)
