"""``wardstream bench ...``: benchmark commands that print figures and ratios."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.bench.core import load_lines, render, run_core_bench


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    core = which.add_parser("core", help="detection core in-process: events/s, state, memory")
    core.add_argument("--events", type=Path, help="events file (JSON Lines); default: simulate")
    core.add_argument("--seed", type=int, default=1)
    core.add_argument("--users", type=int, default=2000)
    core.add_argument("--weeks", type=int, default=6)
    core.add_argument("--passes", type=int, default=3,
                      help="passes over the same users, to watch memory (>= 1)")
    stream = which.add_parser(
        "stream", help="through the real broker: events/s per worker, latency (needs the stack)")
    stream.add_argument("--users", type=int, default=300)
    stream.add_argument("--weeks", type=int, default=3)
    stream.add_argument("--seed", type=int, default=1)
    stream.add_argument("--workers", default="1,2",
                        help="worker counts to run, comma-separated (default 1,2)")
    stream.add_argument("--latency-seconds", type=float, default=20.0,
                        help="how long to offer load for the latency figures")


def _run_stream(args: argparse.Namespace) -> int:
    from pipeline.bench.stream import measure, render
    from pipeline.errors import WardstreamError
    from pipeline.settings import load_settings

    try:
        counts = [int(part) for part in str(args.workers).split(",")]
    except ValueError:
        print("wardstream bench: --workers must be numbers like 1,2", file=sys.stderr)
        return 2
    if not counts or any(c < 1 or c > 8 for c in counts):
        print("wardstream bench: --workers: each count must be 1..8", file=sys.stderr)
        return 2
    if not 1 <= args.users <= 100_000 or not 1 <= args.weeks <= 52:
        print("wardstream bench: --users must be 1..100000 and --weeks 1..52", file=sys.stderr)
        return 2
    if not 1 <= args.latency_seconds <= 600:
        print("wardstream bench: --latency-seconds must be 1..600", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        figures = [measure(settings, c, args.users, args.weeks, args.seed,
                           args.latency_seconds) for c in counts]
    except (WardstreamError, TimeoutError, OSError) as exc:
        print(f"wardstream bench: {exc}", file=sys.stderr)
        return 1
    print(render(figures))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.bench == "stream":
        return _run_stream(args)
    if args.passes < 1:
        print("wardstream bench: --passes must be at least 1", file=sys.stderr)
        return 2
    if args.events is not None:
        try:
            lines = load_lines(args.events)
        except OSError as exc:
            print(f"wardstream bench: {args.events}: {exc.strerror}", file=sys.stderr)
            return 2
        source = str(args.events)
    else:
        from pipeline.simulate import SimulationConfig, simulate

        result = simulate(SimulationConfig(seed=args.seed, users=args.users, weeks=args.weeks))
        lines = [json.dumps(e, separators=(",", ":")).encode() for e in result.events]
        source = f"simulator seed {args.seed} ({args.users} users, {args.weeks} weeks)"
    print(render(run_core_bench(lines, args.passes), source))
    return 0
