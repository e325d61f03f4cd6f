"""Read a topic from its start to the end it had when reading began (probes, benchmarks)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, TopicPartition


def read_to_end(bootstrap: str, topic: str, timeout: float = 10.0) -> Iterator[Any]:
    """Every record of ``topic`` up to its current end, partition by partition order.

    Uses no consumer group offsets (it assigns partitions itself); raises
    ``TimeoutError`` when the broker sends nothing for ``timeout`` seconds before the
    end is reached.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap,
                         "group.id": f"reader-{secrets.token_hex(4)}",
                         "enable.auto.commit": False, "fetch.max.bytes": 52428800})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        ends: dict[int, int] = {}
        assignment = []
        for partition in metadata.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout=timeout)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        # Short polls: a long one would wait out its timeout once fewer records than
        # asked for remain, which is most of the time near the end.
        last_progress = time.monotonic()
        while ends:
            batch = consumer.consume(1000, timeout=0.2)
            if not batch:
                if time.monotonic() - last_progress > timeout:
                    raise TimeoutError(f"{topic}: nothing for {timeout:.0f} s before its end")
                continue
            last_progress = time.monotonic()
            for message in batch:
                if message.error():
                    raise RuntimeError(f"{topic}: {message.error()}")
                if message.offset() + 1 >= ends.get(message.partition(), 0):
                    ends.pop(message.partition(), None)
                yield message
    finally:
        consumer.close()
