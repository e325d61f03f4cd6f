"""``wardstream bench core``: the detection core's speed, state size and memory, in-process.

Everything is measured in one process on one file of events:

- the *parse* rate: ``json.loads`` of every line and nothing else, the floor
  any JSON Lines tool pays; it is printed beside the core rate as a ratio so a
  slow or fast machine does not fool the reader;
- the *core* rate: ``Engine.process`` over already normalised events (the
  work a worker does per event after reading it);
- the *replay* rate: parse, validate, pseudonymise and run the core, as
  ``wardstream replay`` does;
- serialised state bytes per pair, actor, target and risk record (what the
  RocksDB tables hold);
- resident memory after each of several passes over the same users (times
  shifted forward), which must stay flat once the key count is fixed.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core import Engine
from pipeline.detect.actor import encode_actor
from pipeline.detect.pair import encode_pair
from pipeline.detect.target import encode_target
from pipeline.model import NormalizedEvent
from pipeline.replay import EventReader
from pipeline.score.risk import encode_risk

_WEEK_US = 7 * 86_400 * 1_000_000


class _Discard:
    def write(self, _: str) -> int:
        return 0


@dataclass(frozen=True)
class CoreBench:
    events: int
    parse_per_s: float
    core_per_s: float
    replay_per_s: float
    state_bytes: dict[str, tuple[int, float]]  # kind -> (keys, mean bytes)
    rss_mib_by_pass: list[float]

    @property
    def rss_growth(self) -> float:
        """Growth of resident memory from the second pass to the last (the first warms up)."""
        if len(self.rss_mib_by_pass) < 3:
            return 0.0
        base = self.rss_mib_by_pass[1]
        return (self.rss_mib_by_pass[-1] - base) / base if base else 0.0


def _rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rate(count: int, work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    return count / elapsed if elapsed > 0 else float("inf")


def _read(lines: Sequence[bytes]) -> tuple[list[NormalizedEvent], EventReader]:
    reader = EventReader(_Discard())  # type: ignore[arg-type]
    for number, line in enumerate(lines, start=1):
        reader.take(number, line)
    return sorted(reader.events, key=lambda e: e.occurred_at_us), reader


def _shifted(events: Sequence[NormalizedEvent], weeks: int, tag: int) -> list[NormalizedEvent]:
    shift = weeks * _WEEK_US
    return [
        dataclasses.replace(e, occurred_at_us=e.occurred_at_us + shift,
                            event_id=f"{e.event_id}#{tag}")
        for e in events
    ]


def _mean_size(states: Sequence[Any], encode: Callable[[Any], bytes]) -> tuple[int, float]:
    if not states:
        return 0, 0.0
    return len(states), statistics.fmean(len(encode(s)) for s in states)


def run_core_bench(lines: Sequence[bytes], passes: int = 3) -> CoreBench:
    parse_rate = _rate(len(lines), lambda: [json.loads(line) for line in lines])
    replay_events: list[NormalizedEvent] = []

    def replay() -> None:
        events, _ = _read(lines)
        Engine().run(events)
        replay_events.extend(events)

    replay_rate = _rate(len(lines), replay)
    events = replay_events
    span_weeks = 1 + (events[-1].occurred_at_us - events[0].occurred_at_us) // _WEEK_US
    engine = Engine()
    rss: list[float] = []
    core_rates: list[float] = []
    for index in range(passes):
        batch = events if index == 0 else _shifted(events, index * span_weeks, index)
        core_rates.append(_rate(len(batch), lambda b=batch: engine.run(b)))  # type: ignore[misc]
        del batch
        rss.append(_rss_mib())
    sizes = {
        "pair": _mean_size(list(engine.pairs.values()), encode_pair),
        "actor": _mean_size(list(engine.actors.values()), encode_actor),
        "target": _mean_size(list(engine.targets.values()), encode_target),
        "risk": _mean_size(list(engine.risks.values()), encode_risk),
    }
    return CoreBench(len(events), parse_rate, core_rates[0], replay_rate, sizes, rss)


def render(bench: CoreBench, source: str) -> str:
    lines = [
        f"wardstream bench core: {source}",
        f"  events                         {bench.events:>12,}",
        f"  json.loads only                {bench.parse_per_s:>12,.0f} lines/s",
        f"  core (Engine.process)          {bench.core_per_s:>12,.0f} events/s"
        f"   = {bench.core_per_s / bench.parse_per_s:.3f} x parse rate",
        f"  replay (parse+validate+core)   {bench.replay_per_s:>12,.0f} events/s"
        f"   = {bench.replay_per_s / bench.parse_per_s:.3f} x parse rate",
        "  serialised state per key:",
    ]
    for kind, (keys, mean) in bench.state_bytes.items():
        lines.append(f"    {kind:<8} {keys:>8,} keys  {mean:>8.1f} bytes on average")
    lines.append("  resident memory after each pass over the same users (MiB): "
                 + ", ".join(f"{m:.0f}" for m in bench.rss_mib_by_pass)
                 + f"  (growth after warm-up {100 * bench.rss_growth:+.1f}%)")
    return "\n".join(lines)


def load_lines(path: Path) -> list[bytes]:
    with path.open("rb") as handle:
        return [line.rstrip(b"\r\n") for line in handle if line.strip()]
