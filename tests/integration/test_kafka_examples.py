"""The Kafka-native examples in examples/kafka/ run against the real broker.

docs/kafka.md tells platform engineers to use them; these tests run each one
as a platform would (a subprocess, its own dependencies only) and check what
it wrote to or read from the topics.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from pipeline.avro import load_schema_map
from pipeline.settings import Settings
from pipeline.topology import load_topology
from tests.integration.helpers import produce
from tests.integration.streams import read_topic
from tests.unit.events import message

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "kafka"
SCORE_SCHEMA_ID, ALERT_SCHEMA_ID = 202, 203


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=EXAMPLES,
                          capture_output=True, text=True, timeout=120, check=False)


def _events(tenant_id: str, count: int, prefix: str) -> list[dict[str, Any]]:
    return [message(tenant_id=tenant_id, event_id=f"{prefix}-{i}", actor_id=f"u-{i % 3}",
                    recipient_ids=[f"u-{i % 3 + 10}"], content=f"good game {i}")
            for i in range(count)]


def test_produce_sends_avro_framed_events_keyed_by_event_id(
    settings: Settings, tmp_path: Path, raw_avro_topic: str,
) -> None:
    events = _events("t-examples", 6, "avro")
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    done = _run("produce_events.py", str(source), "--bootstrap", settings.kafka_bootstrap,
                "--format", "avro", "--topic", raw_avro_topic)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sent 6 events to {raw_avro_topic}"
    got = {key: record for key, record in read_topic(settings.kafka_bootstrap, raw_avro_topic)
           if record.get("tenant_id") == "t-examples"}
    assert {key.decode() for key in got if key is not None} == {e["event_id"] for e in events}
    for event in events:
        assert got[event["event_id"].encode()]["content"] == event["content"]


def test_produce_refuses_a_line_that_is_not_an_event_and_names_it(
    settings: Settings, tmp_path: Path, raw_json_topic: str,
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"event_id": "x", "type": "message"}\n[1, 2]\n', encoding="utf-8")
    done = _run("produce_events.py", str(source), "--bootstrap", settings.kafka_bootstrap,
                "--topic", raw_json_topic)
    assert done.returncode == 2
    assert "line 2" in done.stderr


def _score(tenant_id: str, actor: str, score: float, tier: str) -> dict[str, Any]:
    return {"score_id": f"s-{actor}-{score}", "tenant_id": tenant_id, "actor": actor,
            "score": score, "tier": tier, "previous_tier": "trusted", "at_us": 1, "event_id": "e",
            "max_score": score, "first_alert_at_us": None, "explanation": "", "drivers": []}


def test_consume_prints_alerts_and_newest_scores_and_skips_tombstones(
    settings: Settings,
) -> None:
    topology = load_topology(settings.topology_file)
    alerts = topology.port("risk", "writes", "alerts")
    latest = topology.port("risk", "writes", "latest")
    schemas = load_schema_map()
    alert = {"alert_id": "a-1", "tenant_id": "t-examples", "actor": "p-1", "tier": "restrict",
             "score": 81.5, "raised_at_us": 1, "event_id": "e-1",
             "explanation": "asked age; secrecy", "drivers": []}
    produce(settings.kafka_bootstrap, alerts,
            [(b"t-examples/p-1", schemas.encode(ALERT_SCHEMA_ID, alert))])
    produce(settings.kafka_bootstrap, latest, [
        (b"t-examples/p-1", schemas.encode(SCORE_SCHEMA_ID,
                                           _score("t-examples", "p-1", 81.5, "restrict"))),
        (b"t-examples/p-2", None),
    ])
    done = _run("consume_alerts.py", "--bootstrap", settings.kafka_bootstrap,
                "--group", f"examples-{time.time_ns()}", "--topics", f"{alerts},{latest}",
                "--from-beginning", "--idle-seconds", "5")
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    ours = [p for p in printed if p["tenant_id"] == "t-examples"]
    assert {"topic": alerts, "alert_id": "a-1", "tenant_id": "t-examples", "user": "p-1",
            "tier": "restrict", "score": 81.5, "explanation": "asked age; secrecy"} in ours
    assert {"topic": latest, "tenant_id": "t-examples", "user": "p-1", "score": 81.5,
            "tier": "restrict"} in ours
    assert len(ours) == 2  # the tombstone printed nothing


def test_replay_range_copies_exactly_the_events_produced_in_the_range(
    settings: Settings, tmp_path: Path, raw_json_topic: str,
) -> None:
    now_ms = int(time.time() * 1000)
    before = _events("t-range", 3, "before")
    inside = _events("t-range", 4, "inside")
    after = _events("t-range", 2, "after")

    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
    for events, at_ms in ((before, now_ms - 3_600_000), (inside, now_ms - 1_800_000),
                          (after, now_ms - 60_000)):
        for event in events:  # broker timestamps as if produced back then
            producer.produce(raw_json_topic, key=event["event_id"].encode(),
                             value=json.dumps(event).encode(), timestamp=at_ms)
    assert producer.flush(30) == 0
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now_ms - 2_400_000) / 1000))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((now_ms - 1_200_000) / 1000))
    out = tmp_path / "range.jsonl"
    done = _run("replay_range.py", "--bootstrap", settings.kafka_bootstrap, "--topic",
                raw_json_topic, "--from", start, "--to", end, "--out", str(out))
    assert done.returncode == 0, done.stderr
    copied = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ours = [e["event_id"] for e in copied if e.get("tenant_id") == "t-range"]
    assert sorted(ours) == sorted(e["event_id"] for e in inside)


def test_replay_range_refuses_a_time_without_a_zone(
    settings: Settings, tmp_path: Path, raw_json_topic: str,
) -> None:
    done = _run("replay_range.py", "--bootstrap", settings.kafka_bootstrap, "--topic",
                raw_json_topic, "--from", "2026-11-01T00:00:00", "--to", "2026-11-02T00:00:00Z",
                "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2
    assert "--from" in done.stderr and "time zone" in done.stderr
