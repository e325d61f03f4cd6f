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


def run(args: argparse.Namespace) -> int:
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
