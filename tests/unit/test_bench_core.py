"""wardstream bench core reports consistent figures (never timings as pass/fail)."""

from __future__ import annotations

import json

import pytest

from pipeline.bench.core import render, run_core_bench
from pipeline.cli import main
from pipeline.simulate import SimulationConfig, simulate


def test_bench_core_counts_state_and_memory_per_pass() -> None:
    result = simulate(SimulationConfig(seed=2, users=120, weeks=2))
    lines = [json.dumps(e).encode() for e in result.events]
    bench = run_core_bench(lines, passes=2)
    assert bench.events == len(lines) - result.duplicates
    assert len(bench.rss_mib_by_pass) == 2
    pairs, pair_bytes = bench.state_bytes["pair"]
    assert pairs > 0 and pair_bytes > 0
    assert bench.state_bytes["actor"][0] <= len({e["actor_id"] for e in result.events})
    text = render(bench, "test")
    assert "x parse rate" in text and "bytes on average" in text


def test_bench_rejects_zero_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "core", "--passes", "0"]) == 2
    assert "--passes must be at least 1" in capsys.readouterr().err
