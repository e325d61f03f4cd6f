"""``wardstream erase --tenant T --user U --reason R --requested-by W``: erase one user.

Prints the receipt (JSON) on stdout; the same receipt is stored in
``erasure_requests`` and returned by ``POST /v1/erasure``. The raw user id is
never printed or logged. Exit codes: 0 done, 1 the database or Kafka refused
(nothing in PostgreSQL changed when Kafka did), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Final

import psycopg

from pipeline.errors import ConfigError
from pipeline.privacy.errors import InvalidErasureRequest, PrivacyError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant id")
    parser.add_argument("--user", required=True, help="the platform's user id to erase")
    parser.add_argument("--reason", default="erasure request (CLI)",
                        help="why (e.g. the ticket of the person's request)")
    parser.add_argument("--requested-by", default="operator (CLI)",
                        help="who asked for it (kept in the receipt and as an audit commitment)")


def _say(message: str) -> None:
    print(f"wardstream erase: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from pipeline.privacy.erasure import erase
    from pipeline.privacy.requests import erasure_request
    from pipeline.settings import load_settings
    from pipeline.topology import load_topology

    try:
        settings = load_settings()
        master_key = settings.master_key()
        topology = load_topology(settings.topology_file)
        wanted = erasure_request({"user_id": args.user, "reason": args.reason,
                                  "requested_by": args.requested_by})
    except InvalidErasureRequest as exc:
        _say(f"{exc.field}: {exc.message}")
        return EXIT_CANNOT_RUN
    except ConfigError as exc:
        _say(f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    try:
        with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True,
                             connect_timeout=10) as conn:
            receipt = erase(conn, args.tenant, wanted, master_key=master_key,
                            topology=topology, bootstrap=settings.kafka_bootstrap,
                            now=datetime.now(UTC),
                            kafka_timeout=settings.erasure_kafka_timeout_seconds)
    except PrivacyError as exc:
        _say(str(exc))
        return EXIT_FAILED
    except psycopg.Error as exc:
        _say(f"database: {type(exc).__name__}")
        return EXIT_FAILED
    print(json.dumps(receipt, indent=2, sort_keys=True))
    return EXIT_OK
