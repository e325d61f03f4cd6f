"""Runs one simulation end to end and writes its two JSON Lines files.

Order matters only for determinism: every scenario draws from its own seeded
stream, and events are sorted by event time at the end.
"""

from __future__ import annotations

import json
import os
import random

from pipeline.simulate import benign, grooming, reports, sessions, social
from pipeline.simulate.config import JsonDict, SimulationConfig, SimulationResult
from pipeline.simulate.emit import EventLog
from pipeline.simulate.population import build_population
from pipeline.simulate.timeline import Clock
from pipeline.simulate.truth import build_truth
from pipeline.simulate.world import World


def simulate(config: SimulationConfig) -> SimulationResult:
    """Generate the events and ground truth `config` describes; depends on the seed only."""
    clock = Clock(config.start, config.weeks)
    users = build_population(config, random.Random(f"{config.seed}:population"), clock.start_ts)
    log = EventLog(config.tenant_id, clock, random.Random(f"{config.seed}:emit"))
    world = World(config, users, clock, log)
    sessions.profiles(world, world.rng("profiles"))
    social.generate(world)
    benign.generate(world)
    plan = grooming.generate(world)
    reviewers = reports.generate(world, plan)
    world.apply_joins()
    sessions.sessions(world, world.rng("sessions"))
    everyone = users + reviewers
    events, duplicates = log.finalize({u.actor_id: u.tz for u in everyone},
                                      config.duplicate_share)
    return SimulationResult(events, build_truth(config.tenant_id, everyone, plan), duplicates)


def write(result: SimulationResult, events_path: str | os.PathLike[str],
          truth_path: str | os.PathLike[str]) -> None:
    """Write events and truth as JSON Lines (UTF-8, compact separators)."""
    _write_lines(result.events, events_path)
    _write_lines(result.truth, truth_path)


def _write_lines(rows: list[JsonDict], path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
