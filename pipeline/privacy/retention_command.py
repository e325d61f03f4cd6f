"""``wardstream retention run [--dry-run] [--every SECONDS]`` and ``wardstream retention report``.

``run`` enforces the retention policy (pipeline/privacy/retention.yaml or
``WARDSTREAM_RETENTION_CONFIG_FILE``) once, or every ``--every`` seconds until
stopped (the timer; cron calling ``run`` daily does the same); ``--dry-run``
counts and changes nothing. ``report`` prints, per data class, the oldest
row's age, rows past the limit, rows kept by a legal hold, and the last run.
``--tenant`` (repeatable) limits either to some tenants. Output is JSON.
Exit codes: 0 done, 1 the database refused, 2 configuration (the message
names the key).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Final

import psycopg

from pipeline.errors import ConfigError
from pipeline.privacy.errors import PrivacyError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="retention_action", required=True, metavar="ACTION")
    run_parser = actions.add_parser("run", help="remove what is past its retention")
    run_parser.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    run_parser.add_argument("--every", type=float, metavar="SECONDS",
                            help="run again every SECONDS until stopped")
    report_parser = actions.add_parser("report", help="per class: oldest row, rows past "
                                       "the limit, last run")
    for sub in (run_parser, report_parser):
        sub.add_argument("--tenant", action="append", dest="tenants", metavar="TENANT",
                         help="only this tenant (repeatable); default: every tenant")


def _say(message: str) -> None:
    print(f"wardstream retention: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from pipeline.privacy.policy import policy_from_settings
    from pipeline.privacy.retention import report, run_once
    from pipeline.settings import load_settings

    try:
        settings = load_settings()
        policy = policy_from_settings(settings)
    except ConfigError as exc:
        _say(f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    dsn = settings.pg_dsn.get_secret_value()
    try:
        while True:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                now = datetime.now(UTC)
                if args.retention_action == "report":
                    print(json.dumps(report(conn, now, policy, tenants=args.tenants),
                                     indent=2, sort_keys=True))
                    return EXIT_OK
                result = run_once(conn, now, policy, dry_run=args.dry_run,
                                  tenants=args.tenants)
                print(json.dumps(result.as_dict(), sort_keys=True), flush=True)
            if not args.every or stop.wait(args.every):
                return EXIT_OK
    except PrivacyError as exc:
        _say(str(exc))
        return EXIT_FAILED
    except psycopg.Error as exc:
        _say(f"database: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return EXIT_FAILED
