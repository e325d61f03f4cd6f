"""End to end: replay a small simulated platform and check who is flagged.

Run apart from the fast suite with ``-k simulate``. Thresholds reflect what
the detectors achieve today on the simulator (see docs/detection.md); they
are floors to keep, not targets.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pytest

simulate_module = pytest.importorskip("pipeline.simulate")

from pipeline.replay import add_arguments, run  # noqa: E402

NEVER_FLAGGED = ("coach", "teacher", "tutor", "adult_flirt", "gamer", "minor", "adult")


def test_replay_of_a_simulated_platform(tmp_path: Path) -> None:
    result = simulate_module.simulate(simulate_module.SimulationConfig(
        seed=3, users=700, weeks=5, groomer_share=0.04))
    events = tmp_path / "events.jsonl"
    truth = tmp_path / "truth.jsonl"
    simulate_module.write(result, events, truth)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args([str(events), "--out", str(tmp_path / "out")])) == 0
    flagged = {s["actor_id"] for s in map(json.loads, (tmp_path / "out" / "scores.jsonl")
                                           .read_text().splitlines()) if s["first_alert_at"]}
    people = [json.loads(line) for line in truth.read_text().splitlines()]
    groomers = [p for p in people if p["is_groomer"]]
    caught = sum(1 for p in groomers if p["actor_id"] in flagged)
    false_alarms = Counter(p["role"] for p in people
                           if not p["is_groomer"] and p["actor_id"] in flagged)
    assert groomers
    assert caught / len(groomers) >= 0.4, (caught, len(groomers))
    for role in NEVER_FLAGGED:
        assert false_alarms[role] == 0, (role, false_alarms)
    benign = sum(1 for p in people if not p["is_groomer"])
    assert sum(false_alarms.values()) / benign <= 0.02, false_alarms
