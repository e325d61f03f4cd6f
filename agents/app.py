"""Builds the Faust app from settings and registers every agent.

``wardstream worker`` calls :func:`run_worker`; each worker process joins one
consumer group, so adding processes spreads the partitions.
"""

from __future__ import annotations

import logging

import faust
from faust.worker import Worker

from agents import (
    commits,
    dedupe,
    diagnostics,
    erasures,
    fetching,
    flow,
    models,
    normalize,
    risk,
    route,
    sink_postgres,
    sink_scores,
    steps,
    trainer,
)
from agents.acks import ACK_SETTLE_SECONDS, settle_all
from agents.context import TenantDirectory, WorkerContext
from agents.models import ModelHolder
from agents.tables import DurableTable, NamedChangelogGlobalTable
from pipeline.avro import load_schema_map
from pipeline.detect.text.model import load_model
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import load_config
from pipeline.settings import Settings
from pipeline.topology import Topology, load_topology


def create_app(settings: Settings, topology: Topology | None = None) -> faust.App:
    fetching.install()
    commits.install()
    flow.install()
    topology = topology or load_topology(settings.topology_file).with_replication(
        settings.topic_replication
    )
    partitions = topology.topics[topology.port("dedupe", "reads", "validated")].partitions
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://",
        datadir=str(settings.worker_data_dir),
        topic_partitions=partitions,
        topic_replication_factor=next(iter(topology.topics.values())).replication,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # On stop, do not wait for fetched-but-unacked events: agents ack only
        # after their output is delivered, so after they stop such events can
        # never be acked and the wait never ends. They are not committed and
        # will be read again, which is the at-least-once contract.
        stream_wait_empty=False,
        # Faust's default linger of 0 ms sends nearly every record in its own
        # request; profiling showed a fifth of the worker in socket writes.
        producer_linger_ms=settings.worker_producer_linger_ms,
        Table=DurableTable,
        GlobalTable=NamedChangelogGlobalTable,
        web_enabled=True,
        web_port=settings.worker_web_port,
        web_bind="127.0.0.1",
        table_standby_replicas=0,
        broker_commit_interval=1.0,
        # A killed worker's partitions move to the survivors after this long.
        broker_session_timeout=settings.worker_session_timeout_seconds,
        broker_heartbeat_interval=max(1.0, settings.worker_session_timeout_seconds / 4),
    )
    context = WorkerContext(
        settings=settings,
        topology=topology,
        schemas=load_schema_map(),
        pseudonyms=Pseudonymizer(settings.master_key()),
        tenants=TenantDirectory(settings.pg_dsn.get_secret_value()),
        config=load_config(settings.score_config_file),
    )
    holder = ModelHolder(load_model())
    normalize.register(app, context)
    dedupe.register(app, context)
    sink_postgres.register(app, context)
    sink_scores.register(app, context)
    models.register(app, context, holder)
    route.register(app, context, holder)
    steps.register(app, context)
    risk.register(app, context)
    if settings.trainer_enabled:
        trainer.register(app, context, holder)
    erasures.register(app, settings.pg_dsn.get_secret_value(), settings.erasure_poll_seconds)

    @app.task
    async def install_diagnostics() -> None:
        diagnostics.install(app)

    # Agents settle their acks as input arrives; this timer settles what completes
    # while an agent's input is idle (the tail of a burst would otherwise wait).
    @app.timer(ACK_SETTLE_SECONDS)
    async def settle_acks() -> None:
        await settle_all()

    return app


def run_worker(settings: Settings) -> None:
    """Run a worker in the foreground until SIGTERM/SIGINT."""
    app = create_app(settings)
    worker = Worker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        override_logging=True,
    )
    logging.getLogger("faust").setLevel(settings.log_level)
    worker.execute_from_commandline()
