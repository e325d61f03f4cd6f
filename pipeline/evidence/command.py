"""``wardstream evidence``: build packages for alerts (a loop), destroy expired ones.

    wardstream evidence run [--once]   # the outbox builder, a polling loop
    wardstream evidence expire         # the retention job (run it daily, e.g. from cron)

``run`` polls every ``WARDSTREAM_EVIDENCE_POLL_SECONDS`` (default 2).

Settings come from the environment (docs/evidence.md). Exit codes: 0 done or
stopped by SIGTERM/SIGINT, 1 the database refused, 2 configuration.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Final

import psycopg

from pipeline.errors import ConfigError
from pipeline.evidence.builder import Clock, build_pending, utc_now
from pipeline.evidence.policy import EvidenceConfig, config_from_settings
from pipeline.evidence.retention import expire

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2
BATCH: Final = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="evidence_action", required=True, metavar="ACTION")
    run_parser = actions.add_parser("run", help="build packages for alerts that have none, "
                                    "polling until stopped")
    run_parser.add_argument("--once", action="store_true",
                            help="build what is pending now, then exit")
    actions.add_parser("expire", help="destroy packages whose retention ran out (never one "
                       "under hold), each with an audit record")


def _say(message: str) -> None:
    print(f"wardstream evidence: {message}", file=sys.stderr, flush=True)


def build_loop(dsn: str, config: EvidenceConfig, poll_seconds: float, stop: threading.Event,
               *, once: bool = False, clock: Clock = utc_now) -> int:
    """Build pending packages until ``stop`` is set; a lost connection is retried."""
    total = 0
    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                while not stop.is_set():
                    built = build_pending(conn, config, clock=clock, limit=BATCH)
                    for item in built:
                        if item.created:
                            total += 1
                            print(f"built {item.package_id}", flush=True)
                    if once and len(built) < BATCH:
                        return total
                    if len(built) < BATCH:
                        stop.wait(poll_seconds)
        except psycopg.OperationalError as exc:
            if once:
                raise
            _say(f"database unavailable ({type(exc).__name__}); retrying in {poll_seconds}s")
            stop.wait(poll_seconds)
    return total


def run(args: argparse.Namespace) -> int:
    from pipeline.settings import load_settings

    try:
        settings = load_settings()
        config = config_from_settings(settings)
    except ConfigError as exc:
        _say(f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    dsn = settings.pg_dsn.get_secret_value()
    try:
        if args.evidence_action == "expire":
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                gone = expire(conn)
            for item in gone:
                print(f"destroyed {item.package_id} (retained until "
                      f"{item.retain_until.isoformat()})")
            print(f"{len(gone)} package(s) destroyed")
            return EXIT_OK
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        count = build_loop(dsn, config, settings.evidence_poll_seconds, stop, once=args.once)
        print(f"{count} package(s) built")
        return EXIT_OK
    except psycopg.Error as exc:
        _say(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return EXIT_FAILED
