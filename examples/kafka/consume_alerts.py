"""Follow wardstream's alerts and newest scores.

    python consume_alerts.py --bootstrap localhost:9092 --group my-platform-alerts

Prints one JSON line per record of ``alerts`` (one per upward crossing of the
alert tier) and ``scores.latest`` (each user's newest score; compacted).
Records are keyed ``tenant/user pseudonym``; within a user they arrive in
order. After a wardstream worker crash an alert can arrive again with the
same ``alert_id``: treat ``alert_id`` as the idempotency key. Offsets are
committed after a record is printed, so a restart of this script resumes
where it stopped (at least once).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer
from wire import Schemas

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SCORE, ALERT = 202, 203


def summary(topic: str, schema_id: int, record: dict) -> dict:
    if schema_id == ALERT:
        return {"topic": topic, "alert_id": record["alert_id"], "tenant_id": record["tenant_id"],
                "user": record["actor"], "tier": record["tier"], "score": record["score"],
                "explanation": record["explanation"]}
    return {"topic": topic, "tenant_id": record["tenant_id"], "user": record["actor"],
            "score": record["score"], "tier": record["tier"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--group", default="platform-alerts")
    parser.add_argument("--topics", default="alerts,scores.latest")
    parser.add_argument("--from-beginning", action="store_true",
                        help="a new group starts at the oldest record instead of the newest")
    parser.add_argument("--max-records", type=int, help="stop after this many")
    parser.add_argument("--idle-seconds", type=float, help="stop after this long without records")
    parser.add_argument("--schemas", type=Path, default=REPO_SCHEMAS)
    args = parser.parse_args(argv)
    schemas = Schemas(args.schemas)
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                         "enable.auto.commit": False,
                         "auto.offset.reset": "earliest" if args.from_beginning else "latest"})
    consumer.subscribe([t.strip() for t in args.topics.split(",") if t.strip()])
    seen, last = 0, time.monotonic()
    try:
        while args.max_records is None or seen < args.max_records:
            message = consumer.poll(0.5)
            if message is None:
                if args.idle_seconds is not None and time.monotonic() - last > args.idle_seconds:
                    break
                continue
            if message.error():
                print(f"kafka: {message.error()}", file=sys.stderr)
                continue
            last = time.monotonic()
            if message.value() is None:
                continue  # a tombstone: that user's data was erased
            schema_id, record = schemas.unframe(message.value())
            print(json.dumps(summary(message.topic(), schema_id, record)), flush=True)
            consumer.commit(message=message, asynchronous=False)
            seen += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
