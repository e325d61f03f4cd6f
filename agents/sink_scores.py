"""Agent ``sink_scores``: scores and alerts -> PostgreSQL (history, latest, review queue).

Reads the risk agent's ``scores`` and ``alerts`` topics (Avro, schemas 202 and
203) and writes each batch in one transaction with
``pipeline.storage.scores.write_scores``: score history, each user's latest
score, alerts and the review queue. Batching, acking after the commit, and
the retry and exit policy are the shared sink loop (``agents.sink_loop``).
A record that does not decode as a score or an alert, names a tenant that is
not registered, or whose audit record (a tier crossing, an alert) would break
the audit log's rules, is stored as a dead letter (keyed by its
topic/partition/offset) in the same transaction, so it is neither lost nor
retried forever. (A record of an unregistered tenant used to fail the whole
transaction on the tenants foreign key and stop the worker, again after every
restart.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import faust

from agents.context import WorkerContext
from agents.sink_loop import Writer, drain
from pipeline.audit.errors import InvalidAuditRecord
from pipeline.avro import ALERT_SCHEMA_ID, SCORE_SCHEMA_ID, SchemaMap
from pipeline.errors import FieldError, InvalidRecord
from pipeline.ingest import dead_letter
from pipeline.storage.scores import (
    AlertRecord,
    ScoreBatch,
    ScoreRecord,
    alert_audit_record,
    score_audit_record,
    write_scores,
)

log = logging.getLogger(__name__)
R = TypeVar("R")


def auditable(build: Callable[[R], object], record: R) -> None:
    """Refuse (as InvalidRecord) a record whose audit record could not be written."""
    try:
        build(record)
    except InvalidAuditRecord as exc:
        raise InvalidRecord([FieldError(exc.field, "audit", exc.message)]) from None


def _registered(tenant_id: str, known_tenants: Collection[str] | None) -> None:
    if known_tenants is not None and tenant_id not in known_tenants:
        raise InvalidRecord([FieldError("tenant_id", "unknown_tenant",
                                        "is not a registered tenant")])


def to_batch(schemas: SchemaMap, messages: list[Any],
             known_tenants: Collection[str] | None = None) -> ScoreBatch:
    """Decode Kafka messages (``.topic``, ``.partition``, ``.offset``, ``.value``).

    With ``known_tenants``, a record naming any other tenant is a dead letter.
    """
    batch = ScoreBatch()
    for message in messages:
        try:
            if message.value is None:
                raise InvalidRecord([FieldError("(record)", "required", "empty record")])
            schema_id, record = schemas.decode(message.value)
            if schema_id == SCORE_SCHEMA_ID:
                score = ScoreRecord.from_record(record)
                _registered(score.tenant_id, known_tenants)
                auditable(score_audit_record, score)
                batch.scores.append(score)
            elif schema_id == ALERT_SCHEMA_ID:
                alert = AlertRecord.from_record(record)
                _registered(alert.tenant_id, known_tenants)
                auditable(alert_audit_record, alert)
                batch.alerts.append(alert)
            else:
                raise InvalidRecord([FieldError("(record)", "schema_id",
                                                f"schema {schema_id} is not a score or alert")])
        except InvalidRecord as exc:
            position = f"{message.topic}/{message.partition}/{message.offset}"
            log.error("sink_scores: undecodable record at %s (%s: %s)", position,
                      exc.errors[0].field, exc.errors[0].rule)
            batch.dead_letters.append(dead_letter(exc.errors, message.value or b"", position,
                                                  int(time.time() * 1_000_000)))
    return batch


def register(app: faust.App, ctx: WorkerContext) -> None:
    topo = ctx.topology
    names = [topo.port("sink_scores", "reads", p) for p in ("scores", "alerts")]
    source = app.topic(*names, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    writer = Writer(ctx.settings.pg_dsn.get_secret_value(), write_scores)

    async def batch_of(events: list[Any]) -> ScoreBatch:
        messages = [e.message for e in events]
        batch = to_batch(ctx.schemas, messages)
        named = {s.tenant_id for s in batch.scores} | {a.tenant_id for a in batch.alerts}
        unknown = [t for t in named if not await ctx.tenants.is_known(t)]  # refreshes on a miss
        # Rare: decode again, turning the unknown tenants' records into dead letters.
        return to_batch(ctx.schemas, messages, ctx.tenants.tenants) if unknown else batch

    @app.agent(source, name="sink_scores")
    async def sink_scores(stream: faust.StreamT[bytes]) -> None:
        await drain(stream, "sink_scores", writer, batch_of)
