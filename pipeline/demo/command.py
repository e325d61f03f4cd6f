"""``wardstream demo``: a simulated platform streamed through the real pipeline.

Steps: migrate the database, apply the topics, register a fresh demo tenant
with an ingest key, simulate a platform, start a worker and the API, send the
first events over HTTP and the rest straight to Kafka (plus three malformed
records), wait until PostgreSQL holds every event and the detection agents
have consumed everything, then print the users the stream flagged (from the
review queue) with their explanations, the evaluation beside the word-list
baseline, and where to look next. The worker and API stop at the end; ``make down PURGE=1``
removes the stack and its data.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from confluent_kafka.admin import AdminClient

from pipeline.demo import stored
from pipeline.demo.feed import malformed_lines, post_events, write_lines
from pipeline.demo.services import Child, DemoError, free_port, master_key, start, wait_for_port
from pipeline.errors import WardstreamError
from pipeline.evaluate.baseline import word_list_predictions
from pipeline.evaluate.metrics import Prediction, evaluate, messages_towards_victims
from pipeline.evaluate.table import render
from pipeline.evidence.builder import build_pending
from pipeline.kafka import topics
from pipeline.kafka.feed import produce_file
from pipeline.kafka.lag import consumed_topics, group_lag
from pipeline.settings import REPO_ROOT, Settings, load_settings
from pipeline.simulate import SimulationConfig, simulate
from pipeline.storage.migrate import migrate
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.topology import Topology, load_topology

HTTP_EVENTS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=42, help="simulator seed (default 42)")
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for the pipeline to store every event")


def _step(number: int, text: str) -> None:
    print(f"[{number}/7] {text}", flush=True)


def _bar(done: int, total: int, suffix: str) -> None:
    width = 40
    filled = width * done // max(total, 1)
    bar = "#" * filled + "." * (width - filled)
    sys.stdout.write(f"\r      [{bar}] {done:,}/{total:,} {suffix}")
    sys.stdout.flush()


def _children_env(settings: Settings, key: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        WARDSTREAM_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        WARDSTREAM_PG_DSN=settings.pg_dsn.get_secret_value(),
        WARDSTREAM_PSEUDONYM_MASTER_KEY=key,
        WARDSTREAM_WORKER_DATA_DIR=str(workdir / "worker"),
        WARDSTREAM_WORKER_WEB_PORT=str(free_port()),
        WARDSTREAM_LOG_LEVEL="WARNING",
    )
    return env


def _wait_stored(conn: psycopg.Connection, tenant: str, expected: int, since: datetime,
                 children: list[Child], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    stored_events = 0
    while time.monotonic() < deadline:
        for child in children:
            child.check()
        stored_events, letters = stored.counts(conn, tenant, since)
        _bar(stored_events, expected, f"events stored, {letters} dead letters")
        if stored_events >= expected and letters >= 3:
            print()
            return letters
        time.sleep(0.5)
    print()
    raise DemoError(f"only {stored_events:,} of {expected:,} events were stored within "
                    f"{timeout:.0f}s; see the worker log")


def _wait_detected(settings: Settings, topology: Topology, children: list[Child],
                   timeout: float) -> None:
    """Until every agent has consumed its input to the end (the scores are final)."""
    inputs = consumed_topics(topology)
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        for child in children:
            child.check()
        lag = group_lag(settings.kafka_bootstrap, settings.app_id, inputs)
        first = lag if first is None else max(first, lag)
        _bar(first - lag, first, "records through detection")
        if lag == 0:
            print()
            return
        time.sleep(0.5)
    print()
    raise DemoError(f"detection still had records to consume after {timeout:.0f}s; "
                    "see the worker log")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (WardstreamError, psycopg.Error, OSError) as exc:
        print(f"\nwardstream demo: {exc}".rstrip(), file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    dsn = settings.pg_dsn.get_secret_value()
    workdir = REPO_ROOT / ".local" / "demo"
    started = datetime.now(UTC)

    _step(1, "database migrations")
    applied = migrate(dsn)
    print(f"      {', '.join(applied) if applied else 'up to date'}")

    _step(2, "Kafka topics from topologies/topics.yaml")
    topology = load_topology(settings.topology_file).with_replication(settings.topic_replication)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    plan = topics.plan(topology, topics.describe(admin, sorted(topology.topics)))
    topics.apply(admin, plan)
    print(f"      {len(plan.create)} created, {len(topology.topics)} declared")

    tenant = f"demo-{secrets.token_hex(3)}"
    _step(3, f"tenant {tenant} with an ingest API key")
    with psycopg.connect(dsn, autocommit=True) as conn:
        add_tenant(conn, tenant, "wardstream demo")
        api_key = create_key(conn, tenant, ["ingest"], "demo")

    _step(4, f"simulated platform: seed {args.seed}, {args.users} users, {args.weeks} weeks")
    result = simulate(SimulationConfig(seed=args.seed, users=args.users, weeks=args.weeks,
                                       tenant_id=tenant))
    groomers = sum(1 for t in result.truth if t["is_groomer"])
    print(f"      {len(result.events):,} events ({result.duplicates} deliberate retries), "
          f"{len(result.truth):,} users, {groomers} of them groomers (ground truth kept aside)")
    unique = len({e["event_id"] for e in result.events})

    # A fresh state directory: the worker restores its tables from the changelog
    # topics, and a directory left by a run against other topics would refuse to open.
    shutil.rmtree(workdir / "worker", ignore_errors=True)
    env = _children_env(settings, master_key(settings, workdir.parent), workdir)
    api_port = free_port()
    worker = start("worker", ["worker"], env, workdir / "worker.log")
    api = start("API", ["api", "--port", str(api_port)], env, workdir / "api.log")
    children = [worker, api]
    try:
        _step(5, "streaming through the pipeline (worker and API started)")
        wait_for_port(api, api_port)
        base = f"http://127.0.0.1:{api_port}"
        accepted = post_events(base, api_key, result.events[:HTTP_EVENTS])
        print(f"      {accepted:,} events POSTed to {base}/v1/events (202 Accepted)")
        rest = workdir / f"{tenant}.jsonl"
        write_lines(rest, result.events[HTTP_EVENTS:], malformed_lines(tenant))
        print(f"      {len(result.events) - HTTP_EVENTS + 3:,} records to events.raw.json "
              "(3 of them deliberately malformed)")
        produce_file(rest, settings, progress=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            letters = _wait_stored(conn, tenant, unique, started, children, args.timeout)
            reasons = stored.dead_letter_reasons(conn, started)
            _wait_detected(settings, topology, children, args.timeout)
            raw_ids = stored.raw_user_ids(conn, tenant)
            flagged = stored.flagged_by_stream(conn, tenant, raw_ids)
    finally:
        for child in children:
            child.stop()
    print(f"      every event stored once ({unique:,} after removing "
          f"{len(result.events) - unique} repeats); {letters} dead letters:")
    for reason in reasons[:5]:
        print(f"        - {reason}")

    _step(6, "who the stream flagged (risk agent -> alerts -> review queue in PostgreSQL)")
    roles = {t["actor_id"]: t["role"] for t in result.truth}
    print(f"      {len(flagged)} users reached the alert tier:\n")
    for user in flagged:
        when = (_EPOCH.timestamp() + user.first_alert_us / 1e6)
        print(f"  {user.actor_id}  {user.tier} {user.score:.0f} (max {user.max_score:.0f}),"
              f" first alert {datetime.fromtimestamp(when, UTC):%Y-%m-%d %H:%M} UTC"
              f"   [ground truth: {roles.get(user.actor_id, '?')}]")
        for line in textwrap.wrap(user.explanation, 96):
            print(f"      {line}")
        print()
    with psycopg.connect(dsn, autocommit=True) as conn:
        packages = build_pending(conn, tenant_id=tenant, limit=len(flagged) * 4 + 10)
    print(f"      evidence preserved: {len(packages)} package(s), one per alert, each with the"
          " events around it and their SHA-256 (docs/evidence.md)\n")

    _step(7, "evaluation against the ground truth, beside a word-list filter")
    flagged_at = {u.actor_id: u.first_alert_us for u in flagged}
    predictions = [
        Prediction(actor_id, datetime.fromtimestamp(flagged_at[actor_id] / 1e6, UTC)
                   if actor_id in flagged_at else None)
        for actor_id in sorted(set(raw_ids.values()))
    ]
    sent = messages_towards_victims(result.events, result.truth)
    reports = {
        "wardstream": evaluate(predictions, result.truth, sent),
        "word list": evaluate(word_list_predictions(result.events), result.truth, sent),
    }
    print(render(f"seed {args.seed}", len(result.events), len(result.events) - unique,
                 result.truth, reports, []))
    print(_where_next(dsn, tenant, settings.kafka_bootstrap, rest, workdir))
    return 0


def _where_next(dsn: str, tenant: str, bootstrap: str, replay_file: Path, logs: Path) -> str:
    """Advice printed for a person (the SQL is text to copy, never executed here)."""
    sql_events = f"SELECT type, count(*) FROM events WHERE tenant_id = '{tenant}' GROUP BY 1;"  # noqa: S608
    sql_letters = "SELECT field, rule, reason FROM dead_letters ORDER BY stored_at DESC;"
    sql_queue = ("SELECT actor, score, tier, explanation FROM review_queue "  # noqa: S608
                 f"WHERE tenant_id = '{tenant}' AND status = 'open' ORDER BY score DESC;")
    return "\n".join([
        "",
        "Where to look next:",
        f'  PostgreSQL   psql "{dsn}"',
        f"               {sql_events}",
        f"               {sql_letters}",
        f"               {sql_queue}",
        "  Kafka        topics events.raw.json, events.normalized, events.dlq, identity.map,",
        "               scores, scores.latest (compacted), alerts",
        f"               at {bootstrap}",
        "  API          .venv/bin/wardstream api; with a key from",
        f"               .venv/bin/wardstream keys create {tenant} --scopes ingest,read",
        "               GET /v1/queue, /v1/actors/{id}/score, /v1/actors/{id}/history",
        f"  replay       .venv/bin/wardstream replay {replay_file} --out out/",
        f"  logs         {logs}",
        "  clean up     make down PURGE=1",
    ])
