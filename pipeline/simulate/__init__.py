"""Deterministic synthetic platform for tests, demos, evaluation and benchmarks.

`simulate(SimulationConfig(seed=...))` builds a population of minors and adults
with ordinary, hard-benign and grooming behaviour over weeks of event time and
returns events in the platform event contract (events.md, version 1) plus a
separate ground truth; `write` stores both as JSON Lines. `wardstream simulate`
(`pipeline.simulate.command`) is the command-line door. See docs/simulator.md.
"""

from pipeline.simulate.config import SimulationConfig, SimulationResult
from pipeline.simulate.engine import simulate, write
from pipeline.simulate.errors import SimulationConfigError, SimulationError

__all__ = [
    "SimulationConfig",
    "SimulationConfigError",
    "SimulationError",
    "SimulationResult",
    "simulate",
    "write",
]
