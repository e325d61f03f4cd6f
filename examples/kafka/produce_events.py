"""Send platform events to wardstream over Kafka.

    python produce_events.py events.jsonl --bootstrap localhost:9092 [--format avro]

Each line of the file is one event of the contract (shared/spec/events.md).
JSON goes to ``events.raw.json`` as it is; Avro goes to ``events.raw.avro``
encoded with the schema of its type, framed with the schema id. The key is
the event id, so a retried send lands on the same partition and wardstream's
dedupe drops the copy. The producer is idempotent and waits for every
replica, so an event the script reports as sent is in the log.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from confluent_kafka import Producer
from wire import Schemas

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--format", choices=["json", "avro"], default="json")
    parser.add_argument("--topic", help="default: events.raw.json or events.raw.avro")
    parser.add_argument("--schemas", type=Path, default=REPO_SCHEMAS)
    args = parser.parse_args(argv)
    topic = args.topic or f"events.raw.{args.format}"
    schemas = Schemas(args.schemas) if args.format == "avro" else None
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5})
    failures: list[str] = []

    def delivered(error: object, message: object) -> None:
        if error is not None:
            failures.append(str(error))

    sent = 0
    with args.file.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            event = json.loads(line)
            if not isinstance(event, dict) or "event_id" not in event or "type" not in event:
                print(f"line {number}: not an event with event_id and type", file=sys.stderr)
                return 2
            value = (schemas.frame(schemas.event_type_id(event["type"]), event)
                     if schemas is not None else line.strip().encode("utf-8"))
            producer.produce(topic, key=str(event["event_id"]).encode(), value=value,
                             on_delivery=delivered)
            producer.poll(0)
            sent += 1
    producer.flush(30)
    if failures:
        print(f"{len(failures)} of {sent} events were not delivered: {failures[0]}",
              file=sys.stderr)
        return 1
    print(f"sent {sent} events to {topic}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
