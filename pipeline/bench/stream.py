"""``wardstream bench stream``: the detection pipeline through the real broker.

For each worker count asked for, on fresh topics and a fresh consumer group:

1. throughput: a simulated platform is produced to ``events.raw.json`` as a
   backlog (profiles first), the workers start, and the run is timed from the
   group's first commit on the raw topic until every detection topic is
   consumed to its end. Beside it, a bare confluent-kafka consumer drains the
   same raw topic in the same run: the ratio says what the pipeline costs over
   merely reading the bytes;
2. latency: a second platform is offered at 80% of the measured rate; each
   score and alert record's broker timestamp minus its event's produce time
   gives event-to-score and event-to-alert latency (p50, p99).

Figures are printed; nothing is asserted (tests never time things).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from pipeline.avro import load_schema_map
from pipeline.demo.services import Child, free_port, master_key, start
from pipeline.ingest import event_key
from pipeline.kafka import topics
from pipeline.kafka.lag import group_lag
from pipeline.kafka.read import read_to_end
from pipeline.settings import Settings
from pipeline.simulate import SimulationConfig, simulate
from pipeline.storage.migrate import migrate
from pipeline.storage.tenants import add_tenant
from pipeline.topology import Topology, load_topology, prefixed_document

_DETECTION_INPUTS = [("normalize", "json"), ("dedupe", "validated"), ("route", "normalized"),
                     ("pairs", "events"), ("actors", "events"), ("targets", "events"),
                     ("risk", "signals")]
OFFERED_SHARE = 0.8


@dataclass
class StreamFigures:
    workers: int
    events: int
    seconds: float
    bare_events_per_second: float
    latency_events: int
    score_ms: list[float]
    alert_ms: list[float]

    @property
    def per_worker(self) -> float:
        return self.events / self.seconds / self.workers if self.seconds else 0.0


@dataclass
class _Run:
    settings: Settings
    prefix: str
    topology_file: Path
    topology: Topology
    home: Path

    def port(self, agent: str, direction: str, name: str) -> str:
        return self.topology.port(agent, direction, name)  # type: ignore[arg-type]


def _records(events: list[dict[str, Any]]) -> list[tuple[bytes, bytes, str]]:
    profiles = [e for e in events if e["type"] == "profile"]
    others = [e for e in events if e["type"] != "profile"]
    return [(event_key(e["tenant_id"], e["event_id"]), json.dumps(e).encode(),
             f"{e['tenant_id']}/{e['event_id']}") for e in profiles + others]


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, str]],
             rate: float | None = None) -> dict[str, float]:
    """Produce; with ``rate``, paced to that many records a second. Send times by id."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    sent_at: dict[str, float] = {}
    began = time.monotonic()
    wall_began = time.time()
    for index, (key, value, ident) in enumerate(records):
        if rate is not None:
            due = began + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sent_at[ident] = wall_began + (time.monotonic() - began)
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    producer.flush(60)
    return sent_at


def _drain_rate(bootstrap: str, topic: str) -> tuple[int, float]:
    """(records, records per second) for a bare consumer reading ``topic`` start to end."""
    began = time.monotonic()
    count = sum(1 for _ in read_to_end(bootstrap, topic))
    return count, count / (time.monotonic() - began)


def _stamps(bootstrap: str, topic: str, since_ms: int) -> list[tuple[str, float]]:
    """(tenant/event id, broker timestamp in s) of the records of ``topic`` since ``since_ms``."""
    schemas = load_schema_map()
    out = []
    for message in read_to_end(bootstrap, topic):
        _, stamp = message.timestamp()
        if stamp >= since_ms and message.value() is not None:
            record = schemas.decode(message.value())[1]
            out.append((f"{record['tenant_id']}/{record['event_id']}", stamp / 1000))
    return out


