"""How far a consumer group is behind on some topics (for benchmarks, tests, the demo)."""

from __future__ import annotations

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from pipeline.topology import Topology


def group_lag(bootstrap: str, group: str, topics: list[str]) -> int:
    """Records in ``topics`` the group has not committed (all of a partition it never
    committed)."""
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


def consumed_topics(topology: Topology) -> list[str]:
    """Every topic some agent reads through the consumer group (global-table changelogs,
    read by every worker without committing, are left out)."""
    names = {topic for name, agent in topology.agents.items() if name != "models"
             for topic in agent.reads.values()}
    return sorted(names)
