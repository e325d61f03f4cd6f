"""Streaming a simulated platform through workers and comparing with ``wardstream replay``.

Shared by the equivalence test modules; each module gets its own topics and
consumer group from the conftest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from pipeline.ingest import event_key
from pipeline.kafka.lag import group_lag
from pipeline.replay import main as replay_main
from pipeline.score.config import load_config
from pipeline.score.tiers import tier_name, tier_of
from pipeline.settings import Settings
from pipeline.simulate.config import SimulationConfig
from pipeline.simulate.engine import simulate
from pipeline.topology import load_topology
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.helpers import count, produce
from tests.integration.streams import newest_by_key, read_topic

# The trainer would change the text model mid-stream; replay never learns.
NO_TRAINER = {"WARDSTREAM_TRAINER_ENABLED": "false"}
DETECTION_PORTS = [("normalize", "json"), ("dedupe", "validated"), ("route", "normalized"),
                   ("pairs", "events"), ("actors", "events"), ("targets", "events"),
                   ("risk", "signals")]


def platform(tenant_id: str, seed: int) -> list[dict[str, Any]]:
    config = SimulationConfig(seed=seed, users=100, weeks=3, tenant_id=tenant_id,
                              groomer_share=0.05)
    return simulate(config).events


def replay(events: list[dict[str, Any]], tmp_path: Path) -> dict[str, tuple[float, str]]:
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    assert replay_main([str(source), "--out", str(tmp_path / "replay")]) == 0
    rows = [json.loads(line) for line in
            (tmp_path / "replay" / "scores.jsonl").read_text(encoding="utf-8").splitlines()]
    return {row["actor_id"]: (round(row["score"], 1), row["tier"]) for row in rows}


def records(events: list[dict[str, Any]], profiles: bool) -> list[tuple[bytes | None, bytes]]:
    """The profile events, or all the others: platforms create accounts before their
    users talk, so the tests send profiles first (docs/stream.md, profile timing)."""
    return [(event_key(e["tenant_id"], e["event_id"]), json.dumps(e).encode())
            for e in events if (e["type"] == "profile") == profiles]


def lag(settings: Settings) -> int:
    topology = load_topology(settings.topology_file)
    topics = [topology.port(agent, "reads", port) for agent, port in DETECTION_PORTS]
    return group_lag(settings.kafka_bootstrap, settings.app_id, topics)


def stream_scores(settings: Settings, db: psycopg.Connection,
                   tenant_id: str) -> dict[str, tuple[float, str]]:
    topology = load_topology(settings.topology_file)
    latest = newest_by_key(read_topic(settings.kafka_bootstrap,
                                      topology.port("risk", "writes", "latest")))
    raw: dict[str, str] = dict(db.execute(
        "SELECT pseudonym, value FROM identity_map WHERE tenant_id = %s AND kind = 'user'",
        (tenant_id,)).fetchall())
    return {raw[r["actor"]]: (r["score"], r["tier"]) for r in latest.values()
            if r["tenant_id"] == tenant_id}


def compare(stream: dict[str, tuple[float, str]],
             replay: dict[str, tuple[float, str]]) -> None:
    """Scores equal to the tenth; tiers equal unless hysteresis lets the path decide.

    Going down a tier needs the score to fall a margin below its bound, so a final
    score inside that margin holds whichever tier the way there left it, and the
    stream's way (signals of one event applied in up to three batches, sources
    interleaved) is not replay's. Outside the margins the tier is the score's own.
    """
    config = load_config()
    bounds, margin = config.tier_bounds, config.hysteresis_margin
    # Users replay scores at zero may never have had a signal in the stream either.
    expected = {actor: value for actor, value in replay.items()
                if value != (0.0, "trusted") or actor in stream}
    differing = {}
    for actor, (score, tier) in expected.items():
        got_score, got_tier = stream.get(actor, (0.0, "trusted"))
        allowed = {tier_name(t) for t in range(tier_of(score, bounds),
                                                tier_of(score + margin, bounds) + 1)}
        if got_score != score or (got_tier != tier and {got_tier, tier} - allowed):
            differing[actor] = ((got_score, got_tier), (score, tier))
    assert not differing, f"{len(differing)} users differ (stream, replay): {differing}"
    assert set(stream) <= set(replay)
    assert any(tier != "trusted" for _, tier in expected.values()), "nothing to compare"


def settle(settings: Settings, workers: list[Process], db: psycopg.Connection,
            tenant: Tenant, stored: int) -> None:
    wait_until(lambda: all(w.running() for w in workers) and count(db, tenant.tenant_id)
               >= stored, 400, "every event stored")
    wait_until(lambda: all(w.running() for w in workers) and lag(settings) == 0, 300,
               "every detection topic consumed")


def stored_total(events: list[dict[str, Any]]) -> int:
    return len({e["event_id"] for e in events})


def stream_a_platform(settings: Settings, tenant: Tenant, tmp_path: Path, seed: int,
                      workers: list[Process], topic: str,
                      ) -> tuple[int, dict[str, tuple[float, str]]]:
    """Replay a simulated platform, then feed it to running workers: profiles first, and
    the rest once they are routed. The number of distinct events and replay's scores."""
    events = platform(tenant.tenant_id, seed=seed)
    expected = replay(events, tmp_path)
    produce(settings.kafka_bootstrap, topic, records(events, profiles=True))
    wait_until(lambda: all(w.running() for w in workers) and lag(settings) == 0, 180,
               "profiles routed")
    produce(settings.kafka_bootstrap, topic, records(events, profiles=False))
    return stored_total(events), expected
