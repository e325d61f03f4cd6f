"""Stream a JSON Lines file of platform events into the raw topic, fast.

Used by the demo, the tests and the benchmarks to play a simulated platform
into Kafka. JSON lines go out as they are; with ``fmt="avro"`` each line is
encoded with its event type's schema (the platform-side path for Avro users).
Lines are keyed by (tenant, event id), as the HTTP door does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from confluent_kafka import Producer

from pipeline.avro import load_schema_map
from pipeline.ingest import event_key
from pipeline.kafka.producer import ProduceFailed, base_config
from pipeline.settings import Settings
from pipeline.topology import load_topology


def produce_file(
    path: Path, settings: Settings, *, fmt: str = "json", progress: bool = False
) -> int:
    topology = load_topology(settings.topology_file)
    topic = topology.port("normalize", "reads", "avro" if fmt == "avro" else "json")
    schemas = load_schema_map()
    producer = Producer(base_config(settings.kafka_bootstrap))
    total = path.stat().st_size
    sent = 0
    done_bytes = 0
    with path.open("rb") as handle:
        for line in handle:
            done_bytes += len(line)
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
                key = event_key(str(obj.get("tenant_id")), str(obj.get("event_id")))
            except (ValueError, AttributeError):
                key = b"unparsable"
                obj = None
            value = line
            if fmt == "avro" and isinstance(obj, dict):
                value = schemas.encode(schemas.event_type_ids[obj["type"]], obj)
            while True:
                try:
                    producer.produce(topic, value=value, key=key)
                    break
                except BufferError:
                    producer.poll(0.2)
            sent += 1
            if sent % 5000 == 0:
                producer.poll(0)
                if progress:
                    _bar(done_bytes, total)
    remaining = producer.flush(60)
    if progress:
        _bar(total, total)
        sys.stderr.write("\n")
    if remaining:
        raise ProduceFailed(f"{remaining} records were not acknowledged by the broker")
    return sent


def _bar(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1)}%")
    sys.stderr.flush()
