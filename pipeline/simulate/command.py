"""`wardstream simulate`: write a synthetic platform's events and ground truth to a directory.

    wardstream simulate --out DIR [--seed N] [--users N] [--weeks N] [--tenant T]
                        [--privacy-share F]

Options are parsed here rather than by argparse types so that every bad value
gives one line naming the option, and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from pipeline.simulate.config import MAX_USERS, MAX_WEEKS, MIN_USERS, SimulationConfig
from pipeline.simulate.engine import simulate, write
from pipeline.simulate.errors import SimulationConfigError

EXIT_USAGE = 2
_OPTION_OF_FIELD = {
    "seed": "--seed",
    "users": "--users",
    "weeks": "--weeks",
    "tenant_id": "--tenant",
    "privacy_share": "--privacy-share",
}


class _BadOption(Exception):
    def __init__(self, option: str, rule: str) -> None:
        self.option = option
        self.rule = rule
        super().__init__(f"{option}: {rule}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `simulate` options to `parser` (values are checked in `run`)."""
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="directory to write events.jsonl and truth.jsonl into (required)")
    parser.add_argument("--seed", metavar="N", default="1", help="random seed (default 1)")
    parser.add_argument("--users", metavar="N", default="2000",
                        help=f"number of users, {MIN_USERS}..{MAX_USERS} (default 2000)")
    parser.add_argument("--weeks", metavar="N", default="6",
                        help=f"weeks of activity, 1..{MAX_WEEKS} (default 6)")
    parser.add_argument("--tenant", metavar="T", default="demo", help="tenant id (default demo)")
    parser.add_argument("--privacy-share", metavar="F", default="0",
                        help="share of users whose clients omit message content, 0..1 (default 0)")


def run(args: argparse.Namespace) -> int:
    """Generate, write and summarise; 0 on success, 2 with a one-line error on bad options."""
    try:
        config = _config(args)
        out = _out_dir(getattr(args, "out", None))
    except _BadOption as error:
        print(f"wardstream simulate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = simulate(config)
    events_path, truth_path = out / "events.jsonl", out / "truth.jsonl"
    try:
        write(result, events_path, truth_path)
    except OSError as error:
        print(f"wardstream simulate: error: --out: cannot write {out}: {error.strerror}",
              file=sys.stderr)
        return EXIT_USAGE
    summary = result.summary()
    print(f"simulated seed {config.seed}: {config.users} users, {config.weeks} weeks, "
          f"tenant {config.tenant_id}")
    print(f"wrote {summary['events']} events to {events_path} "
          f"({summary['duplicates']} duplicate retries)")
    print(f"wrote {summary['truth_rows']} truth rows to {truth_path} "
          f"({summary['groomers']} groomers)")
    print("events by type: " + _counts(summary["by_type"]))
    print("users by role: " + _counts(summary["by_role"]))
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def _out_dir(value: object) -> Path:
    path = Path(str(value))
    if path.exists() and not path.is_dir():
        raise _BadOption("--out", f"{path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _BadOption("--out", f"cannot create {path}: {error.strerror}") from None
    return path


def _config(args: argparse.Namespace) -> SimulationConfig:
    if getattr(args, "out", None) in (None, ""):
        raise _BadOption("--out", "is required (a directory to write into)")
    seed = _integer(getattr(args, "seed", 1), "--seed")
    users = _integer(getattr(args, "users", 2000), "--users")
    weeks = _integer(getattr(args, "weeks", 6), "--weeks")
    share = _number(getattr(args, "privacy_share", 0.0), "--privacy-share")
    try:
        return SimulationConfig(seed=seed, users=users, weeks=weeks,
                                tenant_id=str(getattr(args, "tenant", "demo")),
                                privacy_share=share)
    except SimulationConfigError as error:
        raise _BadOption(_OPTION_OF_FIELD.get(error.field, error.field), error.rule) from None


def _integer(value: object, option: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise _BadOption(option, f"must be an integer, got {value!r}") from None


def _number(value: object, option: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise _BadOption(option, f"must be a number, got {value!r}") from None
    if math.isnan(number):
        raise _BadOption(option, "must be a number, got nan")
    return number
