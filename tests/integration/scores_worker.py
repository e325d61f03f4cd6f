"""A worker with ``sink_scores`` registered, for tests while ``agents/app.py`` lacks it.

Run as ``python -m tests.integration.scores_worker`` with the worker's environment.
Once the shipped app registers the agent, tests use ``wardstream worker`` instead.
"""

from __future__ import annotations

import logging

from faust.worker import Worker

from agents import sink_scores
from agents.app import create_app
from agents.context import TenantDirectory, WorkerContext
from pipeline.avro import load_schema_map
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import load_config
from pipeline.settings import load_settings
from pipeline.topology import load_topology


def main() -> None:
    settings = load_settings()
    topology = load_topology(settings.topology_file).with_replication(settings.topic_replication)
    app = create_app(settings, topology)
    sink_scores.register(app, WorkerContext(
        settings=settings, topology=topology, schemas=load_schema_map(),
        pseudonyms=Pseudonymizer(settings.master_key()),
        tenants=TenantDirectory(settings.pg_dsn.get_secret_value()),
        config=load_config(settings.score_config_file),
    ))
    worker = Worker(app, loglevel=settings.log_level.lower(), quiet=True, override_logging=True)
    logging.getLogger("faust").setLevel(settings.log_level)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
