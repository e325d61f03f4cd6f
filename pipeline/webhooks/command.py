"""``wardstream webhooks``: run the dispatcher, list dead letters, replay a dead delivery.

``run`` sends until SIGTERM or Ctrl-C (``--once`` for a single round); ``dead``
lists dead deliveries of every tenant (or one, with ``--tenant``); ``replay``
sends a dead delivery again with the same delivery id and payload. Settings
come from the environment (WARDSTREAM_PG_DSN, WARDSTREAM_PSEUDONYM_MASTER_KEY,
WARDSTREAM_WEBHOOK_*). Exit codes: 0 done, 1 refused (nothing to replay),
2 cannot run (configuration).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Final

import psycopg

from pipeline.errors import ConfigError
from pipeline.evidence.policy import config_from_settings
from pipeline.settings import Settings, load_settings
from pipeline.webhooks import store
from pipeline.webhooks.dispatcher import DispatchConfig, Dispatcher
from pipeline.webhooks.evidence_hook import evidence_lookup
from pipeline.webhooks.sealing import SecretBox
from pipeline.webhooks.sender import Sender

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_CANNOT_RUN: Final = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="webhooks_action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="deliver alerts to registered endpoints")
    run.add_argument("--once", action="store_true", help="one round, then exit")
    dead = actions.add_parser("dead", help="list dead deliveries (the dead letters)")
    dead.add_argument("--tenant")
    dead.add_argument("--limit", type=int, default=50)
    replay = actions.add_parser("replay", help="send a dead delivery again (same id, payload)")
    replay.add_argument("delivery_id")


def _connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True,
                           connect_timeout=10)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = DispatchConfig.from_settings(settings)
    sender = Sender(timeout_seconds=config.timeout_seconds,
                    allow_private=settings.webhook_allow_private)
    dispatcher = Dispatcher(config, SecretBox(settings.master_key()), sender,
                            evidence=evidence_lookup(config_from_settings(settings)))
    try:
        if args.once:
            with _connect(settings) as conn:
                print(dispatcher.run_once(conn, datetime.now(UTC)))
            return EXIT_OK
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        dispatcher.run_forever(lambda: _connect(settings), stop)
    finally:
        sender.close()
    return EXIT_OK


def _dead(args: argparse.Namespace, settings: Settings) -> int:
    with _connect(settings) as conn:
        found = store.list_deliveries(conn, args.tenant, "dead", args.limit)
    for d in found:
        when = d.dead_at.isoformat() if d.dead_at else "-"
        print(f"{d.delivery_id}\t{d.endpoint_id}\t{when}\tattempts={d.attempts}\t{d.last_error}")
    print(f"{len(found)} dead deliveries", file=sys.stderr)
    return EXIT_OK


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    with _connect(settings) as conn:
        answer = store.replay(conn, args.delivery_id, None, datetime.now(UTC))
    print(f"webhooks replay {args.delivery_id}: {answer.replace('_', ' ')}",
          file=sys.stdout if answer == "replayed" else sys.stderr)
    return EXIT_OK if answer == "replayed" else EXIT_REFUSED


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        action = {"run": _run, "dead": _dead, "replay": _replay}[args.webhooks_action]
        return action(args, settings)
    except ConfigError as exc:
        print(f"wardstream webhooks: configuration: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except psycopg.OperationalError as exc:
        print(f"wardstream webhooks: database unavailable ({type(exc).__name__})",
              file=sys.stderr)
        return EXIT_REFUSED
