"""The stream's final scores equal `wardstream replay`'s on the same input.

A small simulated platform goes through the real broker: raw JSON in, every
agent (normalize, dedupe, route, pairs, actors, targets, risk) in between,
``scores.latest`` out. The same file goes through ``wardstream replay``. For
every user, the newest published score (to the tenth it is published at) and
tier must match replay's. Also with a worker killed mid-stream and restarted
(test_stream_join.py: a second worker joining mid-stream).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from pipeline.settings import Settings
from pipeline.topology import load_topology
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.equivalence import (
    NO_TRAINER,
    compare,
    lag,
    settle,
    stream_a_platform,
    stream_scores,
)
from tests.integration.helpers import count, produce

pytestmark = pytest.mark.integration

# One partition per topic keeps every key's events in event-time order from end to
# end, which is the order replay uses; docs/stream.md says why more partitions do
# not yet give the same guarantee during a backlog.
TOPIC_PARTITIONS = 1


def test_one_worker_matches_replay(
    settings: Settings, tenant: Tenant, db: psycopg.Connection, tmp_path: Path,
    worker_factory: Callable[..., Process], raw_json_topic: str,
) -> None:
    worker = worker_factory(**NO_TRAINER).start()
    total, expected = stream_a_platform(settings, tenant, tmp_path, 21, [worker],
                                         raw_json_topic)
    settle(settings, [worker], db, tenant, total)
    compare(stream_scores(settings, db, tenant.tenant_id), expected)


@pytest.mark.xfail(strict=False, reason="failed once in three CI runs before agents/flow.py; "
                   "kept until more CI runs agree (docs/stream.md)")
def test_a_worker_killed_midway_and_restarted_matches_replay(
    settings: Settings, tenant: Tenant, db: psycopg.Connection, tmp_path: Path,
    worker_factory: Callable[..., Process], raw_json_topic: str,
) -> None:
    first = worker_factory(**NO_TRAINER).start()
    total, expected = stream_a_platform(settings, tenant, tmp_path, 22, [first],
                                         raw_json_topic)
    wait_until(lambda: first.running() and count(db, tenant.tenant_id) > total // 3, 300,
               "a third of the events stored")
    first.kill()
    assert count(db, tenant.tenant_id) < total, "the kill came too late to test anything"
    second = worker_factory(**NO_TRAINER).start()
    settle(settings, [second], db, tenant, total)
    compare(stream_scores(settings, db, tenant.tenant_id), expected)


def test_hostile_records_on_detection_topics_become_dead_letters(
    settings: Settings, db: psycopg.Connection, worker_factory: Callable[..., Process],
) -> None:
    topology = load_topology(settings.topology_file)
    pairs = topology.port("pairs", "reads", "events")
    signals = topology.port("risk", "reads", "signals")
    worker = worker_factory(**NO_TRAINER).start()
    produce(settings.kafka_bootstrap, pairs, [
        (b"u_a|u_b", b"not avro at all"),
        (None, b"\x00\x00\x00\x00\xc8\x02"),  # schema 200, truncated body, no key
    ])
    produce(settings.kafka_bootstrap, signals, [(b"u_x", b"\x00\x00\x00\x00\xc9junk")])

    def letters() -> list[tuple[str, str]]:
        rows = db.execute("SELECT source, field FROM dead_letters WHERE source LIKE %s "
                          "OR source LIKE %s ORDER BY source",
                          (f"{pairs}/%", f"{signals}/%")).fetchall()
        return [(source.split("/")[0], field) for source, field in rows]

    found = wait_until(lambda: worker.running() and len(letters()) >= 3 and letters(), 120,
                       "three dead letters from the detection topics")
    assert sorted(topic for topic, _ in found) == sorted([pairs, pairs, signals])
    assert all(field == "(record)" for _, field in found)
    wait_until(lambda: worker.running() and lag(settings) == 0, 120,
               "the worker to move past them")
