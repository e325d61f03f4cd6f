"""Copy the events a topic received in a time range to a file, for back-testing.

    python replay_range.py --bootstrap localhost:9092 --from 2026-11-01T00:00:00Z \
        --to 2026-11-08T00:00:00Z --out week.jsonl
    wardstream replay week.jsonl --out week-replay/

Reads ``events.raw.json`` (or ``--topic events.raw.avro``) from the first
offset at or after ``--from`` on every partition up to ``--to`` (the broker's
record timestamps, i.e. when the events were produced) and writes them as
JSON Lines in the order the broker received them. The raw topics keep 7 days
(topologies/topics.yaml); back-test older periods from your own archive. No
consumer group is used, so nothing is committed and running it is harmless.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, TopicPartition
from wire import Schemas

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _millis(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +00:00)")
    return int(moment.timestamp() * 1000)


def _entry(message: Any) -> tuple[int, int, int, bytes]:
    return message.timestamp()[1], message.partition(), message.offset(), message.value()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--topic", default="events.raw.json")
    parser.add_argument("--from", dest="start", type=_millis, required=True)
    parser.add_argument("--to", dest="end", type=_millis, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schemas", type=Path, default=REPO_SCHEMAS)
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error("--to is before --from")
    schemas = Schemas(args.schemas) if args.topic.endswith(".avro") else None
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})
    partitions = consumer.list_topics(args.topic, timeout=10).topics[args.topic].partitions
    wanted = [TopicPartition(args.topic, p, args.start) for p in partitions]
    starts = consumer.offsets_for_times(wanted, timeout=10)
    ends = {p: consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10)[1]
            for p in partitions}
    todo = [tp for tp in starts
            if tp.offset not in (OFFSET_END, -1) and tp.offset < ends[tp.partition]]
    consumer.assign(todo)
    remaining = {tp.partition for tp in todo}
    events: list[tuple[int, int, int, bytes]] = []
    while remaining:
        message = consumer.poll(1.0)
        if message is None or message.error():
            continue
        partition = message.partition()
        if message.timestamp()[1] > args.end or message.offset() >= ends[partition] - 1:
            if message.timestamp()[1] <= args.end and message.value() is not None:
                events.append(_entry(message))
            remaining.discard(partition)
            consumer.incremental_unassign([TopicPartition(args.topic, partition)])
            continue
        if message.value() is not None:
            events.append(_entry(message))
    consumer.close()
    events.sort()  # in the order the broker received them
    records = [schemas.unframe(v)[1] if schemas is not None else json.loads(v)
               for *_, v in events]
    with args.out.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    print(f"wrote {len(records)} events to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