@contextmanager
def _workers(run: _Run, count: int) -> Iterator[list[Child]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    env.update({
        "WARDSTREAM_KAFKA_BOOTSTRAP": run.settings.kafka_bootstrap,
        "WARDSTREAM_PG_DSN": run.settings.pg_dsn.get_secret_value(),
        "WARDSTREAM_PSEUDONYM_MASTER_KEY": master_key(run.settings, run.home),
        "WARDSTREAM_TOPOLOGY_FILE": str(run.topology_file),
        "WARDSTREAM_APP_ID": f"wardstream-{run.prefix}",
        "WARDSTREAM_TRAINER_ENABLED": "false",
        "WARDSTREAM_LOG_LEVEL": "WARNING",
    })
    children = []
    try:
        for index in range(count):
            child_env = dict(env, WARDSTREAM_WORKER_DATA_DIR=str(run.home / f"worker-{index}"),
                             WARDSTREAM_WORKER_WEB_PORT=str(free_port()))
            children.append(start(f"worker {index}", ["worker"], child_env,
                                  run.home / f"worker-{index}.log"))
        yield children
    finally:
        for child in children:
            child.stop()


def _prepare(settings: Settings, home: Path) -> _Run:
    prefix = f"bench{secrets.token_hex(3)}"
    document = yaml.safe_load(settings.topology_file.read_text(encoding="utf-8"))
    topology_file = home / "topics.yaml"
    topology_file.write_text(yaml.safe_dump(prefixed_document(document, prefix)),
                             encoding="utf-8")
    topology = load_topology(topology_file)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics.apply(admin, topics.plan(topology, topics.describe(admin, sorted(topology.topics))))
    return _Run(settings, prefix, topology_file, topology, home)


def _wait(check: Any, timeout: float, children: list[Child], what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            child.check()
        if check():
            return
        time.sleep(0.25)
    raise TimeoutError(f"bench stream: {what} did not happen within {timeout:.0f} s")


def measure(settings: Settings, workers: int, users: int, weeks: int, seed: int,
            latency_seconds: float) -> StreamFigures:
    migrate(settings.pg_dsn.get_secret_value())
    with tempfile.TemporaryDirectory(prefix="wardstream-bench-") as tmp:
        run = _prepare(settings, Path(tmp))
        tenant = f"bench-{run.prefix}"
        with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
            add_tenant(conn, tenant)
        raw = run.port("normalize", "reads", "json")
        inputs = [run.port(a, "reads", p) for a, p in _DETECTION_INPUTS]
        backlog = simulate(SimulationConfig(seed=seed, users=users, weeks=weeks,
                                            tenant_id=tenant)).events
        _produce(settings.kafka_bootstrap, raw, _records(backlog))
        bare_count, bare_rate = _drain_rate(settings.kafka_bootstrap, raw)
        group = f"wardstream-{run.prefix}"
        with _workers(run, workers) as children:
            _wait(lambda: group_lag(settings.kafka_bootstrap, group, [raw]) < bare_count,
                  180, children, "the workers' first commit")
            began = time.monotonic()
            _wait(lambda: group_lag(settings.kafka_bootstrap, group, inputs) == 0,
                  3600, children, "the backlog to be consumed")
            seconds = time.monotonic() - began
            rate = bare_count / seconds
            live = simulate(SimulationConfig(seed=seed + 1, users=users, weeks=weeks,
                                             tenant_id=tenant, groomer_share=0.05)).events
            live = [dict(e, event_id=f"live-{e['event_id']}") for e in live]
            wanted = int(rate * OFFERED_SHARE * latency_seconds)
            records = _records(live)[:wanted]
            since_ms = int(time.time() * 1000)
            sent_at = _produce(settings.kafka_bootstrap, raw, records, rate * OFFERED_SHARE)
            _wait(lambda: group_lag(settings.kafka_bootstrap, group, inputs) == 0,
                  600, children, "the offered load to be consumed")
        score_ms = [1000 * (stamp - sent_at[ident]) for ident, stamp in
                    _stamps(settings.kafka_bootstrap, run.port("risk", "writes", "scores"),
                            since_ms) if ident in sent_at]
        alert_ms = [1000 * (stamp - sent_at[ident]) for ident, stamp in
                    _stamps(settings.kafka_bootstrap, run.port("risk", "writes", "alerts"),
                            since_ms) if ident in sent_at]
        return StreamFigures(workers, bare_count, seconds, bare_rate, len(records),
                             score_ms, alert_ms)


def _percentile(values: list[float], share: float) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))]:.0f}"


def render(figures: list[StreamFigures]) -> str:
    lines = [
        "wardstream bench stream: raw JSON events -> scores through the real broker",
        "",
        "| workers | events | seconds | events/s per worker | bare consumer events/s | "
        "pipeline / bare | offered events | event->score ms p50 / p99 (n) | "
        "event->alert ms p50 / p99 (n) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.workers} | {f.events:,} | {f.seconds:.1f} | {f.per_worker:,.0f} | "
            f"{f.bare_events_per_second:,.0f} | "
            f"{f.per_worker * f.workers / f.bare_events_per_second:.3f} | {f.latency_events:,} | "
            f"{_percentile(f.score_ms, 0.5)} / {_percentile(f.score_ms, 0.99)} "
            f"({len(f.score_ms)}) | {_percentile(f.alert_ms, 0.5)} / "
            f"{_percentile(f.alert_ms, 0.99)} ({len(f.alert_ms)}) |")
    lines += ["", "targets: >= 5,000 events/s per worker; p99 event->alert < 500 ms at 80% "
              "of that rate", f"median of all score latencies: "
              f"{statistics.median([m for f in figures for m in f.score_ms]):.0f} ms"
              if any(f.score_ms for f in figures) else ""]
    return "\n".join(lines)
