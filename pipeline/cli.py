"""The ``wardstream`` command: one entry point, one small function per subcommand.

Settings are read from the environment here and nowhere else. Errors the
operator can fix print one line naming what is wrong and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import ConfigError, WardstreamError
from pipeline.settings import Settings, load_settings

EXIT_ERROR = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace, Settings], int]

# Commands that need no services or settings: each module has add_arguments and run.
_STANDALONE = (
    ("replay", "pipeline.replay",
     "replay events through the detection core (shared/spec/replay.md)"),
    ("simulate", "pipeline.simulate.command", "write a synthetic platform and its ground truth"),
    ("evaluate", "pipeline.evaluate.command",
     "measure detection against ground truth, beside a word list"),
    ("bench", "pipeline.bench.command", "benchmarks that print figures and ratios"),
    ("demo", "pipeline.demo.command",
     "stream a simulated platform through the local stack and show who is flagged"),
    ("audit", "pipeline.audit.command",
     "the tamper-evident audit log: verify an export offline, export, sign, prove"),
    ("webhooks", "pipeline.webhooks.command",
     "deliver alerts to tenants' webhook endpoints; list and replay dead deliveries"),
    ("ncmec", "pipeline.ncmec.command",
     "NCMEC CyberTipline reports: build for review, submit, status, reconcile"),
    ("erase", "pipeline.privacy.command",
     "erase one user of a tenant (GDPR Art. 17, COPPA); prints the receipt"),
    ("retention", "pipeline.privacy.retention_command",
     "enforce retention per data class and jurisdiction, or report on it"),
    ("ncmec-standin", "pipeline.ncmec.standin",
     "a local stand-in of the CyberTipline Reporting API (tests and demos only)"),
    ("evidence", "pipeline.evidence.command",
     "evidence packages: build them for alerts (run), destroy expired ones (expire)"),
    ("export", "pipeline.exports.command",
     "regulatory exports: DSA statements of reasons, transparency report, OSA record pack"),
    ("duties", "pipeline.duties.command",
     "the periodic duties in one process: evidence, webhooks, audit heads, expiry, retention"),
)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from agents.app import run_worker  # imported here: faust is heavy and only workers need it

    settings.master_key()
    run_worker(settings)
    return 0


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from pipeline.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=False,  # access lines would carry client addresses
    )
    return 0


def _topics_apply(args: argparse.Namespace, settings: Settings) -> int:
    from confluent_kafka.admin import AdminClient

    from pipeline.kafka import topics
    from pipeline.topology import load_topology

    topology = load_topology(settings.topology_file).with_replication(settings.topic_replication)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    plan = topics.plan(topology, topics.describe(admin, sorted(topology.topics)))
    for line in plan.lines():
        print(line)
    if plan.in_sync:
        print(f"topics in sync ({len(topology.topics)} declared)")
        return 0
    if args.check:
        return EXIT_ERROR
    topics.apply(admin, plan)
    if plan.unfixable:
        print("drift that needs a person remains (lines marked DRIFT)", file=sys.stderr)
        return EXIT_ERROR
    print("topics applied")
    return 0


def _db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.storage.migrate import migrate

    applied = migrate(settings.pg_dsn.get_secret_value())
    print(f"migrations applied: {', '.join(applied) if applied else 'none pending'}")
    return 0


def _tenants_add(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from pipeline.storage.tenants import add_tenant

    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        created = add_tenant(conn, args.tenant, args.name)
    print(f"tenant {args.tenant} {'added' if created else 'already registered'}")
    return 0


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from pipeline.storage.tenants import create_key

    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        key = create_key(conn, args.tenant, scopes, args.label)
    print(key)
    print("store it now: it is shown only once", file=sys.stderr)
    return 0


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from pipeline.storage.tenants import revoke_key

    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        revoked = revoke_key(conn, args.key_id)
    print(f"key {args.key_id} {'revoked' if revoked else 'was not active'}")
    return 0 if revoked else EXIT_ERROR


def _produce(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.kafka.feed import produce_file

    count = produce_file(
        Path(args.file), settings, fmt=args.format, progress=not args.quiet
    )
    print(f"produced {count} records")
    return 0


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(prog="wardstream", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {}

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler_name=name)
        handlers[name] = handler
        return sub

    add("worker", _worker, "run a stream worker (Faust) in the foreground")
    api = add("api", _api, "run the HTTP API")
    api.add_argument("--host")
    api.add_argument("--port", type=int)
    topics = add("topics", _topics_apply, "create or reconcile the topics of topologies/")
    topics.add_argument("action", choices=["apply"])
    topics.add_argument("--check", action="store_true", help="report drift, change nothing")
    db = add("db", _db_migrate, "database maintenance")
    db.add_argument("action", choices=["migrate"])
    tenants = add("tenants", _tenants_add, "register a tenant")
    tenants.add_argument("action", choices=["add"])
    tenants.add_argument("tenant")
    tenants.add_argument("--name", default="")
    keys = add("keys", _keys_create, "create an API key for a tenant (printed once)")
    keys.add_argument("action", choices=["create"])
    keys.add_argument("tenant")
    keys.add_argument("--scopes", default="ingest", help="comma-separated: ingest,read,...")
    keys.add_argument("--label", default="")
    revoke = add("revoke-key", _keys_revoke, "revoke an API key by its id")
    revoke.add_argument("key_id")
    produce = add("produce", _produce, "stream a JSON Lines file of events into the raw topic")
    produce.add_argument("file")
    produce.add_argument("--format", choices=["json", "avro"], default="json")
    produce.add_argument("--quiet", action="store_true")
    for name, module_name, help_text in _STANDALONE:
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(handler_name=name, standalone=module.run)
    return parser, handlers


def main(argv: list[str] | None = None) -> int:
    parser, handlers = _build_parser()
    args = parser.parse_args(argv)
    standalone = getattr(args, "standalone", None)
    if standalone is not None:
        return int(standalone(args))
    try:
        settings = load_settings()
        return handlers[args.handler_name](args, settings)
    except ConfigError as exc:
        print(f"wardstream: configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WardstreamError as exc:
        print(f"wardstream: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
