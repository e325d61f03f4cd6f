"""Event builders and database probes shared by the integration tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from confluent_kafka import Producer

from pipeline.avro import load_schema_map
from pipeline.ingest import event_key

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def messages(tenant_id: str, count: int, prefix: str = "m") -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{prefix}-{i}",
            "tenant_id": tenant_id,
            "type": "message",
            "occurred_at": (START + timedelta(seconds=i)).isoformat(),
            "actor_id": f"user-{i % 17}",
            "conversation_id": f"conv-{i % 5}",
            "recipient_ids": [f"user-{(i + 1) % 17}"],
            "channel": "group" if i % 3 else "private",
            "content": f"see you at practice {i}",
        }
        for i in range(count)
    ]


def produce(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]],
    compression: str = "none",
) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "compression.type": compression})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def as_json_records(events: list[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(event_key(e["tenant_id"], e["event_id"]), json.dumps(e).encode()) for e in events]


def as_avro_records(events: list[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    schemas = load_schema_map()
    return [
        (event_key(e["tenant_id"], e["event_id"]),
         schemas.encode(schemas.event_type_ids[e["type"]], e))
        for e in events
    ]


def stored_ids(db: psycopg.Connection, tenant_id: str) -> list[str]:
    rows = db.execute("SELECT event_id FROM events WHERE tenant_id = %s ORDER BY event_id",
                      (tenant_id,)).fetchall()
    return [r[0] for r in rows]


def count(db: psycopg.Connection, tenant_id: str) -> int:
    row = db.execute("SELECT count(*) FROM events WHERE tenant_id = %s", (tenant_id,)).fetchone()
    return int(row[0]) if row else 0
