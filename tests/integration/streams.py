"""Probes of the detection topics for integration tests: lag, newest scores, alerts."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from pipeline.avro import load_schema_map


def group_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records in ``topics`` the consumer group has not committed yet (all of a
    partition when it never committed)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{group}-probe",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        partitions = [TopicPartition(t, p) for t in topics
                      for p in metadata.topics[t].partitions]
        future = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, partitions)])[group]
        committed = {(tp.topic, tp.partition): tp.offset
                     for tp in future.result(timeout=10).topic_partitions}
        lag = 0
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(tp, timeout=10)
            done = committed.get((tp.topic, tp.partition), -1)
            lag += high - (done if done >= 0 else low)
        return lag
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, dict[str, Any]]]:
    """Every record of ``topic`` from the start, decoded (Avro, Confluent framing)."""
    schemas = load_schema_map()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-probe",
                         "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = []
        ends = {}
        for p in metadata.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                partitions.append(TopicPartition(topic, p, low))
                ends[p] = high
        consumer.assign(partitions)
        records: list[tuple[bytes | None, dict[str, Any]]] = []
        while ends:
            message = consumer.poll(5)
            if message is None:
                raise AssertionError(f"{topic}: no record within 5 s before the end")
            if message.error():
                raise AssertionError(f"{topic}: {message.error()}")
            value = message.value()
            if value is not None:
                records.append((message.key(), schemas.decode(value)[1]))
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        return records
    finally:
        consumer.close()


def newest_by_key(records: list[tuple[bytes | None, dict[str, Any]]]) -> dict[bytes, dict[str,
                                                                                          Any]]:
    newest: dict[bytes, dict[str, Any]] = {}
    for key, record in records:
        if key is not None:
            newest[key] = record
    return newest
