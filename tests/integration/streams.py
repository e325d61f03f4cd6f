"""Probes of the detection topics for integration tests: newest scores, alerts."""

from __future__ import annotations

from typing import Any

from pipeline.avro import load_schema_map
from pipeline.kafka.read import read_to_end


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, dict[str, Any]]]:
    """Every record of ``topic`` from the start, decoded (Avro, Confluent framing)."""
    schemas = load_schema_map()
    return [(message.key(), schemas.decode(message.value())[1])
            for message in read_to_end(bootstrap, topic) if message.value() is not None]


def newest_by_key(records: list[tuple[bytes | None, dict[str, Any]]]) -> dict[bytes, dict[str,
                                                                                          Any]]:
    newest: dict[bytes, dict[str, Any]] = {}
    for key, record in records:
        if key is not None:
            newest[key] = record
    return newest
